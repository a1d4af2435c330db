//! The token signing secret: configured, or generated once per data directory in
//! development so that `cargo run` is safe without set-up and logins survive restarts.

use crate::config::Config;
use rand::RngCore;
use secrecy::SecretString;
use std::io::Write;
use std::path::Path;

pub(crate) const SECRET_FILE: &str = "jwt-secret";

pub fn signing_secret(config: &Config) -> std::io::Result<SecretString> {
    if let Some(secret) = &config.auth.jwt_secret {
        return Ok(secret.clone());
    }
    load_or_create(&config.data_dir.join(SECRET_FILE)).map(SecretString::from)
}

fn load_or_create(path: &Path) -> std::io::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            return Ok(existing.to_owned());
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(secret.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a token signing secret for development");
    Ok(secret)
}
