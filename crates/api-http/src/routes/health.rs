use actix_web::{get, web, HttpResponse};
use chitchat_domain::Services;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    status: &'static str,
    timestamp: chrono::DateTime<chrono::Utc>,
    services: ServiceStates,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ServiceStates {
    database: &'static str,
    redis: &'static str,
    websocket: &'static str,
}

/// `GET /health`: the seed's body; 503 when the database does not answer. A Redis
/// outage is reported but keeps the instance healthy: it still serves its own clients.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Healthy", body = Health),
        (status = 503, description = "The database does not answer", body = Health),
    ),
)]
#[get("/health")]
pub(crate) async fn health(services: web::Data<Services>) -> HttpResponse {
    let database_up = services.store_health.ping().await;
    let redis = services.bus.relay_status().await;
    let body = Health {
        status: if database_up { "healthy" } else { "unhealthy" },
        timestamp: chrono::Utc::now(),
        services: ServiceStates {
            database: if database_up { "connected" } else { "disconnected" },
            redis: redis.as_str(),
            websocket: "running",
        },
    };
    if database_up {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
