//! Signed download links. `POST /api/attachments/{id}/link` gives the caller a
//! URL of the file (and of its thumbnail) that works without `Authorization`
//! until it expires, for `<video>`, `<audio>` and `<img>`, which cannot send a
//! header. The URL's query (`user`, `exp`, `sig`) is read back by [`Reader`].

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{post, web, FromRequest, HttpRequest, HttpResponse};
use chitchat_domain::attachment::{LinkGrant, SignedLink};
use chitchat_domain::auth::Caller;
use chitchat_domain::ErrorCode;
use chitchat_domain::{AttachmentId, DomainError, Services};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

/// The answer of `POST /api/attachments/{id}/link`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AttachmentLink {
    /// The file, as `GET /api/attachments/{id}` serves it, without a header.
    #[schema(
        example = "/api/attachments/0193a1f3-1d7e-7f00-b2c4-5e6f7a8b9c0d?user=0193a1f3-0000-7000-8000-000000000001&exp=1767225600&sig=9f86d0…"
    )]
    url: String,
    /// Its thumbnail the same way, when it has one.
    thumbnail_url: Option<String>,
    /// When both stop working (`ATTACHMENT_LINK_TTL` after issue); ask again then.
    expires_at: DateTime<Utc>,
}

fn link_query(link: &SignedLink) -> String {
    format!("user={}&exp={}&sig={}", link.grant.user_id, link.grant.expires_at, link.signature)
}

impl AttachmentLink {
    fn of(link: &SignedLink) -> Self {
        let path = format!("/api/attachments/{}", link.grant.attachment_id);
        let query = link_query(link);
        Self {
            url: format!("{path}?{query}"),
            thumbnail_url: link.has_thumbnail.then(|| format!("{path}/thumbnail?{query}")),
            expires_at: link.grant.expires_at_time(),
        }
    }
}

#[utoipa::path(
    tag = "attachments",
    params(("id" = String, Path, format = Uuid, description = "Attachment id")),
    responses(
        (status = 200, description = "URLs of the file and its thumbnail that work without a token until `expires_at`", body = AttachmentLink),
        (status = 404, description = "No such attachment, or the caller may not see it", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/{id}/link")]
pub(crate) async fn issue(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = super::attachment_download::parse_id(&path)?;
    let link = services.attachments.issue_link(caller.0, id).await?;
    // A credential: kept by nobody but the client that asked.
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(AttachmentLink::of(&link)))
}

/// What a signed URL's query carries.
#[derive(Deserialize)]
struct LinkQuery {
    user: Option<String>,
    exp: Option<String>,
    sig: Option<String>,
}

/// The signed part of a download URL, before its attachment id is known.
pub(crate) struct LinkParams {
    user_id: chitchat_domain::UserId,
    expires_at: i64,
    pub(crate) signature: String,
}

impl LinkParams {
    pub(crate) fn grant_for(&self, attachment_id: AttachmentId) -> LinkGrant {
        LinkGrant { attachment_id, user_id: self.user_id, expires_at: self.expires_at }
    }

    /// Seconds until it expires, for how long the browser may keep the answer.
    pub(crate) fn seconds_left(&self) -> i64 {
        (self.expires_at - Utc::now().timestamp()).max(0)
    }
}

/// Who reads a download: the bearer of a token, or whoever holds a signed URL.
pub(crate) enum Reader {
    Bearer(Caller),
    Link(LinkParams),
}

/// A malformed link names nothing anyone may read.
fn bad_link() -> ApiError {
    DomainError::not_found(ErrorCode::AttachmentNotFound, "attachment not found").into()
}

/// None when the query carries no link (then the token decides); a link with a
/// part missing or malformed is refused like a forged one.
fn link_params(query: &str) -> Option<Result<LinkParams, ApiError>> {
    // Only a part given twice fails to parse: a link, but not a well-formed one.
    let Ok(parsed) = web::Query::<LinkQuery>::from_query(query).map(web::Query::into_inner) else {
        return Some(Err(bad_link()));
    };
    if parsed.user.is_none() && parsed.exp.is_none() && parsed.sig.is_none() {
        return None;
    }
    let params = || {
        Some(LinkParams {
            user_id: parsed.user.as_deref()?.trim().parse().ok()?,
            expires_at: parsed.exp.as_deref()?.trim().parse().ok()?,
            signature: parsed.sig.clone()?,
        })
    };
    Some(params().ok_or_else(bad_link))
}

impl FromRequest for Reader {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        match link_params(req.query_string()) {
            Some(link) => Box::pin(std::future::ready(link.map(Reader::Link))),
            None => {
                let bearer = Authenticated::from_request(req, payload);
                Box::pin(async move { bearer.await.map(|caller| Reader::Bearer(caller.0)) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_link_parameters_leave_it_to_the_token_and_a_partial_link_is_refused() {
        assert!(link_params("").is_none());
        assert!(link_params("download=1").is_none());
        assert!(link_params("exp=5").is_some_and(|r| r.is_err()));
        assert!(link_params("sig=a&sig=b").is_some_and(|r| r.is_err()));
        assert!(link_params("user=not-a-user&exp=5&sig=ab").is_some_and(|r| r.is_err()));
        let user = chitchat_domain::UserId::new();
        let good = link_params(&format!("user={user}&exp=1767225600&sig=abcd")).unwrap().unwrap();
        assert_eq!((good.user_id, good.expires_at, good.signature.as_str()), (user, 1_767_225_600, "abcd"));
    }
}
