use super::parse_chat_id;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use actix_web::{get, web, HttpResponse};
use chitchat_domain::search::SearchHit;
use chitchat_domain::Services;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    #[serde(default)]
    q: String,
    /// Only this chat.
    #[param(format = Uuid)]
    chat_id: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Results {
    results: Vec<SearchHit>,
}

/// `GET /api/messages/search?q=&chat_id=&limit=&offset=`: the caller's messages
/// that match, newest first, each with an excerpt and the matches' positions.
#[utoipa::path(
    tag = "search",
    params(SearchParams),
    responses(
        (status = 200, description = "Matches, newest first, with highlighted excerpts", body = Results),
        (status = 404, description = "No such chat, or not a member", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[get("/messages/search")]
pub(crate) async fn messages(
    services: web::Data<Services>,
    caller: Authenticated,
    params: web::Query<SearchParams>,
) -> ApiResult<HttpResponse> {
    let chat = params.chat_id.as_deref().map(parse_chat_id).transpose()?;
    let results = services.search.messages(caller.0, &params.q, chat, params.limit, params.offset).await?;
    Ok(HttpResponse::Ok().json(Results { results }))
}
