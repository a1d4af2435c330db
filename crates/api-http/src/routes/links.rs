//! Linking a new device from a logged-in one: the new device asks for a link and
//! shows its pairing code and a QR code of it, a logged-in device of the same person
//! confirms the code, and the new device claims its session.

use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use chitchat_domain::auth::link::{ClaimOutcome, LinkSummary};
use chitchat_domain::{LinkId, Services};
use qrcode::render::svg;
use qrcode::QrCode;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct LinkRequest {
    /// The number to log in as, written as on the login form.
    pub(crate) phone: String,
    /// A label for the new device; its user agent when absent.
    #[serde(default)]
    pub(crate) device: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct NewLinkResponse {
    link_id: LinkId,
    /// Eight characters to type on the logged-in device (shown as `ABCD-2345`).
    #[schema(example = "ABCD2345")]
    pairing_code: String,
    /// The web client's address that opens the confirmation, `{origin}/#link=CODE`.
    qr_url: String,
    /// `qr_url` as a QR code, an SVG document.
    qr_svg: String,
    /// Kept by the new device only: it claims the session with it.
    claim_secret: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /api/auth/links`: a new device asks to be linked to the person of `phone`.
/// The answer is the same whether or not the phone has an account.
#[utoipa::path(
    tag = "auth",
    request_body = LinkRequest,
    responses(
        (status = 201, description = "A pairing code, valid for 2 minutes", body = NewLinkResponse),
        (status = 422, description = "Not a valid phone number", body = crate::error::ErrorBody),
    ),
)]
#[post("/auth/links")]
pub(crate) async fn create(
    services: web::Data<Services>,
    req: HttpRequest,
    body: JsonBody<LinkRequest>,
) -> ApiResult<HttpResponse> {
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let device = body.device.as_deref().filter(|d| !d.trim().is_empty()).unwrap_or(user_agent);
    let link = services.links.create(&body.phone, device).await?;
    let code = link.pairing_code.reveal().to_owned();
    let qr_url = format!("{}/#link={code}", client_origin(&req));
    Ok(HttpResponse::Created().json(NewLinkResponse {
        link_id: link.id,
        qr_svg: qr_svg(&qr_url),
        qr_url,
        pairing_code: code,
        claim_secret: link.claim_secret.reveal().to_owned(),
        expires_at: link.expires_at,
    }))
}

/// Where the web client that asked is served: the request's `Origin` when it is
/// a plain `http(s)://host[:port]` (the page that called), else this server's own
/// address as the request names it. Only the caller sees the answer, so a forged
/// header misleads no one else.
fn client_origin(req: &HttpRequest) -> String {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|origin| {
        let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")).unwrap_or_default();
        !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    });
    match origin {
        Some(origin) => origin.to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

/// The QR code of `url`, dark on light whatever the page's theme, with its quiet zone.
fn qr_svg(url: &str) -> String {
    match QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
        // An origin and eight characters always fit a QR code; the typed code still works.
        Err(error) => {
            tracing::warn!(%error, "could not draw the link's QR code");
            String::new()
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct PairingCodeBody {
    /// As shown on the new device; case, spaces and dashes do not matter.
    #[schema(example = "ABCD-2345")]
    pub(crate) pairing_code: String,
}

/// `POST /api/auth/links/lookup`: what confirming this code would log in, before
/// the caller confirms it (the new device's label).
#[utoipa::path(
    tag = "auth",
    request_body = PairingCodeBody,
    responses(
        (status = 200, description = "The device waiting with this code", body = LinkSummary),
        (status = 403, description = "The device asked for another phone number", body = crate::error::ErrorBody),
        (status = 404, description = "No device waits with this code", body = crate::error::ErrorBody),
        (status = 409, description = "Already confirmed", body = crate::error::ErrorBody),
        (status = 410, description = "The code has expired", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/auth/links/lookup")]
pub(crate) async fn lookup(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<PairingCodeBody>,
) -> ApiResult<HttpResponse> {
    let summary = services.links.lookup(caller.0, &body.pairing_code).await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// `POST /api/auth/links/confirm`: logs the device waiting with this code in as
/// the caller, on a device session of its own.
#[utoipa::path(
    tag = "auth",
    request_body = PairingCodeBody,
    responses(
        (status = 200, description = "Confirmed: the new device's session is open", body = LinkSummary),
        (status = 403, description = "The device asked for another phone number", body = crate::error::ErrorBody),
        (status = 404, description = "No device waits with this code", body = crate::error::ErrorBody),
        (status = 409, description = "Already confirmed", body = crate::error::ErrorBody),
        (status = 410, description = "The code has expired", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/auth/links/confirm")]
pub(crate) async fn confirm(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<PairingCodeBody>,
) -> ApiResult<HttpResponse> {
    let summary = services.links.confirm(caller.0, &body.pairing_code).await?;
    Ok(HttpResponse::Ok().json(summary))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ClaimBody {
    pub(crate) claim_secret: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct PendingResponse {
    #[schema(example = "pending")]
    status: &'static str,
}

/// `POST /api/auth/links/{link_id}/claim`: the new device asks, every second or
/// two, whether its code was confirmed; once it was, it gets its login, once.
#[utoipa::path(
    tag = "auth",
    params(("link_id" = String, Path, format = Uuid, description = "The link's id, from `POST /api/auth/links`")),
    request_body = ClaimBody,
    responses(
        (status = 200, description = "Confirmed: a token for this device", body = chitchat_domain::auth::LoginOutcome),
        (status = 202, description = "Not confirmed yet; ask again", body = PendingResponse),
        (status = 404, description = "No link has this id and claim secret", body = crate::error::ErrorBody),
        (status = 410, description = "Expired, or already claimed", body = crate::error::ErrorBody),
    ),
)]
#[post("/auth/links/{link_id}/claim")]
pub(crate) async fn claim(
    services: web::Data<Services>,
    path: web::Path<String>,
    body: JsonBody<ClaimBody>,
) -> ApiResult<HttpResponse> {
    Ok(match services.links.claim(&path, &body.claim_secret).await? {
        ClaimOutcome::Pending => HttpResponse::Accepted().json(PendingResponse { status: "pending" }),
        ClaimOutcome::LoggedIn(outcome) => HttpResponse::Ok().json(outcome),
    })
}
