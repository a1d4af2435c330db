use actix_web::{web, HttpResponse};
use chitchat_domain::Services;
use serde::Serialize;

/// What `/health` reports beyond the database.
#[derive(Debug, Clone)]
pub struct HealthSettings {
    /// `not_configured` while running on the in-process bus.
    pub redis: &'static str,
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    timestamp: chrono::DateTime<chrono::Utc>,
    services: ServiceStates,
}

#[derive(Serialize)]
struct ServiceStates {
    database: &'static str,
    redis: &'static str,
    websocket: &'static str,
}

/// `GET /health`: the seed's body; 503 when the database does not answer.
pub(crate) async fn health(
    services: web::Data<Services>,
    settings: web::Data<HealthSettings>,
) -> HttpResponse {
    let database_up = services.store_health.ping().await;
    let body = Health {
        status: if database_up { "healthy" } else { "unhealthy" },
        timestamp: chrono::Utc::now(),
        services: ServiceStates {
            database: if database_up {
                "connected"
            } else {
                "disconnected"
            },
            redis: settings.redis,
            websocket: "running",
        },
    };
    if database_up {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
