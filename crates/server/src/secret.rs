//! The token signing secret: configured, or generated once per data directory in
//! development so that `cargo run` is safe without set-up and logins survive restarts.

use crate::config::Config;
use rand::RngCore;
use secrecy::SecretString;

pub(crate) const SECRET_FILE: &str = "jwt-secret";

pub fn signing_secret(config: &Config) -> std::io::Result<SecretString> {
    if let Some(secret) = &config.auth.jwt_secret {
        return Ok(secret.clone());
    }
    let path = config.data_dir.join(SECRET_FILE);
    let (secret, generated) = crate::data_dir::kept_secret(&path, || {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Ok(hex::encode(bytes))
    })?;
    if generated {
        tracing::info!(path = %path.display(), "generated a token signing secret for development");
    }
    Ok(SecretString::from(secret))
}
