//! `POST /api/attachments`: a multipart upload, streamed into storage chunk by
//! chunk; the size limit (`MAX_UPLOAD_SIZE`) is enforced while the bytes arrive.

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use actix_multipart::{Field, Multipart};
use actix_web::{post, web, HttpRequest, HttpResponse};
use chitchat_domain::services::Upload;
use chitchat_domain::{DomainError, Services};
use chitchat_domain::{ErrorCode, ErrorKind};
use futures_util::StreamExt;

/// The form field that carries the file.
const FILE_FIELD: &str = "file";
/// How much of a refused upload is still read (and thrown away) so that the
/// client gets the error instead of a reset connection; beyond it the
/// connection is dropped.
const DRAIN_CAP: u64 = 16 * 1024 * 1024;
/// Room for the multipart framing around the file in `Content-Length`.
const FRAMING_ALLOWANCE: u64 = 64 * 1024;

fn bad_form(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorKind::BadRequest, ErrorCode::InvalidMultipart, format!("the upload could not be read: {detail}"))
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers().get(actix_web::http::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// The form `POST /api/attachments` reads, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct UploadForm {
    /// The file; its type is taken from its bytes, not from what the client says.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// `POST /api/attachments` with a `multipart/form-data` body whose `file` field
/// is the file: 201 with the attachment (`id`, `kind`, `mime_type`, `name`,
/// `size`, `width`, `height`, `has_thumbnail`). Nothing is kept of a refused one.
#[utoipa::path(
    tag = "attachments",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored; send it with a message by its id", body = chitchat_domain::attachment::AttachmentInfo),
        (status = 400, description = "The form could not be read, or has no `file` field", body = crate::error::ErrorBody),
        (status = 413, description = "Larger than `MAX_UPLOAD_SIZE`; nothing was kept", body = crate::error::ErrorBody),
        (status = 422, description = "The file breaks a rule (for example, it is empty)", body = crate::error::ErrorBody),
        (status = 503, description = "Too many images are being decoded (`media_busy`); nothing was kept, try again after `Retry-After` seconds", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::limits::rate_limit)")]
pub(crate) async fn upload(
    services: web::Data<Services>,
    caller: Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let limit = services.attachments.policy().max_upload_size;
    // Announced as far too large: refuse before reading anything.
    if declared_length(&req).is_some_and(|length| length > limit + FRAMING_ALLOWANCE + DRAIN_CAP) {
        return Err(too_large(limit));
    }
    let mut form = Multipart::new(req.headers(), payload);
    while let Some(field) = form.next().await {
        let field = field.map_err(bad_form)?;
        if field.name() != Some(FILE_FIELD) {
            drain(field).await?;
            continue;
        }
        let file_name = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        let started = services.attachments.begin_upload(caller.0, file_name.as_deref()).await?;
        let received = match receive(field, started).await {
            Ok(received) => received,
            Err((unfinished, error)) => {
                services.attachments.abort_upload(unfinished).await;
                // Read the rest away (within reason) so the client sees the answer.
                let mut rest = 0;
                while let Some(Ok(field)) = form.next().await {
                    rest += drain_counted(field).await;
                    if rest > DRAIN_CAP {
                        break;
                    }
                }
                return Err(error);
            }
        };
        let info = services.attachments.finish_upload(received).await?;
        while let Some(field) = form.next().await {
            drain(field.map_err(bad_form)?).await?;
        }
        metrics::counter!("chitchat_attachments_uploaded_total", "kind" => info.kind.as_str()).increment(1);
        return Ok(HttpResponse::Created().json(info));
    }
    Err(ApiError::new(
        ErrorKind::Invalid,
        ErrorCode::MissingFile,
        "send the file as the multipart/form-data field \"file\"",
    ))
}

fn too_large(limit: u64) -> ApiError {
    DomainError::too_large(ErrorCode::UploadTooLarge, format!("a file may be at most {limit} bytes (MAX_UPLOAD_SIZE)"))
        .into()
}

/// Streams the field into the upload. On failure hands the upload back with the
/// error, so the caller can discard it; an over-limit file stops being read
/// where it crossed the limit, and the remainder of the field is read away.
async fn receive(mut field: Field, mut receiving: Upload) -> Result<Upload, (Upload, ApiError)> {
    while let Some(chunk) = field.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => return Err((receiving, bad_form(error))),
        };
        if let Err(error) = receiving.write(&chunk).await {
            drain_counted(field).await;
            return Err((receiving, error.into()));
        }
    }
    Ok(receiving)
}

/// Reads a field to its end and forgets it.
async fn drain(mut field: Field) -> ApiResult<()> {
    while let Some(chunk) = field.next().await {
        chunk.map_err(bad_form)?;
    }
    Ok(())
}

/// Reads away up to `DRAIN_CAP` bytes of a field; returns how many.
async fn drain_counted(mut field: Field) -> u64 {
    let mut seen = 0u64;
    while let Some(Ok(chunk)) = field.next().await {
        seen += chunk.len() as u64;
        if seen > DRAIN_CAP {
            break;
        }
    }
    seen
}
