use crate::auth::Authenticated;
use crate::error::ApiResult;
use actix_web::{web, HttpResponse};
use chitchat_domain::user::User;
use chitchat_domain::Services;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
struct SearchResponse {
    users: Vec<User>,
}

/// `GET /api/users/search?q=`: people to start a chat with.
pub(crate) async fn search(
    services: web::Data<Services>,
    caller: Authenticated,
    query: web::Query<SearchQuery>,
) -> ApiResult<HttpResponse> {
    let users = services.users.search(caller.0, &query.q).await?;
    Ok(HttpResponse::Ok().json(SearchResponse { users }))
}
