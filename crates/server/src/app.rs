//! Wiring: adapters chosen by configuration, services built once, the actix-web app.

use crate::client_noise;
use crate::config::{Config, RunMode};
use crate::secret::signing_secret;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use chitchat_api_http::{BodyTimeouts, ConnectionLimit, RateLimits};
use chitchat_auth::{
    FixedCode, HmacLinkSigner, JwtTokens, LogOtpSender, RandomCodes, SmtpEmailSender, TurnRestCredentials,
    WebhookOtpSender,
};
use chitchat_blob_store::ObjectBlobStore;
use chitchat_domain::attachment::AttachmentPolicy;
use chitchat_domain::call::CallPolicy;
use chitchat_domain::chat::GroupPolicy;
use chitchat_domain::clock::SystemClock;
use chitchat_domain::ice::IcePolicy;
use chitchat_domain::membership::CachedChatRepo;
use chitchat_domain::message::MessagePolicy;
use chitchat_domain::ports::cluster::{MembershipCache, RateQuota, RelayStatus, RequestCounter};
use chitchat_domain::ports::{CallRegistry, CodeGenerator, EmailSender, OtpSender, PresenceTracker, TurnCredentials};
use chitchat_domain::services::{AuthPolicy, Policies, Ports, PushPolicy};
use chitchat_domain::Services;
use chitchat_gateway_ws::{GatewaySettings, Shutdown, SocketCounts};
use chitchat_realtime_local::{LocalBus, LocalCallRegistry, LocalMembershipCache, LocalPresence, LocalRequestCounter};
use chitchat_realtime_redis::{
    RedisCallRegistry, RedisMembershipCache, RedisPresence, RedisPresenceConfig, RedisRelay, RedisRelayConfig,
    RedisRequestCounter, DEFAULT_MEMBERS_TTL,
};
use chitchat_store_sql::{Store, StoreConfig};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] chitchat_store_sql::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{var}: {source}")]
    Duration {
        var: &'static str,
        #[source]
        source: chrono::OutOfRangeError,
    },
    #[error("OTP_WEBHOOK_URL: {0}")]
    Otp(#[from] chitchat_auth::WebhookError),
    #[error(transparent)]
    Smtp(#[from] chitchat_auth::SmtpError),
    #[error("metrics: {0}")]
    Metrics(#[from] metrics_exporter_prometheus::BuildError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] chitchat_realtime_redis::RelayError),
    #[error("{0}")]
    Storage(#[from] chitchat_blob_store::BlobStoreError),
    #[error(transparent)]
    PushKey(#[from] crate::push_key::PushKeyError),
    #[error("push notifications: {0}")]
    PushClient(#[from] chitchat_push_web::ClientError),
}

/// Development: readable text. Production: one JSON object per line. On stdout
/// when serving, on stderr for the commands whose results go to stdout.
pub fn init_tracing(mode: RunMode, to_stderr: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let output = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(move || -> Box<dyn std::io::Write> {
        if to_stderr {
            Box::new(std::io::stderr())
        } else {
            Box::new(std::io::stdout())
        }
    });
    let output = match mode {
        RunMode::Production => output.json().boxed(),
        RunMode::Development => output.boxed(),
    };
    let output = output.with_filter(tracing_subscriber::filter::filter_fn(|meta| !client_noise::is_peer_caused(meta)));
    tracing_subscriber::registry().with(filter).with(output).with(client_noise::DemotePeerErrors).init();
}

/// The ways login codes go out.
struct CodeSenders {
    /// The SMS webhook when configured, else (development, unless codes come only
    /// from the operator) the log.
    sms: Option<Arc<dyn OtpSender>>,
    /// Email to verified addresses, with `SMTP_URL`.
    email: Option<Arc<dyn EmailSender>>,
}

fn code_senders(config: &Config) -> Result<CodeSenders, StartError> {
    let mut ways = Vec::new();
    let sms: Option<Arc<dyn OtpSender>> = match &config.otp.webhook_url {
        Some(url) => {
            ways.push("sms_webhook");
            Some(Arc::new(WebhookOtpSender::new(url.clone(), config.otp.webhook_token.clone())?))
        }
        None if config.mode == RunMode::Development && !config.otp.admin_codes_only => {
            tracing::warn!("no OTP_WEBHOOK_URL: login codes are written to this log (development only)");
            ways.push("log");
            Some(Arc::new(LogOtpSender))
        }
        None => None,
    };
    let email: Option<Arc<dyn EmailSender>> = match (&config.otp.smtp_url, &config.otp.smtp_from) {
        (Some(url), Some(from)) => {
            ways.push("email");
            Some(Arc::new(SmtpEmailSender::new(url, from)?))
        }
        _ => None,
    };
    // The operator's `chitchat admin login-code` works whatever is configured.
    ways.push("admin");
    tracing::info!(login_code_delivery = %ways.join(","), "login codes are delivered these ways");
    Ok(CodeSenders { sms, email })
}

/// The process-wide metrics recorder behind `/metrics`, with its upkeep task.
fn install_metrics() -> Result<PrometheusHandle, StartError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_seconds".to_owned()),
            &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5],
        )?
        .install_recorder()?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            ticks.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// Periodically takes the users of crashed instances offline (a no-op on one instance).
/// Also refreshes the gauges of the database pool and the Redis link.
fn spawn_presence_sweeper(services: Arc<Services>, store: Arc<Store>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every / 2);
        loop {
            ticks.tick().await;
            match services.presence.expire_dead_instances().await {
                // Their sockets closed nowhere: their calls start the drop timeout now.
                Ok(gone) => services.calls.people_gone(&gone).await,
                Err(error) => tracing::warn!(%error, "could not expire the presence of dead instances"),
            }
            let pool = store.pool_status();
            metrics::gauge!("chitchat_db_pool_connections", "state" => "open").set(pool.open as f64);
            metrics::gauge!("chitchat_db_pool_connections", "state" => "idle").set(pool.idle as f64);
            metrics::gauge!("chitchat_db_pool_max_connections").set(pool.max as f64);
            let redis = services.bus.relay_status().await;
            metrics::gauge!("chitchat_redis_connected").set(if redis == RelayStatus::Connected { 1.0 } else { 0.0 });
        }
    });
}

/// Every second, applies the calls' deadlines that passed (ringing, dropped
/// devices); with Redis every instance looks, and one applies each.
fn spawn_call_deadlines(services: Arc<Services>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            ticks.tick().await;
            if let Err(error) = services.calls.expire_due().await {
                tracing::warn!(%error, "could not apply the calls' deadlines");
            }
        }
    });
}

/// How often uploads that were never sent are looked for.
const ORPHAN_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Periodically removes uploads no message carries once they are a day old.
fn spawn_attachment_sweeper(services: Arc<Services>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(ORPHAN_SWEEP_EVERY);
        loop {
            ticks.tick().await;
            if let Err(error) = services.attachments.sweep_orphans().await {
                tracing::warn!(%error, "could not sweep unsent uploads");
            }
        }
    });
}

/// Where attachment files live: `STORAGE_URL`, else `DATA_DIR/attachments`.
fn blob_store(config: &Config) -> Result<ObjectBlobStore, StartError> {
    let blobs = ObjectBlobStore::open(config.attachments.storage_url.as_deref(), &config.data_dir.join("attachments"))?;
    tracing::info!(storage = blobs.describe(), "attachment storage ready");
    Ok(blobs)
}

/// The live side of the deployment: in-process on one instance; with `REDIS_URL`,
/// events, presence, cached memberships and request counters shared by every
/// instance through Redis.
struct Realtime {
    bus: Arc<LocalBus>,
    presence: Arc<dyn PresenceTracker>,
    members: Arc<dyn MembershipCache>,
    calls: Arc<dyn CallRegistry>,
    /// None on one instance: the local counters count alone.
    shared_counters: Option<Arc<dyn RequestCounter>>,
}

async fn realtime(config: &Config) -> Result<Realtime, StartError> {
    let Some(url) = &config.redis.url else {
        return Ok(Realtime {
            bus: Arc::new(LocalBus::new()),
            presence: Arc::new(LocalPresence::default()),
            members: Arc::new(LocalMembershipCache::default()),
            calls: Arc::new(LocalCallRegistry::default()),
            shared_counters: None,
        });
    };
    let redis = RedisRelayConfig {
        url: url.expose_secret().to_owned(),
        password: config.redis.password.as_ref().map(|password| password.expose_secret().to_owned()),
        db: config.redis.db,
        channel: config.redis.channel.clone(),
    };
    let relay = RedisRelay::connect(redis.clone()).await?;
    let members = RedisMembershipCache::connect(&redis, &config.redis.channel, DEFAULT_MEMBERS_TTL).await?;
    let counters = RedisRequestCounter::connect(&redis, &config.redis.channel).await?;
    let calls = RedisCallRegistry::connect(&redis, &config.redis.channel).await?;
    let presence = RedisPresence::connect(RedisPresenceConfig::new(redis, config.ws.pong_wait)).await?;
    tracing::info!(channel = %config.redis.channel, "Redis connected: events, presence, calls, memberships and request counts shared by every instance");
    Ok(Realtime {
        bus: Arc::new(LocalBus::with_relay(Arc::new(relay))),
        presence: Arc::new(presence),
        members: Arc::new(members),
        calls: Arc::new(calls),
        shared_counters: Some(Arc::new(counters)),
    })
}

/// Connects to the database and applies pending migrations.
async fn open_store(config: &Config) -> Result<Store, StartError> {
    crate::data_dir::prepare(&config.data_dir)?;
    let store = Store::connect(&StoreConfig {
        url: config.db.url.expose_secret().to_owned(),
        max_connections: config.db.max_open_conns,
    })
    .await?;
    tracing::info!(backend = ?store.backend(), "database ready, migrations applied");
    Ok(store)
}

/// `chitchat migrate`: applies pending migrations and stops.
pub async fn migrate(config: &Config) -> Result<(), StartError> {
    open_store(config).await.map(|_| ())
}

/// `chitchat migrate --check`: the names of the migrations not applied yet.
pub async fn pending_migrations(config: &Config) -> Result<Vec<String>, StartError> {
    Ok(chitchat_store_sql::pending_migrations(config.db.url.expose_secret()).await?)
}

/// The services over the adapters that configuration picks: what `serve` runs and
/// what the operator's commands act through (with Redis, on every instance at once).
pub struct Assembly {
    pub services: web::Data<Services>,
    pub store: Arc<Store>,
    /// None on one instance: the local counters count alone.
    shared_counters: Option<Arc<dyn RequestCounter>>,
    /// The push key and the queue of events to plan, when push is on.
    push: Option<(Arc<chitchat_push_web::VapidKey>, chitchat_push_web::PlanningJobs)>,
}

/// Connects the database (migrating it) and Redis, and builds the services.
pub async fn assemble(config: &Config) -> Result<Assembly, StartError> {
    let store = open_store(config).await?;
    let realtime = realtime(config).await?;
    let store = Arc::new(store);
    let secret = signing_secret(config)?;
    let codes: Arc<dyn CodeGenerator> = match &config.otp.fixed_code {
        Some(code) => {
            tracing::warn!("OTP_FIXED_CODE is set: every login code is the fixed development code");
            Arc::new(FixedCode(code.clone()))
        }
        None => Arc::new(RandomCodes),
    };
    let vapid_key = crate::push_key::vapid_key(config)?.map(Arc::new);
    let (push_queue, planning_jobs): (Arc<dyn chitchat_domain::ports::PushQueue>, _) = match &vapid_key {
        Some(_) => {
            let (queue, jobs) = chitchat_push_web::planning_queue();
            (Arc::new(queue), Some(jobs))
        }
        None => (Arc::new(chitchat_domain::ports::PushOff), None),
    };
    let senders = code_senders(config)?;
    let ports = Ports {
        users: store.clone(),
        emails: store.clone(),
        otps: store.clone(),
        sessions: store.clone(),
        device_links: store.clone(),
        chats: Arc::new(CachedChatRepo::new(store.clone(), realtime.members)),
        messages: store.clone(),
        receipts: store.clone(),
        contacts: store.clone(),
        chat_settings: store.clone(),
        search: store.clone(),
        attachments: store.clone(),
        blobs: Arc::new(blob_store(config)?),
        media: Arc::new(chitchat_media::Media::new(config.attachments.thumbnail_memory_budget)),
        store_health: store.clone(),
        bus: realtime.bus,
        presence: realtime.presence,
        calls: realtime.calls,
        push: store.clone(),
        moderation: store.clone(),
        push_queue,
        otp_sender: senders.sms,
        email_sender: senders.email,
        codes,
        link_secrets: Arc::new(chitchat_auth::RandomLinkSecrets),
        tokens: Arc::new(JwtTokens::new(secret.expose_secret().as_bytes())),
        link_signer: Arc::new(HmacLinkSigner::new(secret.expose_secret().as_bytes())),
        turn_credentials: config.ice.turn_secret.as_ref().map(|secret| {
            Arc::new(TurnRestCredentials::new(secret.expose_secret().as_bytes())) as Arc<dyn TurnCredentials>
        }),
        clock: Arc::new(SystemClock),
    };
    // Durations from configuration, named for the error when one does not fit.
    let to_chrono = |var: &'static str, d: std::time::Duration| {
        chrono::Duration::from_std(d).map_err(|source| StartError::Duration { var, source })
    };
    let token_ttl = to_chrono("JWT_EXPIRATION", config.auth.jwt_expiration)?;
    let policy = AuthPolicy {
        region: config.default_region,
        token_ttl,
        otp_pepper: format!("otp:{}", secret.expose_secret()),
        otp_resend_cooldown: to_chrono("OTP_RESEND_COOLDOWN", config.otp.resend_cooldown)?,
        admin_phones: config.admin_phones.clone(),
        ..AuthPolicy::default()
    };
    let groups = GroupPolicy { max_members: config.messages.group_max_members };
    let messages = MessagePolicy {
        edit_window: to_chrono("MESSAGE_EDIT_WINDOW", config.messages.edit_window)?,
        delete_window: to_chrono("MESSAGE_DELETE_WINDOW", config.messages.delete_window)?,
    };
    let attachments = AttachmentPolicy {
        max_upload_size: config.attachments.max_upload_size,
        link_ttl: to_chrono("ATTACHMENT_LINK_TTL", config.attachments.link_ttl)?,
        ..AttachmentPolicy::default()
    };
    let push = PushPolicy {
        public_key: vapid_key.as_ref().map(|key| key.public_base64url().to_owned()),
        plain_http_endpoints: config.mode == RunMode::Development,
    };
    let ice = IcePolicy {
        stun_urls: config.ice.stun_urls.clone(),
        turn_urls: config.ice.turn_urls.clone(),
        turn_ttl: to_chrono("TURN_TTL", config.ice.turn_ttl)?,
    };
    tracing::info!(
        stun_urls = %ice.stun_urls.join(","),
        turn_urls = %ice.turn_urls.join(","),
        "calls connect through these STUN and TURN servers"
    );
    let calls = CallPolicy {
        max_participants: config.calls.max_participants,
        ring_timeout: to_chrono("CALL_RING_TIMEOUT", config.calls.ring_timeout)?,
        drop_timeout: to_chrono("CALL_DROP_TIMEOUT", config.calls.drop_timeout)?,
    };
    let policies = Policies { auth: policy, groups, messages, attachments, push, ice, calls };
    let services = web::Data::new(Services::new(ports, policies));
    Ok(Assembly { services, store, shared_counters: realtime.shared_counters, push: vapid_key.zip(planning_jobs) })
}

pub async fn serve(config: Config) -> Result<(), StartError> {
    if !config.mode_chosen && !crate::data_dir::is_loopback(&config.http.host) {
        tracing::warn!(
            host = %config.http.host,
            "ENV is not set and the server listens beyond this machine: it runs in DEVELOPMENT mode \
             (browsers from any origin; login codes in this log without OTP_WEBHOOK_URL); set \
             ENV=production for a real deployment, or HOST=127.0.0.1 to keep it on this machine"
        );
    }
    // First, so that everything started below is measured from its first moment.
    let metrics = install_metrics()?;
    let Assembly { services, store, shared_counters, push } = assemble(&config).await?;
    if let Some((key, jobs)) = push {
        let sender = chitchat_push_web::WebPushSender::new(key)?;
        chitchat_push_web::spawn(services.push.clone(), Arc::new(sender), jobs);
    }
    spawn_presence_sweeper(services.clone().into_inner(), store.clone(), config.ws.pong_wait);
    spawn_attachment_sweeper(services.clone().into_inner());
    spawn_call_deadlines(services.clone().into_inner());
    crate::search_indexer::spawn(store.clone());
    let gateway = web::Data::new(GatewaySettings {
        max_frame_bytes: config.ws.max_message_size,
        max_sockets_per_user: config.ws.max_connections_per_user,
        max_sockets_per_session: config.ws.max_connections_per_session,
        read_buffer_bytes: config.ws.read_buffer_size,
        ping_period: config.ws.ping_period,
        pong_wait: config.ws.pong_wait,
        write_wait: config.ws.write_wait,
        device_queue: config.ws.write_buffer_size,
        presence_grace: config.ws.presence_grace_period,
    });

    let trusted_proxies = web::Data::new(config.http.trusted_proxies.clone());
    let limits = web::Data::new(RateLimits::new(
        RateQuota { per_minute: config.limits.rate_limit_requests_per_minute, burst: config.limits.rate_limit_burst },
        shared_counters,
        Arc::new(LocalRequestCounter::default()),
        config.http.trusted_proxies.clone(),
    ));
    let (origins, any_origin) = (config.http.cors_allowed_origins.clone(), config.mode == RunMode::Development);
    let https_only = config.mode == RunMode::Production;
    let shutdown = Shutdown::default();
    let sockets = web::Data::new(shutdown.clone());
    let open_sockets = web::Data::new(SocketCounts::default());
    let body_timeouts = web::Data::new(BodyTimeouts {
        idle: config.limits.body_read_timeout,
        deadline: config.limits.body_deadline,
        upload_deadline: config.limits.upload_body_deadline,
    });
    let connections = ConnectionLimit::new(config.limits.max_connections_per_ip);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(services.clone())
            .app_data(gateway.clone())
            .app_data(sockets.clone())
            .app_data(open_sockets.clone())
            .app_data(limits.clone())
            .app_data(body_timeouts.clone())
            .app_data(trusted_proxies.clone())
            .wrap(from_fn(chitchat_api_http::body_timeouts))
            .wrap(chitchat_api_http::cors(&origins, any_origin))
            .wrap(chitchat_api_http::security_headers(https_only))
            // gzip or brotli as the client accepts; never a WebSocket upgrade (101),
            // an image or a byte range, which actix leaves alone.
            .wrap(actix_web::middleware::Compress::default())
            .wrap(from_fn(chitchat_api_http::observe))
            .wrap(from_fn(chitchat_api_http::connection_limit))
            .configure(chitchat_api_http::metrics_route(metrics.clone()))
            .configure(chitchat_api_http::configure)
            .configure(chitchat_gateway_ws::configure)
            .default_service(chitchat_api_http::default_service())
    })
    .on_connect(move |connection, data| connections.on_connect(connection, data))
    // Small frames must not wait for Nagle's algorithm (it added tens of ms to p99).
    .tcp_nodelay(true)
    .shutdown_timeout(10)
    .disable_signals()
    .bind((config.http.host.as_str(), config.http.port))?;

    for addr in server.addrs() {
        // Tests and scripts read this line to find the port when PORT=0.
        println!("chitchat listening on http://{addr}");
        tracing::info!(%addr, "listening");
    }
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(async move {
        stop_signal().await;
        tracing::info!("stopping: closing sockets so clients resume elsewhere, finishing requests");
        shutdown.begin();
        // New connections are refused at once; requests in flight get up to the shutdown timeout.
        handle.stop(true).await;
    });
    server.await?;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM (orchestrators, `kill`) or SIGINT (Ctrl-C).
async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(error) => {
                tracing::warn!(%error, "cannot watch SIGTERM; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
