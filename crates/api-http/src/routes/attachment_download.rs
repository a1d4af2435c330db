//! `GET /api/attachments/{id}` and `/thumbnail`: the file for whoever may see it
//! (by token, or by a signed link: see `attachment_link`), with byte ranges
//! (video seeking), a safe file name, and headers that keep browsers from
//! treating it as anything but what it is.

use super::attachment_link::Reader;
use crate::error::{ApiError, ApiResult};
use actix_web::http::header::{
    self, Charset, ContentDisposition, ContentRange, ContentRangeSpec, DispositionParam, DispositionType,
    ExtendedValue, HeaderValue,
};
use actix_web::{get, web, HttpRequest, HttpResponse};
use chitchat_domain::attachment::{ByteRange, Variant};
use chitchat_domain::ports::BlobChunks;
use chitchat_domain::services::Download;
use chitchat_domain::{AttachmentId, DomainError, Services};
use chitchat_domain::{ErrorCode, ErrorKind};
use std::str::FromStr;

/// Content never changes under an id: browsers may keep it, privately, for a year
/// (when read with a token; see `serve` for signed links).
const CACHE_CONTROL: &str = "private, max-age=31536000, immutable";
/// Served files never run anything, even if opened directly.
const FILE_CSP: &str = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox";

pub(crate) fn parse_id(raw: &str) -> Result<AttachmentId, DomainError> {
    raw.trim().parse().map_err(|_| DomainError::not_found(ErrorCode::AttachmentNotFound, "attachment not found"))
}

#[utoipa::path(
    tag = "attachments",
    params(
        ("id" = String, Path, format = Uuid, description = "Attachment id"),
        ("Range" = Option<String>, Header, description = "One byte range, for example `bytes=0-1023`"),
        ("user" = Option<String>, Query, format = Uuid, description = "Signed link: the user it was issued to (from `POST /api/attachments/{id}/link`)"),
        ("exp" = Option<i64>, Query, description = "Signed link: when it expires, in Unix seconds"),
        ("sig" = Option<String>, Query, description = "Signed link: its signature. With `user`, `exp` and `sig` no token is needed"),
    ),
    responses(
        (status = 200, description = "The file, as uploaded", content_type = "*/*", body = Vec<u8>),
        (status = 206, description = "The requested byte range", content_type = "*/*", body = Vec<u8>),
        (status = 304, description = "Unchanged since the `ETag` in `If-None-Match`"),
        (status = 403, description = "The signed link has expired (`link_expired`): ask for a new one", body = crate::error::ErrorBody),
        (status = 404, description = "No such attachment, the caller may not see it, or the signed link is not valid", body = crate::error::ErrorBody),
        (status = 416, description = "The range lies outside the file", body = crate::error::ErrorBody),
        (status = 422, description = "A rule refused the request", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []), ())
)]
#[get("/{id}")]
pub(crate) async fn original(
    services: web::Data<Services>,
    reader: Reader,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    serve(&services, reader, &path, Variant::Original, &req).await
}

#[utoipa::path(
    tag = "attachments",
    params(
        ("id" = String, Path, format = Uuid, description = "Attachment id"),
        ("Range" = Option<String>, Header, description = "One byte range, for example `bytes=0-1023`"),
        ("user" = Option<String>, Query, format = Uuid, description = "Signed link: the user it was issued to (from `POST /api/attachments/{id}/link`)"),
        ("exp" = Option<i64>, Query, description = "Signed link: when it expires, in Unix seconds"),
        ("sig" = Option<String>, Query, description = "Signed link: its signature. With `user`, `exp` and `sig` no token is needed"),
    ),
    responses(
        (status = 200, description = "A small JPEG or PNG preview (images only)", content_type = "*/*", body = Vec<u8>),
        (status = 206, description = "The requested byte range", content_type = "*/*", body = Vec<u8>),
        (status = 304, description = "Unchanged since the `ETag` in `If-None-Match`"),
        (status = 403, description = "The signed link has expired (`link_expired`): ask for a new one", body = crate::error::ErrorBody),
        (status = 404, description = "No such attachment, the caller may not see it, or the signed link is not valid", body = crate::error::ErrorBody),
        (status = 416, description = "The range lies outside the file", body = crate::error::ErrorBody),
        (status = 422, description = "A rule refused the request", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []), ())
)]
#[get("/{id}/thumbnail")]
pub(crate) async fn thumbnail(
    services: web::Data<Services>,
    reader: Reader,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    serve(&services, reader, &path, Variant::Thumbnail, &req).await
}

async fn serve(
    services: &Services,
    reader: Reader,
    raw_id: &str,
    variant: Variant,
    req: &HttpRequest,
) -> ApiResult<HttpResponse> {
    let id = parse_id(raw_id)?;
    let (download, cache_control) = match reader {
        Reader::Bearer(caller) => (services.attachments.open(caller, id, variant).await?, CACHE_CONTROL.to_owned()),
        Reader::Link(link) => {
            let download = services.attachments.open_link(link.grant_for(id), &link.signature, variant).await?;
            // Never in a shared cache, and in the browser's no longer than the link works.
            (download, format!("private, max-age={}", link.seconds_left()))
        }
    };
    let etag = format!("\"{}{}\"", id.0.simple(), if variant == Variant::Thumbnail { "-t" } else { "" });
    if req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(&etag)) {
        let mut response = HttpResponse::NotModified();
        response.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, cache_control));
        return Ok(response.finish());
    }
    let size = download.size;
    let range = match requested_range(req, size) {
        Ok(range) => range,
        Err(()) => {
            let error = ApiError::new(
                ErrorKind::RangeNotSatisfiable,
                ErrorCode::RangeNotSatisfiable,
                format!("the file has {size} bytes"),
            );
            let mut response = actix_web::ResponseError::error_response(&error);
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).map_err(|_| error_header())?,
            );
            return Ok(response);
        }
    };
    let chunks = services.attachments.read(&download, range).await?;
    let mut response = match range {
        Some(r) => {
            let mut partial = HttpResponse::PartialContent();
            partial.insert_header(ContentRange(ContentRangeSpec::Bytes {
                range: Some((r.start, r.end - 1)),
                instance_length: Some(size),
            }));
            partial
        }
        None => HttpResponse::Ok(),
    };
    response
        .content_type(download.mime_type.as_str())
        .insert_header(disposition(&download))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, FILE_CSP))
        // Sent as stored: byte ranges and the download's progress need the real
        // length, and most files are compressed already.
        .insert_header(header::ContentEncoding::Identity)
        .no_chunking(range.map_or(size, |r| r.len()));
    Ok(response.streaming(stream(chunks)))
}

fn error_header() -> ApiError {
    ApiError::new(ErrorKind::Internal, ErrorCode::InternalError, "could not build a header")
}

/// The single byte range asked for, within `size`: Ok(None) for the whole file
/// (no `Range`, an unknown unit or several ranges, which are answered whole),
/// Err when it lies outside the file (416).
fn requested_range(req: &HttpRequest, size: u64) -> Result<Option<ByteRange>, ()> {
    let Some(raw) = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    match header::Range::from_str(raw) {
        Ok(header::Range::Bytes(specs)) if specs.len() == 1 => match specs[0].to_satisfiable_range(size) {
            Some((start, last)) => Ok(Some(ByteRange { start, end: last + 1 })),
            None => Err(()),
        },
        _ => Ok(None),
    }
}

/// Images, video and audio are shown in the page; documents only downloaded.
/// The name goes out as ASCII (`filename`) and exactly (`filename*`, RFC 5987).
fn disposition(download: &Download) -> ContentDisposition {
    let info = &download.attachment.info;
    let disposition = if info.kind.is_inline() { DispositionType::Inline } else { DispositionType::Attachment };
    let name = match download.variant {
        Variant::Original => info.name.clone(),
        Variant::Thumbnail => format!("thumbnail-{}", info.name),
    };
    let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
    let ascii = ascii.replace(['"', '\\', '%'], "_");
    ContentDisposition {
        disposition,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: name.into_bytes(),
            }),
        ],
    }
}

/// The blob's chunks as a response body; a failure half-way ends the response
/// early (the client sees a short body), and is logged.
fn stream(
    chunks: Box<dyn BlobChunks>,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> + 'static {
    futures_util::stream::unfold(Some(chunks), |state| async move {
        let mut chunks = state?;
        match chunks.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(web::Bytes::from(chunk)), Some(chunks))),
            Ok(None) => None,
            Err(error) => {
                tracing::error!(%error, "reading an attachment failed half-way");
                Some((Err(std::io::Error::other("attachment read failed")), None))
            }
        }
    })
}
