//! Configuration from the environment (the seed's variable names) and an optional
//! `chitchat.toml`. Bad values stop start-up with one line naming the variable.

mod raw;
mod secret_files;
mod secret_strength;
mod sections;

use chitchat_domain::auth::OtpCode;
use chitchat_domain::ice::IceUrlKind;
use chitchat_domain::user::Region;
use raw::Raw;
use secrecy::SecretString;
use secret_strength::{
    estimated_entropy_bits, MAKE_A_SECRET, MIN_PRODUCTION_SECRET, MIN_PRODUCTION_SECRET_BITS, SEED_EXAMPLE_SECRET,
};
pub use sections::{
    AttachmentsConfig, AuthConfig, CallsConfig, Config, DbConfig, HttpConfig, LimitsConfig, MessagesConfig, OtpConfig,
    PushConfig, RedisConfig, RunMode, WsConfig,
};
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {var}: {message}")]
    Invalid { var: &'static str, message: String },
    #[error("configuration: {var}: {raw:?}: {source}")]
    Duration {
        var: &'static str,
        raw: String,
        #[source]
        source: humantime::DurationError,
    },
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { var, message: message.into() }
}

/// `ADMIN_PHONES`: comma-separated numbers, each read as people type it.
fn admin_phones(raw: &str, region: Region) -> Result<Vec<chitchat_domain::user::Phone>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            chitchat_domain::user::Phone::parse(p, region)
                .map_err(|_| invalid("ADMIN_PHONES", format!("{p:?} is not a phone number")))
        })
        .collect()
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A secret variable, trimmed; None when unset or blank.
fn secret(value: Option<String>) -> Option<SecretString> {
    non_empty(value).map(SecretString::from)
}

fn duration(var: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    let parsed = humantime::parse_duration(raw.trim()).map_err(|source| ConfigError::Duration {
        var,
        raw: raw.to_owned(),
        source,
    })?;
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

/// A signing secret of production (`var`): long, not the seed's example, and not
/// easy to guess.
fn production_secret(var: &'static str, secret: &str) -> Result<(), ConfigError> {
    if secret == SEED_EXAMPLE_SECRET || secret.len() < MIN_PRODUCTION_SECRET {
        return Err(invalid(
            var,
            format!(
                "must be a random value of at least {MIN_PRODUCTION_SECRET} characters in production; {MAKE_A_SECRET}"
            ),
        ));
    }
    if estimated_entropy_bits(secret) < MIN_PRODUCTION_SECRET_BITS {
        return Err(invalid(
            var,
            format!("is too easy to guess (repeated, sequential or too few different characters); {MAKE_A_SECRET}"),
        ));
    }
    Ok(())
}

/// `TURN_TTL`: at least a minute, since a login must outlive the moments between
/// asking for it and the start of the call, and at most a week, since a login that
/// leaks works until it expires.
fn turn_ttl(raw: &str) -> Result<Duration, ConfigError> {
    const VAR: &str = "TURN_TTL";
    let ttl = duration(VAR, raw)?;
    if ttl < Duration::from_secs(60) || ttl > Duration::from_secs(7 * 24 * 3600) {
        return Err(invalid(VAR, "must be from 1m to 7d"));
    }
    Ok(ttl)
}

/// `STUN_URLS`, `TURN_URLS`, `TURN_SECRET` and `TURN_TTL`, checked together: TURN
/// needs both its URLs and the secret it shares with the TURN server.
fn calls(
    stun_urls: &str,
    turn_urls: &str,
    turn_secret: Option<String>,
    ttl: &str,
    mode: RunMode,
) -> Result<CallsConfig, ConfigError> {
    let stun_urls = IceUrlKind::Stun.parse_list(stun_urls).map_err(|message| invalid("STUN_URLS", message))?;
    let turn_urls = IceUrlKind::Turn.parse_list(turn_urls).map_err(|message| invalid("TURN_URLS", message))?;
    let turn_secret = non_empty(turn_secret);
    match (turn_urls.is_empty(), &turn_secret) {
        (false, None) => {
            return Err(invalid("TURN_SECRET", "must be set with TURN_URLS: the TURN server's static-auth-secret"))
        }
        (true, Some(_)) => {
            return Err(invalid("TURN_URLS", "must be set with TURN_SECRET: the TURN server's turn: or turns: URLs"))
        }
        (false, Some(secret)) if mode == RunMode::Production => production_secret("TURN_SECRET", secret)?,
        _ => {}
    }
    Ok(CallsConfig { stun_urls, turn_urls, turn_secret: turn_secret.map(SecretString::from), turn_ttl: turn_ttl(ttl)? })
}

/// `SMTP_URL`, `SMTP_FROM` and `LOGIN_CODE_DELIVERY`, checked together with
/// whether a webhook is set: production must have at least one way to deliver
/// login codes, since it never logs them.
fn code_delivery(
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    delivery: &str,
    webhook: bool,
    mode: RunMode,
) -> Result<(Option<String>, Option<String>, bool), ConfigError> {
    let smtp_url = non_empty(smtp_url);
    let smtp_from = non_empty(smtp_from);
    match (&smtp_url, &smtp_from) {
        (Some(url), _) if !(url.starts_with("smtp://") || url.starts_with("smtps://")) => {
            return Err(invalid(
                "SMTP_URL",
                "must be an smtp:// or smtps:// URL (smtp://host:587?tls=required, smtps://user:password@host)",
            ))
        }
        (Some(_), None) => {
            return Err(invalid("SMTP_FROM", "must be set with SMTP_URL: the address code mails come from"))
        }
        (None, Some(_)) => {
            return Err(invalid("SMTP_URL", "must be set with SMTP_FROM: the mail server to send through"))
        }
        _ => {}
    }
    let admin_codes_only = match delivery.trim() {
        "" => false,
        "admin" => true,
        other => {
            return Err(invalid(
                "LOGIN_CODE_DELIVERY",
                format!("{other:?} is not \"admin\" (leave it unset to send codes every configured way)"),
            ))
        }
    };
    if admin_codes_only && (webhook || smtp_url.is_some()) {
        return Err(invalid(
            "LOGIN_CODE_DELIVERY",
            "admin sends no codes: unset OTP_WEBHOOK_URL and SMTP_URL, or LOGIN_CODE_DELIVERY",
        ));
    }
    if mode == RunMode::Production && !webhook && smtp_url.is_none() && !admin_codes_only {
        return Err(invalid(
            "OTP_WEBHOOK_URL, SMTP_URL or LOGIN_CODE_DELIVERY",
            "one must be set when ENV=production, where login codes are never logged: OTP_WEBHOOK_URL \
             (codes by SMS through a webhook), SMTP_URL with SMTP_FROM (codes by email to verified \
             addresses) or LOGIN_CODE_DELIVERY=admin (codes only from `chitchat admin login-code`)",
        ));
    }
    Ok((smtp_url, smtp_from, admin_codes_only))
}

impl Config {
    /// Reads the configuration file (`path`, which must exist, else `chitchat.toml`
    /// if present) and then the environment, which wins.
    pub fn load(path: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let file = match path {
            Some(path) => config::File::from(path).required(true),
            None => config::File::with_name("chitchat").required(false),
        };
        let read = config::Config::builder().add_source(file).add_source(config::Environment::default()).build()?;
        let mut with_secrets = config::Config::builder().add_source(read.clone());
        for (key, value) in secret_files::read(&read)? {
            with_secrets = with_secrets.set_override(key, value)?;
        }
        let raw: Raw = with_secrets.build()?.try_deserialize()?;
        Self::check(raw)
    }

    #[expect(clippy::too_many_lines, reason = "checks every variable in one pass, section by section")]
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
                Some(secret) => production_secret("JWT_SECRET", secret)?,
            }
        }
        let otp_webhook_url = non_empty(raw.otp_webhook_url);
        if let Some(url) = &otp_webhook_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid("OTP_WEBHOOK_URL", "must be an http:// or https:// URL"));
            }
        }
        let (smtp_url, smtp_from, admin_codes_only) =
            code_delivery(raw.smtp_url, raw.smtp_from, &raw.login_code_delivery, otp_webhook_url.is_some(), mode)?;
        let otp_fixed_code = match non_empty(raw.otp_fixed_code) {
            None => None,
            Some(_) if mode == RunMode::Production => {
                return Err(invalid("OTP_FIXED_CODE", "is only allowed when ENV=development"))
            }
            Some(code) => Some(OtpCode::parse(&code).map_err(|_| invalid("OTP_FIXED_CODE", "must be six digits"))?),
        };
        let default_region = Region::parse(&raw.default_region)
            .map_err(|_| invalid("DEFAULT_REGION", "must be a two-letter region code such as IN"))?;
        let admin_phones = admin_phones(&raw.admin_phones, default_region)?;
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
            mode,
            mode_chosen: !raw.env.trim().is_empty(),
            data_dir,
            default_region,
            admin_phones,
            http: HttpConfig {
                port: raw.port,
                host: raw.host,
                cors_allowed_origins: raw
                    .cors_allowed_origins
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect(),
                trusted_proxies: raw
                    .trusted_proxies
                    .parse()
                    .map_err(|error: chitchat_api_http::BadProxy| invalid("TRUSTED_PROXIES", error.to_string()))?,
            },
            limits: LimitsConfig {
                rate_limit_requests_per_minute: positive(
                    "RATE_LIMIT_REQUESTS_PER_MINUTE",
                    raw.rate_limit_requests_per_minute,
                )?,
                rate_limit_burst: positive("RATE_LIMIT_BURST", raw.rate_limit_burst)?,
                body_read_timeout: duration("BODY_READ_TIMEOUT", &raw.body_read_timeout)?,
                body_deadline: duration("BODY_DEADLINE", &raw.body_deadline)?,
                upload_body_deadline: duration("UPLOAD_BODY_DEADLINE", &raw.upload_body_deadline)?,
                max_connections_per_ip: Some(raw.max_connections_per_ip).filter(|max| *max > 0),
            },
            db: DbConfig { url: SecretString::from(database_url), max_open_conns: raw.db_max_open_conns },
            redis: RedisConfig {
                url: secret(raw.redis_url),
                password: secret(raw.redis_password),
                db: non_empty(raw.redis_db)
                    .map(|db| db.parse().map_err(|_| invalid("REDIS_DB", "must be a whole number")))
                    .transpose()?,
                channel: non_empty(Some(raw.redis_channel)).unwrap_or_else(|| "chitchat:events".into()),
            },
            auth: AuthConfig {
                jwt_secret: jwt_secret.map(SecretString::from),
                jwt_expiration: duration("JWT_EXPIRATION", &raw.jwt_expiration)?,
            },
            otp: OtpConfig {
                resend_cooldown: humantime::parse_duration(raw.otp_resend_cooldown.trim()).map_err(|source| {
                    ConfigError::Duration { var: "OTP_RESEND_COOLDOWN", raw: raw.otp_resend_cooldown.clone(), source }
                })?,
                webhook_url: otp_webhook_url.map(SecretString::from),
                webhook_token: secret(raw.otp_webhook_token),
                fixed_code: otp_fixed_code,
                smtp_url: smtp_url.map(SecretString::from),
                smtp_from,
                admin_codes_only,
            },
            ws: WsConfig {
                max_message_size: raw.ws_max_message_size.max(1024),
                max_connections_per_user: positive("WS_MAX_CONNECTIONS_PER_USER", raw.ws_max_connections_per_user)?,
                max_connections_per_session: positive(
                    "WS_MAX_CONNECTIONS_PER_SESSION",
                    raw.ws_max_connections_per_session,
                )?,
                read_buffer_size: raw.ws_read_buffer_size,
                write_buffer_size: positive("WS_WRITE_BUFFER_SIZE", raw.ws_write_buffer_size)?,
                ping_period: duration("WS_PING_PERIOD", &raw.ws_ping_period)?,
                pong_wait: duration("WS_PONG_WAIT", &raw.ws_pong_wait)?,
                write_wait: duration("WS_WRITE_WAIT", &raw.ws_write_wait)?,
                presence_grace_period: duration("PRESENCE_GRACE_PERIOD", &raw.presence_grace_period)?,
            },
            messages: MessagesConfig {
                group_max_members: raw.group_max_members,
                edit_window: duration("MESSAGE_EDIT_WINDOW", &raw.message_edit_window)?,
                delete_window: duration("MESSAGE_DELETE_WINDOW", &raw.message_delete_window)?,
            },
            attachments: AttachmentsConfig {
                max_upload_size: raw.max_upload_size,
                thumbnail_memory_budget: positive("THUMBNAIL_MEMORY_BUDGET", raw.thumbnail_memory_budget)?,
                storage_url: non_empty(raw.storage_url),
                link_ttl: link_ttl(&raw.attachment_link_ttl)?,
            },
            push: PushConfig {
                vapid_private_key: secret(raw.vapid_private_key),
                vapid_subject: non_empty(raw.vapid_subject),
            },
            calls: calls(&raw.stun_urls, &raw.turn_urls, raw.turn_secret, &raw.turn_ttl, mode)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn defaults_run_on_sqlite_in_the_data_dir() {
        let c = Config::check(Raw::default()).unwrap();
        assert_eq!(c.http.port, 8080);
        assert_eq!(c.mode, RunMode::Development);
        assert_eq!(c.db.url.expose_secret(), "sqlite://./data/chitchat.db");
        assert_eq!(c.auth.jwt_expiration, Duration::from_secs(168 * 3600));
        assert_eq!(c.messages.group_max_members, 1024);
        assert_eq!(c.messages.edit_window, Duration::from_secs(15 * 60));
        assert_eq!(c.messages.delete_window, Duration::from_secs(48 * 3600));
        assert_eq!(c.attachments.max_upload_size, 64 * 1024 * 1024);
        assert_eq!(c.attachments.storage_url, None, "attachments go to DATA_DIR/attachments");
        assert_eq!(c.attachments.link_ttl, Duration::from_secs(15 * 60));
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

    fn production() -> Raw {
        Raw { env: "production".into(), jwt_secret: Some(GENERATED_SECRET.into()), ..Raw::default() }
    }

    #[test]
    fn production_needs_a_way_to_deliver_codes() {
        let err = Config::check(production()).unwrap_err().to_string();
        for way in ["OTP_WEBHOOK_URL", "SMTP_URL", "LOGIN_CODE_DELIVERY=admin"] {
            assert!(err.contains(way), "{way}: {err}");
        }
        assert_eq!(err.lines().count(), 1, "{err}");
        let admin = Config::check(Raw { login_code_delivery: "admin".into(), ..production() }).unwrap();
        assert!(admin.otp.admin_codes_only);
        let email = Raw {
            smtp_url: Some("smtps://chat:mail-password@mail.example.org".into()),
            smtp_from: Some("Family chat <chat@example.org>".into()),
            ..production()
        };
        let email = Config::check(email).unwrap();
        assert!(!email.otp.admin_codes_only);
        assert_eq!(email.otp.smtp_from.as_deref(), Some("Family chat <chat@example.org>"));
        let webhook = Raw { otp_webhook_url: Some("https://sms.example/send".into()), ..production() };
        assert!(Config::check(webhook).is_ok());
    }

    #[test]
    fn code_delivery_settings_are_checked_together() {
        let smtp = |url: Option<&str>, from: Option<&str>| Raw {
            smtp_url: url.map(str::to_owned),
            smtp_from: from.map(str::to_owned),
            ..Raw::default()
        };
        let err = Config::check(smtp(Some("smtp://mail.example.org"), None)).unwrap_err().to_string();
        assert!(err.contains("SMTP_FROM"), "{err}");
        let err = Config::check(smtp(None, Some("chat@example.org"))).unwrap_err().to_string();
        assert!(err.contains("SMTP_URL"), "{err}");
        let err = Config::check(smtp(Some("https://user:secret-7@mail.example.org"), Some("a@b.org"))).unwrap_err();
        assert!(err.to_string().contains("SMTP_URL") && !err.to_string().contains("secret-7"), "{err}");
        let config = Config::check(smtp(Some(" smtp://mail.example.org:587?tls=required "), Some("a@b.org"))).unwrap();
        assert_eq!(
            config.otp.smtp_url.as_ref().map(|u| u.expose_secret().to_owned()).as_deref(),
            Some("smtp://mail.example.org:587?tls=required")
        );
        let err = Config::check(Raw { login_code_delivery: "sms".into(), ..Raw::default() }).unwrap_err();
        assert!(err.to_string().contains("LOGIN_CODE_DELIVERY"), "{err}");
        let both = Raw {
            login_code_delivery: "admin".into(),
            otp_webhook_url: Some("https://sms.example/send".into()),
            ..Raw::default()
        };
        let err = Config::check(both).unwrap_err().to_string();
        assert!(err.contains("LOGIN_CODE_DELIVERY") && err.contains("OTP_WEBHOOK_URL"), "{err}");
        let defaults = Config::check(Raw::default()).unwrap();
        assert!(defaults.otp.smtp_url.is_none() && !defaults.otp.admin_codes_only);
    }

    #[test]
    fn admin_phones_are_read_with_the_default_region() {
        let raw = Raw { admin_phones: " 98765 43210, +44 7911 123456 ,".into(), ..Raw::default() };
        let phones = Config::check(raw).unwrap().admin_phones;
        let phones: Vec<&str> = phones.iter().map(|p| p.as_str()).collect();
        assert_eq!(phones, ["+919876543210", "+447911123456"]);
        let err = Config::check(Raw { admin_phones: "+919876543210,12".into(), ..Raw::default() }).unwrap_err();
        assert!(err.to_string().contains("ADMIN_PHONES"), "{err}");
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

    #[test]
    fn debug_output_never_shows_a_secret() {
        let raw = Raw {
            database_url: Some("postgres://chitchat:db-password-1@db.internal/chitchat".into()),
            redis_url: Some("redis://:redis-url-password-2@cache.internal:6379/0".into()),
            redis_password: Some("redis-password-3".into()),
            jwt_secret: Some("jwt-secret-4".into()),
            otp_webhook_url: Some("https://sms.example/send?key=webhook-key-5".into()),
            otp_webhook_token: Some("webhook-token-6".into()),
            smtp_url: Some("smtps://chat:smtp-password-7@mail.example.org".into()),
            smtp_from: Some("chat@example.org".into()),
            turn_urls: "turn:turn.example.org".into(),
            turn_secret: Some("turn-secret-8".into()),
            ..Raw::default()
        };
        let config = Config::check(raw).unwrap();
        let shown = format!("{config:?} {config:#?}");
        for secret in [
            "db-password-1",
            "redis-url-password-2",
            "redis-password-3",
            "jwt-secret-4",
            "webhook-key-5",
            "webhook-token-6",
            "smtp-password-7",
            "turn-secret-8",
        ] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("REDACTED"), "{shown}");
        assert_eq!(
            config.auth.jwt_secret.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(),
            Some("jwt-secret-4")
        );
    }

    #[test]
    fn turn_needs_its_urls_and_its_secret_together() {
        let calls = |stun: &str, turn: &str, secret: Option<&str>| Raw {
            stun_urls: stun.into(),
            turn_urls: turn.into(),
            turn_secret: secret.map(str::to_owned),
            ..Raw::default()
        };
        let defaults = Config::check(Raw::default()).unwrap().calls;
        assert!(defaults.stun_urls.is_empty() && defaults.turn_urls.is_empty() && defaults.turn_secret.is_none());
        assert_eq!(defaults.turn_ttl, Duration::from_secs(3600));
        let err = Config::check(calls("", "turn:turn.example.org:3478", None)).unwrap_err().to_string();
        assert!(err.contains("TURN_SECRET") && err.contains("TURN_URLS"), "{err}");
        let err = Config::check(calls("", "", Some("shared"))).unwrap_err().to_string();
        assert!(err.starts_with("configuration: TURN_URLS"), "{err}");
        let err = Config::check(calls("stun:stun.example.org, https://stun.example.org", "", None)).unwrap_err();
        assert!(
            err.to_string().starts_with("configuration: STUN_URLS") && err.to_string().contains("https://"),
            "{err}"
        );
        let err = Config::check(calls("", "stun:turn.example.org", Some("shared"))).unwrap_err().to_string();
        assert!(err.starts_with("configuration: TURN_URLS"), "{err}");
        let config = Config::check(calls(
            "stun:stun.example.org",
            "turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349",
            Some("shared"),
        ))
        .unwrap()
        .calls;
        assert_eq!(config.stun_urls, ["stun:stun.example.org"]);
        assert_eq!(config.turn_urls.len(), 2);
        assert_eq!(config.turn_secret.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(), Some("shared"));
        for ttl in ["30s", "8d", "an hour"] {
            let err = Config::check(Raw { turn_ttl: ttl.into(), ..Raw::default() }).unwrap_err();
            assert!(err.to_string().contains("TURN_TTL"), "{ttl}: {err}");
        }
        let day = Config::check(Raw { turn_ttl: "24h".into(), ..Raw::default() }).unwrap();
        assert_eq!(day.calls.turn_ttl, Duration::from_secs(24 * 3600));
    }

    #[test]
    fn production_refuses_a_turn_secret_as_easy_to_guess_as_a_bad_jwt_secret() {
        let turn = |secret: &str| Raw {
            otp_webhook_url: Some("https://sms.example/send".into()),
            turn_urls: "turn:turn.example.org:3478".into(),
            turn_secret: Some(secret.to_owned()),
            ..production()
        };
        for secret in ["short", "a".repeat(40).as_str(), SEED_EXAMPLE_SECRET] {
            let err = Config::check(turn(secret)).unwrap_err().to_string();
            assert!(err.contains("TURN_SECRET") && err.contains("openssl rand -base64 48"), "{secret}: {err}");
        }
        assert!(Config::check(turn(GENERATED_SECRET)).is_ok());
        let development = Raw { env: "development".into(), ..turn("short") };
        assert!(Config::check(development).is_ok(), "development takes any secret");
    }
}
