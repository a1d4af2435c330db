//! Wiring: adapters chosen by configuration, services built once, the actix-web app.

use crate::config::{Config, RunMode};
use crate::secret::signing_secret;
use actix_web::{web, App, HttpServer};
use chitchat_auth::{FixedCode, JwtTokens, LogOtpSender, RandomCodes};
use chitchat_domain::chat::GroupPolicy;
use chitchat_domain::clock::SystemClock;
use chitchat_domain::ports::CodeGenerator;
use chitchat_domain::services::{AuthPolicy, Ports};
use chitchat_domain::Services;
use chitchat_gateway_ws::GatewaySettings;
use chitchat_realtime_local::{LocalBus, DEFAULT_DEVICE_QUEUE};
use chitchat_realtime_redis::{RedisRelay, RedisRelayConfig};
use chitchat_store_sql::{Store, StoreConfig};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] chitchat_store_sql::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("JWT_EXPIRATION: {0}")]
    Duration(String),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] chitchat_realtime_redis::RelayError),
}

/// Development: readable text. Production: one JSON object per line.
pub fn init_tracing(mode: RunMode) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false);
    match mode {
        RunMode::Production => builder.json().init(),
        RunMode::Development => builder.init(),
    }
}

/// The in-process bus, linked to the other instances through Redis when `REDIS_URL` is set.
async fn event_bus(config: &Config) -> Result<Arc<LocalBus>, StartError> {
    let Some(url) = &config.redis_url else {
        return Ok(Arc::new(LocalBus::default()));
    };
    let relay = RedisRelay::connect(RedisRelayConfig {
        url: url.clone(),
        password: config.redis_password.clone(),
        db: config.redis_db,
        channel: config.redis_channel.clone(),
    })
    .await?;
    tracing::info!(channel = %config.redis_channel, "Redis connected: events reach every instance");
    Ok(Arc::new(LocalBus::with_relay(DEFAULT_DEVICE_QUEUE, Arc::new(relay))))
}

pub async fn serve(config: Config) -> Result<(), StartError> {
    let store =
        Store::connect(&StoreConfig { url: config.database_url.clone(), max_connections: config.db_max_open_conns })
            .await?;
    tracing::info!(backend = ?store.backend(), "database ready, migrations applied");
    let bus = event_bus(&config).await?;
    let store = Arc::new(store);
    let secret = signing_secret(&config)?;
    let codes: Arc<dyn CodeGenerator> = match &config.otp_fixed_code {
        Some(code) => {
            tracing::warn!("OTP_FIXED_CODE is set: every login code is the fixed development code");
            Arc::new(FixedCode(code.clone()))
        }
        None => Arc::new(RandomCodes),
    };
    let ports = Ports {
        users: store.clone(),
        otps: store.clone(),
        sessions: store.clone(),
        chats: store.clone(),
        messages: store.clone(),
        store_health: store.clone(),
        bus,
        otp_sender: Arc::new(LogOtpSender),
        codes,
        tokens: Arc::new(JwtTokens::new(secret.as_bytes())),
        clock: Arc::new(SystemClock),
    };
    let token_ttl =
        chrono::Duration::from_std(config.jwt_expiration).map_err(|e| StartError::Duration(e.to_string()))?;
    let policy = AuthPolicy {
        region: config.default_region,
        token_ttl,
        otp_pepper: format!("otp:{secret}"),
        ..AuthPolicy::default()
    };
    let groups = GroupPolicy { max_members: config.group_max_members };
    let services = web::Data::new(Services::new(ports, policy, groups));
    let gateway = web::Data::new(GatewaySettings {
        max_frame_bytes: config.ws_max_message_size,
        ping_period: config.ws_ping_period,
        pong_wait: config.ws_pong_wait,
    });

    let server = HttpServer::new(move || {
        App::new()
            .app_data(services.clone())
            .app_data(gateway.clone())
            .wrap(chitchat_api_http::security_headers())
            .configure(chitchat_api_http::configure)
            .configure(chitchat_gateway_ws::configure)
            .default_service(chitchat_api_http::default_service())
    })
    .shutdown_timeout(10)
    .bind((config.host.as_str(), config.port))?;

    for addr in server.addrs() {
        // Tests and scripts read this line to find the port when PORT=0.
        println!("chitchat listening on http://{addr}");
        tracing::info!(%addr, "listening");
    }
    server.run().await?;
    Ok(())
}
