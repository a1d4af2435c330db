//! The checks a push must pass before the push service looks at it: RFC 8030
//! headers, the VAPID authorization and a body that decrypts to JSON.

use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};

use super::registry::SubscriberKeys;
use super::vapid;

/// The largest body a push service must take (RFC 8030 section 7.2).
const MAX_BODY_BYTES: usize = 4096;
const MAX_TOPIC_CHARS: usize = 32;
const URGENCIES: [&str; 4] = ["very-low", "low", "normal", "high"];

/// Why a push breaks the protocol; shown in `PushService::refused`.
#[derive(Debug, thiserror::Error)]
pub(super) enum Refusal {
    #[error("method {0} instead of POST")]
    Method(Method),
    #[error("TTL header missing or not a whole number of seconds")]
    Ttl,
    #[error("Urgency {0:?} is none of very-low, low, normal, high")]
    Urgency(String),
    #[error("Topic {0:?} is empty, longer than 32 characters or outside the base64url alphabet")]
    Topic(String),
    #[error("{header} is {found:?}, expected {expected}")]
    Header { header: HeaderName, found: Option<String>, expected: &'static str },
    #[error("no Authorization header")]
    NoAuthorization,
    #[error("Authorization is not `vapid t=<JWT>, k=<key>`: {0}")]
    MalformedAuthorization(&'static str),
    #[error("VAPID key k= is not a base64url uncompressed P-256 point")]
    BadVapidKey,
    #[error("VAPID key {found} is not the expected {expected}")]
    WrongVapidKey { found: String, expected: String },
    #[error("VAPID token rejected: {0}")]
    Token(#[from] jsonwebtoken::errors::Error),
    #[error("VAPID token expires more than 24 hours ahead")]
    ExpiryTooFar,
    #[error("VAPID token sub {0:?} starts with neither mailto: nor https:")]
    Subject(String),
    #[error("body larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("body unreadable: {0}")]
    Body(String),
    #[error("body does not decrypt with the subscription's keys: {0}")]
    Undecryptable(web_push_native::Error),
    #[error("decrypted payload is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
}

impl Refusal {
    pub(super) fn status(&self) -> StatusCode {
        match self {
            Refusal::Method(_) => StatusCode::METHOD_NOT_ALLOWED,
            Refusal::NoAuthorization
            | Refusal::MalformedAuthorization(_)
            | Refusal::BadVapidKey
            | Refusal::Token(_)
            | Refusal::ExpiryTooFar
            | Refusal::Subject(_) => StatusCode::UNAUTHORIZED,
            Refusal::WrongVapidKey { .. } => StatusCode::FORBIDDEN,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::Ttl
            | Refusal::Urgency(_)
            | Refusal::Topic(_)
            | Refusal::Header { .. }
            | Refusal::Body(_)
            | Refusal::Undecryptable(_)
            | Refusal::NotJson(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// A push that passed every check, before the service decides how to answer it.
pub(super) struct ValidPush {
    pub(super) payload: serde_json::Value,
    pub(super) ttl: u64,
    pub(super) urgency: Option<String>,
    pub(super) topic: Option<String>,
    pub(super) subject: String,
}

/// Checks one push to a subscription; `audience` is the service's origin.
pub(super) async fn check_push(
    parts: &Parts,
    body: Incoming,
    keys: &SubscriberKeys,
    audience: &str,
    expected_key: Option<&str>,
) -> Result<ValidPush, Refusal> {
    if parts.method != Method::POST {
        return Err(Refusal::Method(parts.method.clone()));
    }
    let headers = &parts.headers;
    let ttl = ttl(headers)?;
    let urgency = urgency(headers)?;
    let topic = topic(headers)?;
    require(headers, CONTENT_ENCODING, "aes128gcm")?;
    require(headers, CONTENT_TYPE, "application/octet-stream")?;
    let subject = vapid::verify(headers.get(AUTHORIZATION), audience, expected_key)?;
    let body = read_body(body).await?;
    let plaintext = web_push_native::decrypt(body, &keys.secret, &keys.auth).map_err(Refusal::Undecryptable)?;
    let payload = serde_json::from_slice(&plaintext)?;
    Ok(ValidPush { payload, ttl, urgency, topic, subject })
}

fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

fn ttl(headers: &HeaderMap) -> Result<u64, Refusal> {
    text(headers, "ttl").and_then(|value| value.trim().parse().ok()).ok_or(Refusal::Ttl)
}

fn urgency(headers: &HeaderMap) -> Result<Option<String>, Refusal> {
    match text(headers, "urgency") {
        Some(value) if !URGENCIES.contains(&value.as_str()) => Err(Refusal::Urgency(value)),
        urgency => Ok(urgency),
    }
}

fn topic(headers: &HeaderMap) -> Result<Option<String>, Refusal> {
    let Some(value) = text(headers, "topic") else { return Ok(None) };
    let base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if value.is_empty() || value.chars().count() > MAX_TOPIC_CHARS || !value.chars().all(base64url) {
        return Err(Refusal::Topic(value));
    }
    Ok(Some(value))
}

/// The header must name `expected`, parameters aside, in any case.
fn require(headers: &HeaderMap, header: HeaderName, expected: &'static str) -> Result<(), Refusal> {
    let found = text(headers, header.as_str());
    let matches = found.as_deref().is_some_and(|value| {
        value.split(';').next().is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
    });
    if matches {
        Ok(())
    } else {
        Err(Refusal::Header { header, found, expected })
    }
}

async fn read_body(body: Incoming) -> Result<Vec<u8>, Refusal> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(Refusal::TooLarge),
        Err(error) => Err(Refusal::Body(error.to_string())),
    }
}
