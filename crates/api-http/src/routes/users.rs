use crate::auth::Authenticated;
use crate::error::ApiResult;
use actix_web::{get, web, HttpResponse};
use chitchat_domain::user::User;
use chitchat_domain::Services;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct SearchResponse {
    users: Vec<User>,
}

/// `GET /api/users/search?q=`: people to start a chat with.
#[utoipa::path(
    tag = "users",
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching people: by name, and by number among those who know the caller", body = SearchResponse),
    ),
    security(("bearer" = [])),
)]
#[get("/users/search")]
pub(crate) async fn search(
    services: web::Data<Services>,
    caller: Authenticated,
    query: web::Query<SearchQuery>,
) -> ApiResult<HttpResponse> {
    let users = services.users.search(caller.0, &query.q).await?;
    Ok(HttpResponse::Ok().json(SearchResponse { users }))
}
