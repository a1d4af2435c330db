//! `NAME_FILE`: every secret variable may be given as the path of a file holding
//! it, as Docker and Kubernetes secrets are mounted, so that the secret itself is
//! never in the environment.

use super::{invalid, ConfigError};

/// The variables that hold secrets: (configuration key, variable name).
const SECRET_VARIABLES: &[(&str, &str)] = &[
    ("jwt_secret", "JWT_SECRET"),
    ("database_url", "DATABASE_URL"),
    ("redis_url", "REDIS_URL"),
    ("redis_password", "REDIS_PASSWORD"),
    ("otp_webhook_url", "OTP_WEBHOOK_URL"),
    ("otp_webhook_token", "OTP_WEBHOOK_TOKEN"),
    ("vapid_private_key", "VAPID_PRIVATE_KEY"),
    ("smtp_url", "SMTP_URL"),
    ("turn_secret", "TURN_SECRET"),
];

/// The secrets given as files: (key, file contents without the trailing newline).
pub(super) fn read(config: &config::Config) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let mut secrets = Vec::new();
    for &(key, var) in SECRET_VARIABLES {
        let Ok(path) = config.get_string(&format!("{key}_file")) else { continue };
        let path = path.trim();
        if path.is_empty() {
            continue;
        }
        if config.get_string(key).is_ok_and(|value| !value.trim().is_empty()) {
            return Err(invalid(var, format!("is set twice: give {var} or {var}_FILE, not both")));
        }
        let contents = std::fs::read_to_string(path)
            .map_err(|error| invalid(var, format!("{var}_FILE {path:?} cannot be read: {error}")))?;
        // Files written by editors and `echo` end in a newline, which is not part of the secret.
        let value = contents.trim_end_matches(['\n', '\r']).to_owned();
        if value.trim().is_empty() {
            return Err(invalid(var, format!("{var}_FILE {path:?} is empty")));
        }
        secrets.push((key, value));
    }
    Ok(secrets)
}
