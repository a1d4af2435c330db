//! Configuration from the environment (the seed's variable names) and an optional
//! `chitchat.toml`. Bad values stop start-up with one line naming the variable.

use chitchat_domain::auth::OtpCode;
use chitchat_domain::user::Region;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {var}: {message}")]
    Invalid { var: &'static str, message: String },
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { var, message: message.into() }
}

/// The seed's example secret; never acceptable in production.
const SEED_EXAMPLE_SECRET: &str = "your-secret-key-change-in-production";
const MIN_PRODUCTION_SECRET: usize = 32;
/// Least estimated randomness of a production secret, in bits: every output of
/// `openssl rand -base64 48` (and of `-hex 16`) scores far above it, while repeated,
/// sequential or few distinct characters score far below.
const MIN_PRODUCTION_SECRET_BITS: f64 = 80.0;
const MAKE_A_SECRET: &str = "make one with `openssl rand -base64 48`";

/// An upper estimate of the randomness in `secret`, in bits, from the secret alone:
/// only its shortest repeating unit counts (`changemechangeme` is `changeme`), and
/// each character of it counts the smaller of the entropy of its characters and
/// that of the steps between neighbours (so `aaaa…`, `abab…` and `abcd…` score
/// near zero). It refuses the obvious; a phrase can still score high, so a secret
/// should come from a generator.
fn estimated_entropy_bits(secret: &str) -> f64 {
    let chars: Vec<char> = secret.chars().collect();
    let repeats_every = |p: usize| (p..chars.len()).all(|i| chars[i] == chars[i - p]);
    let period = (1..chars.len()).find(|&p| repeats_every(p)).unwrap_or(chars.len());
    let unit = &chars[..period];
    let steps: Vec<i64> = unit.windows(2).map(|w| i64::from(u32::from(w[1])) - i64::from(u32::from(w[0]))).collect();
    unit.len() as f64 * shannon_bits(unit).min(shannon_bits(&steps))
}

/// Shannon entropy per item of the distribution of `items`, in bits.
fn shannon_bits<T: Ord>(items: &[T]) -> f64 {
    let mut counts = std::collections::BTreeMap::new();
    for item in items {
        *counts.entry(item).or_insert(0usize) += 1;
    }
    let total = items.len() as f64;
    counts.values().map(|&n| n as f64 / total).map(|p| -p * p.log2()).sum()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    Development,
    Production,
}

/// Variables exactly as read; see `Config` for the checked form.
#[derive(Debug, Deserialize)]
#[serde(default)]
struct Raw {
    port: u16,
    host: String,
    env: String,
    database_url: Option<String>,
    data_dir: String,
    db_max_open_conns: usize,
    redis_url: Option<String>,
    redis_password: Option<String>,
    redis_db: Option<String>,
    redis_channel: String,
    jwt_secret: Option<String>,
    jwt_expiration: String,
    ws_max_message_size: usize,
    ws_max_connections_per_user: usize,
    ws_max_connections_per_session: usize,
    ws_read_buffer_size: usize,
    ws_write_buffer_size: usize,
    ws_ping_period: String,
    ws_pong_wait: String,
    ws_write_wait: String,
    presence_grace_period: String,
    otp_resend_cooldown: String,
    rate_limit_requests_per_minute: u32,
    rate_limit_burst: u32,
    body_read_timeout: String,
    body_deadline: String,
    upload_body_deadline: String,
    max_connections_per_ip: usize,
    cors_allowed_origins: String,
    trusted_proxies: String,
    otp_webhook_url: Option<String>,
    otp_webhook_token: Option<String>,
    otp_fixed_code: Option<String>,
    default_region: String,
    group_max_members: usize,
    message_edit_window: String,
    message_delete_window: String,
    max_upload_size: u64,
    thumbnail_memory_budget: u64,
    storage_url: Option<String>,
    attachment_link_ttl: String,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
            port: 8080,
            host: "0.0.0.0".into(),
            // Empty when not given, so that start-up can tell (development all the same).
            env: String::new(),
            database_url: None,
            data_dir: "./data".into(),
            db_max_open_conns: 25,
            redis_url: None,
            redis_password: None,
            redis_db: None,
            redis_channel: "chitchat:events".into(),
            jwt_secret: None,
            jwt_expiration: "168h".into(),
            ws_max_message_size: chitchat_gateway_ws::DEFAULT_MAX_FRAME_BYTES,
            ws_max_connections_per_user: chitchat_gateway_ws::DEFAULT_MAX_SOCKETS_PER_USER,
            ws_max_connections_per_session: chitchat_gateway_ws::DEFAULT_MAX_SOCKETS_PER_SESSION,
            ws_read_buffer_size: 1024,
            ws_write_buffer_size: 1024,
            ws_ping_period: "54s".into(),
            ws_pong_wait: "60s".into(),
            ws_write_wait: "10s".into(),
            presence_grace_period: "5s".into(),
            otp_resend_cooldown: "30s".into(),
            rate_limit_requests_per_minute: 60,
            rate_limit_burst: 100,
            body_read_timeout: "10s".into(),
            body_deadline: "30s".into(),
            upload_body_deadline: "15m".into(),
            max_connections_per_ip: 0,
            cors_allowed_origins: String::new(),
            trusted_proxies: "127.0.0.1,::1".into(),
            otp_webhook_url: None,
            otp_webhook_token: None,
            otp_fixed_code: None,
            default_region: "IN".into(),
            group_max_members: chitchat_domain::chat::DEFAULT_GROUP_MAX_MEMBERS,
            message_edit_window: "15m".into(),
            message_delete_window: "48h".into(),
            max_upload_size: 64 * 1024 * 1024,
            thumbnail_memory_budget: chitchat_media::DEFAULT_MEMORY_BUDGET,
            storage_url: None,
            attachment_link_ttl: "15m".into(),
        }
    }
}

/// Checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub host: String,
    pub mode: RunMode,
    /// Whether `ENV` was given at all (development is also the default).
    pub mode_chosen: bool,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub db_max_open_conns: usize,
    pub redis_url: Option<String>,
    /// Overrides the URL's password when set (`REDIS_PASSWORD`).
    pub redis_password: Option<String>,
    /// Overrides the URL's database number when set (`REDIS_DB`).
    pub redis_db: Option<i64>,
    /// The pub/sub channel of this deployment (`REDIS_CHANNEL`); deployments sharing
    /// one Redis keep apart by using different channels.
    pub redis_channel: String,
    /// None: generate (development) and keep in the data directory.
    pub jwt_secret: Option<String>,
    pub jwt_expiration: Duration,
    pub ws_max_message_size: usize,
    /// Sockets one user may hold open on one instance (`WS_MAX_CONNECTIONS_PER_USER`).
    pub ws_max_connections_per_user: usize,
    /// Sockets one device session may hold open on one instance (`WS_MAX_CONNECTIONS_PER_SESSION`).
    pub ws_max_connections_per_session: usize,
    /// Bytes of client frames that may wait behind the one being handled before
    /// the server stops reading the socket (`WS_READ_BUFFER_SIZE`).
    pub ws_read_buffer_size: usize,
    /// Events one device may have waiting to be written before it is cut off as
    /// too slow and told to resume (`WS_WRITE_BUFFER_SIZE`).
    pub ws_write_buffer_size: usize,
    pub ws_ping_period: Duration,
    pub ws_pong_wait: Duration,
    /// How long one WebSocket send may wait for a client that does not read (`WS_WRITE_WAIT`).
    pub ws_write_wait: Duration,
    /// How long a user stays online after their last device leaves (`PRESENCE_GRACE_PERIOD`).
    pub presence_grace_period: Duration,
    /// How long a phone waits before another login code is sent (`OTP_RESEND_COOLDOWN`; may be 0s).
    pub otp_resend_cooldown: Duration,
    /// REST requests a minute per user (per address when anonymous), on average.
    pub rate_limit_requests_per_minute: u32,
    /// REST requests a caller may make at once before the average applies.
    pub rate_limit_burst: u32,
    /// Longest wait for the next bytes of a request body (`BODY_READ_TIMEOUT`).
    pub body_read_timeout: Duration,
    /// Longest time for a whole request body (`BODY_DEADLINE`).
    pub body_deadline: Duration,
    /// The same for an upload's body (`UPLOAD_BODY_DEADLINE`).
    pub upload_body_deadline: Duration,
    /// Most connections one client address may hold open (`MAX_CONNECTIONS_PER_IP`);
    /// None (0, the default): no limit, as behind a reverse proxy.
    pub max_connections_per_ip: Option<usize>,
    /// Origins allowed to call the API from a browser (`CORS_ALLOWED_ORIGINS`,
    /// comma-separated); any origin in development.
    pub cors_allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`,
    /// comma-separated addresses; default loopback, where a local nginx sits).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where login codes are POSTed for delivery by SMS (`OTP_WEBHOOK_URL`);
    /// required in production, where codes are never logged.
    pub otp_webhook_url: Option<String>,
    /// Bearer token for that webhook (`OTP_WEBHOOK_TOKEN`).
    pub otp_webhook_token: Option<String>,
    pub otp_fixed_code: Option<OtpCode>,
    pub default_region: Region,
    /// Most active members of one group, its admins included (`GROUP_MAX_MEMBERS`).
    pub group_max_members: usize,
    /// How long after sending its sender may edit a message (`MESSAGE_EDIT_WINDOW`).
    pub message_edit_window: Duration,
    /// How long after sending its sender may delete a message for everyone
    /// (`MESSAGE_DELETE_WINDOW`); group admins may at any time.
    pub message_delete_window: Duration,
    /// Largest file accepted by `POST /api/attachments`, in bytes (`MAX_UPLOAD_SIZE`).
    pub max_upload_size: u64,
    /// Memory all image decodes for thumbnails may take at once, in bytes
    /// (`THUMBNAIL_MEMORY_BUDGET`).
    pub thumbnail_memory_budget: u64,
    /// Where attachments are stored (`STORAGE_URL`, `s3://bucket/prefix`); None:
    /// the directory `DATA_DIR/attachments`.
    pub storage_url: Option<String>,
    /// How long a signed attachment download link works (`ATTACHMENT_LINK_TTL`).
    pub attachment_link_ttl: Duration,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn duration(var: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    let parsed = humantime::parse_duration(raw.trim()).map_err(|e| invalid(var, format!("{raw:?}: {e}")))?;
    if parsed.is_zero() {
        return Err(invalid(var, "must be longer than zero"));
    }
    Ok(parsed)
}

/// Whole seconds (links expire on a second), from one second to a day: a link
/// that leaks into a history or a log must not work for long.
fn link_ttl(raw: &str) -> Result<Duration, ConfigError> {
    const VAR: &str = "ATTACHMENT_LINK_TTL";
    let ttl = duration(VAR, raw)?;
    if ttl < Duration::from_secs(1) || ttl > Duration::from_secs(24 * 3600) {
        return Err(invalid(VAR, "must be from 1s to 24h"));
    }
    Ok(ttl)
}

fn positive<T: PartialEq + Default>(var: &'static str, value: T) -> Result<T, ConfigError> {
    if value == T::default() {
        return Err(invalid(var, "must be at least 1"));
    }
    Ok(value)
}

impl Config {
    /// Reads `chitchat.toml` (if present) and then the environment, which wins.
    pub fn load() -> Result<Self, ConfigError> {
        let raw: Raw = config::Config::builder()
            .add_source(config::File::with_name("chitchat").required(false))
            .add_source(config::Environment::default())
            .build()?
            .try_deserialize()?;
        Self::check(raw)
    }

    fn check(raw: Raw) -> Result<Self, ConfigError> {
        let mode = match raw.env.trim() {
            "development" | "" => RunMode::Development,
            "production" => RunMode::Production,
            other => return Err(invalid("ENV", format!("{other:?} is not \"development\" or \"production\""))),
        };
        let data_dir = PathBuf::from(raw.data_dir);
        let database_url = non_empty(raw.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("chitchat.db").display()));
        let jwt_secret = non_empty(raw.jwt_secret);
        if mode == RunMode::Production {
            match &jwt_secret {
                None => return Err(invalid("JWT_SECRET", "must be set when ENV=production")),
                Some(s) if s == SEED_EXAMPLE_SECRET || s.len() < MIN_PRODUCTION_SECRET => {
                    return Err(invalid(
                        "JWT_SECRET",
                        format!(
                            "must be a random value of at least {MIN_PRODUCTION_SECRET} characters in production; \
                             {MAKE_A_SECRET}"
                        ),
                    ))
                }
                Some(s) if estimated_entropy_bits(s) < MIN_PRODUCTION_SECRET_BITS => {
                    return Err(invalid(
                        "JWT_SECRET",
                        format!(
                            "is too easy to guess (repeated, sequential or too few different characters); \
                             {MAKE_A_SECRET}"
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        let otp_webhook_url = non_empty(raw.otp_webhook_url);
        if let Some(url) = &otp_webhook_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid("OTP_WEBHOOK_URL", "must be an http:// or https:// URL"));
            }
        } else if mode == RunMode::Production {
            return Err(invalid(
                "OTP_WEBHOOK_URL",
                "must be set when ENV=production: login codes are sent through it and never logged",
            ));
        }
        let otp_fixed_code = match non_empty(raw.otp_fixed_code) {
            None => None,
            Some(_) if mode == RunMode::Production => {
                return Err(invalid("OTP_FIXED_CODE", "is only allowed when ENV=development"))
            }
            Some(code) => Some(OtpCode::parse(&code).map_err(|_| invalid("OTP_FIXED_CODE", "must be six digits"))?),
        };
        let default_region = Region::parse(&raw.default_region)
            .map_err(|_| invalid("DEFAULT_REGION", "must be a two-letter region code such as IN"))?;
        if raw.db_max_open_conns == 0 {
            return Err(invalid("DB_MAX_OPEN_CONNS", "must be at least 1"));
        }
        if raw.max_upload_size == 0 {
            return Err(invalid("MAX_UPLOAD_SIZE", "must be at least 1 (bytes)"));
        }
        if raw.group_max_members < 2 {
            return Err(invalid("GROUP_MAX_MEMBERS", "must be at least 2"));
        }
        Ok(Self {
            port: raw.port,
            host: raw.host,
            mode,
            mode_chosen: !raw.env.trim().is_empty(),
            database_url,
            data_dir,
            db_max_open_conns: raw.db_max_open_conns,
            redis_url: non_empty(raw.redis_url),
            redis_password: non_empty(raw.redis_password),
            redis_db: non_empty(raw.redis_db)
                .map(|db| db.parse().map_err(|_| invalid("REDIS_DB", "must be a whole number")))
                .transpose()?,
            redis_channel: non_empty(Some(raw.redis_channel)).unwrap_or_else(|| "chitchat:events".into()),
            jwt_secret,
            jwt_expiration: duration("JWT_EXPIRATION", &raw.jwt_expiration)?,
            ws_max_message_size: raw.ws_max_message_size.max(1024),
            ws_max_connections_per_user: positive("WS_MAX_CONNECTIONS_PER_USER", raw.ws_max_connections_per_user)?,
            ws_max_connections_per_session: positive(
                "WS_MAX_CONNECTIONS_PER_SESSION",
                raw.ws_max_connections_per_session,
            )?,
            ws_read_buffer_size: raw.ws_read_buffer_size,
            ws_write_buffer_size: positive("WS_WRITE_BUFFER_SIZE", raw.ws_write_buffer_size)?,
            ws_ping_period: duration("WS_PING_PERIOD", &raw.ws_ping_period)?,
            ws_pong_wait: duration("WS_PONG_WAIT", &raw.ws_pong_wait)?,
            ws_write_wait: duration("WS_WRITE_WAIT", &raw.ws_write_wait)?,
            presence_grace_period: duration("PRESENCE_GRACE_PERIOD", &raw.presence_grace_period)?,
            otp_resend_cooldown: humantime::parse_duration(raw.otp_resend_cooldown.trim())
                .map_err(|e| invalid("OTP_RESEND_COOLDOWN", format!("{:?}: {e}", raw.otp_resend_cooldown)))?,
            rate_limit_requests_per_minute: positive(
                "RATE_LIMIT_REQUESTS_PER_MINUTE",
                raw.rate_limit_requests_per_minute,
            )?,
            rate_limit_burst: positive("RATE_LIMIT_BURST", raw.rate_limit_burst)?,
            body_read_timeout: duration("BODY_READ_TIMEOUT", &raw.body_read_timeout)?,
            body_deadline: duration("BODY_DEADLINE", &raw.body_deadline)?,
            upload_body_deadline: duration("UPLOAD_BODY_DEADLINE", &raw.upload_body_deadline)?,
            max_connections_per_ip: Some(raw.max_connections_per_ip).filter(|max| *max > 0),
            cors_allowed_origins: raw
                .cors_allowed_origins
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
            otp_webhook_url,
            otp_webhook_token: non_empty(raw.otp_webhook_token),
            trusted_proxies: raw
                .trusted_proxies
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| p.parse().map_err(|_| invalid("TRUSTED_PROXIES", format!("{p:?} is not an IP address"))))
                .collect::<Result<_, _>>()?,
            otp_fixed_code,
            default_region,
            group_max_members: raw.group_max_members,
            message_edit_window: duration("MESSAGE_EDIT_WINDOW", &raw.message_edit_window)?,
            message_delete_window: duration("MESSAGE_DELETE_WINDOW", &raw.message_delete_window)?,
            max_upload_size: raw.max_upload_size,
            thumbnail_memory_budget: positive("THUMBNAIL_MEMORY_BUDGET", raw.thumbnail_memory_budget)?,
            storage_url: non_empty(raw.storage_url),
            attachment_link_ttl: link_ttl(&raw.attachment_link_ttl)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_on_sqlite_in_the_data_dir() {
        let c = Config::check(Raw::default()).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.mode, RunMode::Development);
        assert_eq!(c.database_url, "sqlite://./data/chitchat.db");
        assert_eq!(c.jwt_expiration, Duration::from_secs(168 * 3600));
        assert_eq!(c.group_max_members, 1024);
        assert_eq!(c.message_edit_window, Duration::from_secs(15 * 60));
        assert_eq!(c.message_delete_window, Duration::from_secs(48 * 3600));
        assert_eq!(c.max_upload_size, 64 * 1024 * 1024);
        assert_eq!(c.storage_url, None, "attachments go to DATA_DIR/attachments");
        assert_eq!(c.attachment_link_ttl, Duration::from_secs(15 * 60));
    }

    #[test]
    fn production_refuses_missing_short_or_example_secrets_and_fixed_codes() {
        let prod = |secret: Option<&str>, code: Option<&str>| Raw {
            env: "production".into(),
            jwt_secret: secret.map(str::to_owned),
            otp_fixed_code: code.map(str::to_owned),
            otp_webhook_url: Some("https://sms.example/send".into()),
            ..Raw::default()
        };
        for secret in [None, Some("short"), Some(SEED_EXAMPLE_SECRET)] {
            let err = Config::check(prod(secret, None)).unwrap_err().to_string();
            assert!(err.contains("JWT_SECRET"), "{err}");
        }
        let strong = GENERATED_SECRET;
        assert!(Config::check(prod(Some(strong), None)).is_ok());
        let err = Config::check(prod(Some(strong), Some("123456"))).unwrap_err().to_string();
        assert!(err.contains("OTP_FIXED_CODE"), "{err}");
    }

    /// An output of `openssl rand -base64 48`.
    const GENERATED_SECRET: &str = "q0pZ3Yw8cJ1kXv7TnE5bR2uHgL9sAfD4mWiKoB6tQyVzNj+Cx/PeUr0hGlS3aI8d";

    #[test]
    fn production_refuses_secrets_that_are_long_but_easy_to_guess() {
        let prod = |secret: &str| Raw {
            env: "production".into(),
            jwt_secret: Some(secret.to_owned()),
            otp_webhook_url: Some("https://sms.example/send".into()),
            ..Raw::default()
        };
        let trivial = [
            "a".repeat(32),
            "k".repeat(40),
            "ab".repeat(16),
            "0123456789".repeat(4),
            "abcdefghijklmnopqrstuvwxyz012345".to_owned(),
            "changeme".repeat(4),
            "password1234".repeat(3),
        ];
        for secret in &trivial {
            let err = Config::check(prod(secret)).unwrap_err().to_string();
            assert!(err.contains("JWT_SECRET") && err.contains("openssl rand -base64 48"), "{secret}: {err}");
        }
        // Generated secrets pass: base64 and hex, as operators make them.
        for secret in
            [GENERATED_SECRET, "9f86d081884c7d659a2feaa0c55ad015", "a-production-secret-of-more-than-32-characters"]
        {
            assert!(Config::check(prod(secret)).is_ok(), "{secret}: {:.0} bits", estimated_entropy_bits(secret));
        }
    }

    #[test]
    fn production_needs_a_way_to_deliver_codes() {
        let raw = Raw { env: "production".into(), jwt_secret: Some(GENERATED_SECRET.into()), ..Raw::default() };
        let err = Config::check(raw).unwrap_err().to_string();
        assert!(err.contains("OTP_WEBHOOK_URL"), "{err}");
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err = Config::check(Raw { jwt_expiration: "soon".into(), ..Raw::default() }).unwrap_err();
        assert!(err.to_string().contains("JWT_EXPIRATION"));
        let err = Config::check(Raw { otp_fixed_code: Some("12".into()), ..Raw::default() }).unwrap_err();
        assert!(err.to_string().contains("OTP_FIXED_CODE"));
        let err = Config::check(Raw { env: "staging".into(), ..Raw::default() }).unwrap_err();
        assert!(err.to_string().contains("ENV"));
        let err = Config::check(Raw { group_max_members: 1, ..Raw::default() }).unwrap_err();
        assert!(err.to_string().contains("GROUP_MAX_MEMBERS"));
        let err = Config::check(Raw { message_edit_window: "0s".into(), ..Raw::default() }).unwrap_err();
        assert!(err.to_string().contains("MESSAGE_EDIT_WINDOW"));
        let err = Config::check(Raw { message_delete_window: "two days".into(), ..Raw::default() }).unwrap_err();
        assert!(err.to_string().contains("MESSAGE_DELETE_WINDOW"));
        for ttl in ["500ms", "25h", "soon"] {
            let err = Config::check(Raw { attachment_link_ttl: ttl.into(), ..Raw::default() }).unwrap_err();
            assert!(err.to_string().contains("ATTACHMENT_LINK_TTL"), "{ttl}: {err}");
        }
        let err = Config::check(Raw { max_upload_size: 0, ..Raw::default() }).unwrap_err();
        assert!(err.to_string().contains("MAX_UPLOAD_SIZE"));
    }
}
