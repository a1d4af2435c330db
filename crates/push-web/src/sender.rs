//! Posting pushes to push services (RFC 8030).

use crate::vapid::VapidKey;
use async_trait::async_trait;
use base64ct::{Base64UrlUnpadded, Encoding};
use chitchat_domain::ports::PushGateway;
use chitchat_domain::push::{ClaimedPush, PushAnswer};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use web_push_native::{p256, Auth};

/// How long a push service may take to answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends pushes with the server's VAPID key.
pub struct WebPushSender {
    client: reqwest::Client,
    key: Arc<VapidKey>,
}

impl WebPushSender {
    pub fn new(key: Arc<VapidKey>) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build()?;
        Ok(Self { client, key })
    }

    fn request(&self, push: &ClaimedPush, ttl: u64) -> Result<reqwest::RequestBuilder, &'static str> {
        let subscription = &push.subscription;
        let endpoint: http::Uri = subscription.endpoint.parse().map_err(|_| "endpoint")?;
        let p256dh = Base64UrlUnpadded::decode_vec(&subscription.p256dh).map_err(|_| "p256dh")?;
        let public = p256::PublicKey::from_sec1_bytes(&p256dh).map_err(|_| "p256dh")?;
        let auth: [u8; 16] = Base64UrlUnpadded::decode_vec(&subscription.auth)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("auth")?;
        let body = web_push_native::encrypt(push.payload.clone().into_bytes(), &public, &Auth::from(auth))
            .map_err(|_| "encryption")?;
        let authorization = self.key.authorization(&endpoint, Utc::now()).map_err(|_| "signature")?;
        let mut request = self
            .client
            .post(&subscription.endpoint)
            .header("TTL", ttl)
            .header("Urgency", push.urgency.as_str())
            .header(http::header::CONTENT_ENCODING, "aes128gcm")
            .header(http::header::CONTENT_TYPE, "application/octet-stream")
            .header(http::header::AUTHORIZATION, authorization)
            .body(body);
        if let Some(topic) = &push.topic {
            request = request.header("Topic", topic);
        }
        Ok(request)
    }
}

#[async_trait]
impl PushGateway for WebPushSender {
    async fn send(&self, push: &ClaimedPush, ttl: u64) -> PushAnswer {
        let request = match self.request(push, ttl) {
            Ok(request) => request,
            Err(what) => {
                // The browser handed over keys that cannot be used: no push to it can work.
                tracing::warn!(push_id = push.id, part = what, "unusable push subscription");
                return PushAnswer::Gone;
            }
        };
        match request.send().await {
            Ok(response) => answer_of(response.status().as_u16(), response.headers()),
            Err(error) => {
                tracing::debug!(push_id = push.id, %error, "push service unreachable");
                PushAnswer::RetryLater { retry_after: None }
            }
        }
    }
}

/// RFC 8030's answers: 201 taken; 404 and 410 the subscription is gone; 429 and
/// 5xx try again (after `Retry-After` when given, in seconds or as a date).
fn answer_of(status: u16, headers: &http::HeaderMap) -> PushAnswer {
    match status {
        200..=299 => PushAnswer::Accepted,
        404 | 410 => PushAnswer::Gone,
        429 | 500..=599 => PushAnswer::RetryLater { retry_after: retry_after(headers) },
        _ => PushAnswer::Refused { status },
    }
}

fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&Utc) - Utc::now()).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_rfc_8030_says() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(answer_of(201, &headers), PushAnswer::Accepted);
        assert_eq!(answer_of(410, &headers), PushAnswer::Gone);
        assert_eq!(answer_of(404, &headers), PushAnswer::Gone);
        assert_eq!(answer_of(413, &headers), PushAnswer::Refused { status: 413 });
        assert_eq!(answer_of(503, &headers), PushAnswer::RetryLater { retry_after: None });
        headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("30"));
        assert_eq!(answer_of(429, &headers), PushAnswer::RetryLater { retry_after: Some(Duration::from_secs(30)) });
    }
}
