//! The VAPID key that identifies this server to push services: configured, or in
//! development generated once per data directory like the token secret, so that
//! subscriptions survive restarts. Production without one runs with push off.

use crate::config::{Config, RunMode};
use chitchat_push_web::{VapidKey, VapidKeyError};
use secrecy::ExposeSecret;
use std::path::Path;
use thiserror::Error;

pub(crate) const KEY_FILE: &str = "vapid-private-key";
/// The contact named when `VAPID_SUBJECT` is not set in development.
const DEVELOPMENT_SUBJECT: &str = "mailto:chitchat@localhost";

#[derive(Debug, Error)]
pub enum PushKeyError {
    #[error(transparent)]
    Key(#[from] VapidKeyError),
    #[error("{path}: the kept VAPID key")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The key, or None when push is off.
pub fn vapid_key(config: &Config) -> Result<Option<VapidKey>, PushKeyError> {
    let push = &config.push;
    match (&push.vapid_private_key, push.vapid_subject.as_deref(), config.mode) {
        (Some(key), Some(subject), _) => Ok(Some(VapidKey::from_private_base64url(key.expose_secret(), subject)?)),
        (Some(key), None, RunMode::Development) => {
            Ok(Some(VapidKey::from_private_base64url(key.expose_secret(), DEVELOPMENT_SUBJECT)?))
        }
        (None, subject, RunMode::Development) => {
            load_or_create(&config.data_dir.join(KEY_FILE), subject.unwrap_or(DEVELOPMENT_SUBJECT)).map(Some)
        }
        (_, _, RunMode::Production) => {
            tracing::warn!("push notifications are off: set VAPID_PRIVATE_KEY and VAPID_SUBJECT to turn them on");
            Ok(None)
        }
    }
}

fn load_or_create(path: &Path, subject: &str) -> Result<VapidKey, PushKeyError> {
    let file_error = |source| PushKeyError::File { path: path.display().to_string(), source };
    let (private, generated) = crate::data_dir::kept_secret(path, || {
        VapidKey::generate(subject).map(|key| key.private_base64url()).map_err(std::io::Error::other)
    })
    .map_err(file_error)?;
    if generated {
        tracing::info!(path = %path.display(), "generated a VAPID key for development");
    }
    Ok(VapidKey::from_private_base64url(&private, subject)?)
}

/// `chitchat vapid-key`: a new key pair, for operators to put in `VAPID_PRIVATE_KEY`.
pub fn print_new_key() -> std::process::ExitCode {
    match VapidKey::generate(DEVELOPMENT_SUBJECT) {
        Ok(key) => {
            println!("VAPID_PRIVATE_KEY={}", key.private_base64url());
            println!("# public key (GET /api/push/key serves it): {}", key.public_base64url());
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("chitchat: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
