//! The checked configuration, one section per part of the server. Each field names
//! the environment variable it comes from. Secrets are `SecretString`s, whose
//! `Debug` prints `[REDACTED]`, so that no log or panic message shows them.

use chitchat_domain::auth::OtpCode;
use chitchat_domain::user::Region;
use secrecy::SecretString;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    Development,
    Production,
}

/// Checked configuration.
#[derive(Debug)]
pub struct Config {
    pub mode: RunMode,
    /// Whether `ENV` was given at all (development is also the default).
    pub mode_chosen: bool,
    /// Where the SQLite database, the generated secret and stored files live (`DATA_DIR`).
    pub data_dir: PathBuf,
    /// How phone numbers written without a country code are read (`DEFAULT_REGION`).
    pub default_region: Region,
    /// The server's admins (`ADMIN_PHONES`, comma-separated, read with the default region).
    pub admin_phones: Vec<chitchat_domain::user::Phone>,
    pub http: HttpConfig,
    pub limits: LimitsConfig,
    pub db: DbConfig,
    pub redis: RedisConfig,
    pub auth: AuthConfig,
    pub otp: OtpConfig,
    pub ws: WsConfig,
    pub messages: MessagesConfig,
    pub attachments: AttachmentsConfig,
    pub push: PushConfig,
    pub calls: CallsConfig,
}

/// Where the server listens and whom it believes.
#[derive(Debug)]
pub struct HttpConfig {
    /// `PORT`.
    pub port: u16,
    /// `HOST`.
    pub host: String,
    /// Origins allowed to call the API from a browser (`CORS_ALLOWED_ORIGINS`,
    /// comma-separated); any origin in development.
    pub cors_allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`,
    /// comma-separated addresses and CIDR ranges; default loopback, where a local
    /// nginx sits).
    pub trusted_proxies: chitchat_api_http::TrustedProxies,
}

/// What one client may ask of the HTTP edge.
#[derive(Debug)]
pub struct LimitsConfig {
    /// REST requests a minute per user (per address when anonymous), on average
    /// (`RATE_LIMIT_REQUESTS_PER_MINUTE`).
    pub rate_limit_requests_per_minute: u32,
    /// REST requests a caller may make at once before the average applies (`RATE_LIMIT_BURST`).
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
}

/// The database.
#[derive(Debug)]
pub struct DbConfig {
    /// `DATABASE_URL`, which may carry a password; default SQLite in `DATA_DIR`.
    pub url: SecretString,
    /// `DB_MAX_OPEN_CONNS`.
    pub max_open_conns: usize,
}

/// Redis, which instances of one deployment share; unused when `url` is None.
#[derive(Debug)]
pub struct RedisConfig {
    /// `REDIS_URL`, which may carry a password.
    pub url: Option<SecretString>,
    /// Overrides the URL's password when set (`REDIS_PASSWORD`).
    pub password: Option<SecretString>,
    /// Overrides the URL's database number when set (`REDIS_DB`).
    pub db: Option<i64>,
    /// The pub/sub channel of this deployment (`REDIS_CHANNEL`); deployments sharing
    /// one Redis keep apart by using different channels.
    pub channel: String,
}

/// Tokens.
#[derive(Debug)]
pub struct AuthConfig {
    /// `JWT_SECRET`; None: generate (development) and keep in the data directory.
    pub jwt_secret: Option<SecretString>,
    /// `JWT_EXPIRATION`.
    pub jwt_expiration: Duration,
}

/// Login codes.
#[derive(Debug)]
pub struct OtpConfig {
    /// How long a phone waits before another login code is sent (`OTP_RESEND_COOLDOWN`; may be 0s).
    pub resend_cooldown: Duration,
    /// Where login codes are POSTed for delivery by SMS (`OTP_WEBHOOK_URL`, which
    /// may carry a key). Production needs it, `smtp_url` or `admin_codes_only`:
    /// codes are never logged there.
    pub webhook_url: Option<SecretString>,
    /// Bearer token for that webhook (`OTP_WEBHOOK_TOKEN`).
    pub webhook_token: Option<SecretString>,
    /// The one code every login accepts, in development only (`OTP_FIXED_CODE`).
    pub fixed_code: Option<OtpCode>,
    /// The mail server that codes go through to verified addresses (`SMTP_URL`,
    /// `smtp://host:587?tls=required` or `smtps://user:password@host`); None: no email.
    pub smtp_url: Option<SecretString>,
    /// The sender of code mails (`SMTP_FROM`, `chat@example.org` or
    /// `Family chat <chat@example.org>`, whose name the mails give the server); set with `smtp_url`.
    pub smtp_from: Option<String>,
    /// `LOGIN_CODE_DELIVERY=admin`: codes come only from `chitchat admin login-code`;
    /// nothing is sent (then neither `webhook_url` nor `smtp_url` is set).
    pub admin_codes_only: bool,
}

/// The WebSocket gateway and presence.
#[derive(Debug)]
pub struct WsConfig {
    /// Largest client frame, in bytes (`WS_MAX_MESSAGE_SIZE`).
    pub max_message_size: usize,
    /// Sockets one user may hold open on one instance (`WS_MAX_CONNECTIONS_PER_USER`).
    pub max_connections_per_user: usize,
    /// Sockets one device session may hold open on one instance (`WS_MAX_CONNECTIONS_PER_SESSION`).
    pub max_connections_per_session: usize,
    /// Bytes of client frames that may wait behind the one being handled before
    /// the server stops reading the socket (`WS_READ_BUFFER_SIZE`).
    pub read_buffer_size: usize,
    /// Events one device may have waiting to be written before it is cut off as
    /// too slow and told to resume (`WS_WRITE_BUFFER_SIZE`).
    pub write_buffer_size: usize,
    /// `WS_PING_PERIOD`.
    pub ping_period: Duration,
    /// `WS_PONG_WAIT`.
    pub pong_wait: Duration,
    /// How long one WebSocket send may wait for a client that does not read (`WS_WRITE_WAIT`).
    pub write_wait: Duration,
    /// How long a user stays online after their last device leaves (`PRESENCE_GRACE_PERIOD`).
    pub presence_grace_period: Duration,
}

/// Groups and changes to sent messages.
#[derive(Debug)]
pub struct MessagesConfig {
    /// Most active members of one group, its admins included (`GROUP_MAX_MEMBERS`).
    pub group_max_members: usize,
    /// How long after sending its sender may edit a message (`MESSAGE_EDIT_WINDOW`).
    pub edit_window: Duration,
    /// How long after sending its sender may delete a message for everyone
    /// (`MESSAGE_DELETE_WINDOW`); group admins may at any time.
    pub delete_window: Duration,
}

/// Uploaded files.
#[derive(Debug)]
pub struct AttachmentsConfig {
    /// Largest file accepted by `POST /api/attachments`, in bytes (`MAX_UPLOAD_SIZE`).
    pub max_upload_size: u64,
    /// Memory all image decodes for thumbnails may take at once, in bytes
    /// (`THUMBNAIL_MEMORY_BUDGET`).
    pub thumbnail_memory_budget: u64,
    /// Where attachments are stored (`STORAGE_URL`, `s3://bucket/prefix`); None:
    /// the directory `DATA_DIR/attachments`.
    pub storage_url: Option<String>,
    /// How long a signed attachment download link works (`ATTACHMENT_LINK_TTL`).
    pub link_ttl: Duration,
}

/// Web Push.
#[derive(Debug)]
pub struct PushConfig {
    /// `VAPID_PRIVATE_KEY`; None: generate (development) and keep in the data
    /// directory, or push is off (production).
    pub vapid_private_key: Option<SecretString>,
    /// `VAPID_SUBJECT`: the contact push services see (`mailto:` or `https:`).
    pub vapid_subject: Option<String>,
}

/// The STUN and TURN servers that calls connect through.
#[derive(Debug)]
pub struct CallsConfig {
    /// `STUN_URLS`: comma-separated `stun:`/`stuns:` URLs; empty: none.
    pub stun_urls: Vec<String>,
    /// `TURN_URLS`: comma-separated `turn:`/`turns:` URLs of one TURN service
    /// (coturn with `use-auth-secret`); empty: no TURN. Set with `turn_secret`.
    pub turn_urls: Vec<String>,
    /// `TURN_SECRET`: the TURN server's `static-auth-secret`, which signs the
    /// logins handed out; set with `turn_urls`.
    pub turn_secret: Option<SecretString>,
    /// How long a TURN login works (`TURN_TTL`).
    pub turn_ttl: Duration,
}
