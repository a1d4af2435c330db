use crate::RelayError;
use deadpool_redis::redis::{ConnectionInfo, IntoConnectionInfo};

/// The pub/sub channel every instance of a deployment shares unless told otherwise.
pub const DEFAULT_CHANNEL: &str = "chitchat:events";

/// Where the relay finds Redis and which channel the instances share.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisRelayConfig {
    /// `redis://[:password@]host[:port][/db]` (`REDIS_URL`).
    pub url: String,
    /// Replaces the URL's password when set (`REDIS_PASSWORD`).
    pub password: Option<String>,
    /// Replaces the URL's database number when set (`REDIS_DB`).
    pub db: Option<i64>,
    /// The pub/sub channel; every instance of one deployment must use the same one.
    pub channel: String,
}

impl RedisRelayConfig {
    /// The config for `url`, with no overrides and the default channel.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), password: None, db: None, channel: DEFAULT_CHANNEL.to_owned() }
    }

    /// The connection settings: the URL's, with `password` and `db` applied over them.
    pub(crate) fn connection_info(&self) -> Result<ConnectionInfo, RelayError> {
        let info = self.url.as_str().into_connection_info().map_err(RelayError::InvalidUrl)?;
        let mut settings = info.redis_settings().clone();
        if let Some(password) = &self.password {
            settings = settings.set_password(password);
        }
        if let Some(db) = self.db {
            settings = settings.set_db(db);
        }
        Ok(info.set_redis_settings(settings))
    }
}

/// The URL with any credentials in it hidden, for logs and debug output.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let host_start = rest.find('/').unwrap_or(rest.len());
    match rest[..host_start].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

impl std::fmt::Debug for RedisRelayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRelayConfig")
            .field("url", &redacted(&self.url))
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("db", &self.db)
            .field("channel", &self.channel)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_url_decides_when_nothing_overrides_it() {
        let info = RedisRelayConfig::new("redis://:from-url@cache.internal:6380/3").connection_info().unwrap();
        assert_eq!(info.addr().to_string(), "cache.internal:6380");
        assert_eq!(info.redis_settings().password(), Some("from-url"));
        assert_eq!(info.redis_settings().db(), 3);
    }

    #[test]
    fn password_and_db_override_the_url() {
        let config = RedisRelayConfig {
            password: Some("from-env".into()),
            db: Some(5),
            ..RedisRelayConfig::new("redis://:from-url@cache.internal:6380/3")
        };
        let info = config.connection_info().unwrap();
        assert_eq!(info.redis_settings().password(), Some("from-env"));
        assert_eq!(info.redis_settings().db(), 5);

        let bare = RedisRelayConfig { password: Some("p".into()), db: Some(2), ..RedisRelayConfig::new("redis://h") };
        let info = bare.connection_info().unwrap();
        assert_eq!(info.redis_settings().password(), Some("p"));
        assert_eq!(info.redis_settings().db(), 2);
    }

    #[test]
    fn a_malformed_url_is_a_config_error() {
        let error = RedisRelayConfig::new("postgres://h/db").connection_info().unwrap_err();
        assert!(matches!(error, RelayError::InvalidUrl(_)), "{error}");
    }

    #[test]
    fn debug_output_hides_passwords() {
        let config = RedisRelayConfig {
            password: Some("env-secret".into()),
            ..RedisRelayConfig::new("redis://u:url-secret@h:1/0")
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("redis://***@h:1/0"), "{shown}");
        assert_eq!(config.channel, DEFAULT_CHANNEL);
    }
}
