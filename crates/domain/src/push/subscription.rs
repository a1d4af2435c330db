//! A browser's push subscription: where to post pushes and the keys to encrypt them with.

use crate::auth::Caller;
use crate::error::{DomainError, DomainResult};
use crate::error_code::ErrorCode;
use crate::ids::{SessionId, UserId};
use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Longest endpoint accepted; browsers' are a few hundred characters.
const MAX_ENDPOINT_CHARS: usize = 2048;
/// An uncompressed P-256 point (RFC 8291 `p256dh`).
const P256DH_BYTES: usize = 65;
/// The authentication secret (RFC 8291 `auth`).
const AUTH_BYTES: usize = 16;

/// `PushSubscription.toJSON()` of a browser: `{endpoint, keys: {p256dh, auth}}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionRequest {
    /// The push service's URL for this browser.
    pub endpoint: String,
    pub keys: SubscriptionKeys,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// The browser's 16-byte authentication secret, base64url.
    pub auth: String,
}

/// A subscription tied to the device session that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub user_id: UserId,
    pub session_id: SessionId,
}

impl SubscriptionRequest {
    /// The subscription of `caller`'s device. `plain_http` allows `http://`
    /// endpoints (development only: real push services use HTTPS, and the server
    /// posts to whatever URL a subscription names).
    pub fn into_subscription(self, caller: Caller, plain_http: bool) -> DomainResult<PushSubscription> {
        let endpoint = self.endpoint.trim();
        let rest = endpoint
            .strip_prefix("https://")
            .or_else(|| endpoint.strip_prefix("http://").filter(|_| plain_http))
            .ok_or_else(|| invalid("endpoint must be an https:// URL"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || endpoint.chars().count() > MAX_ENDPOINT_CHARS || endpoint.chars().any(char::is_whitespace)
        {
            return Err(invalid("endpoint is not a push service URL"));
        }
        let p256dh = decoded(&self.keys.p256dh)
            .filter(|key| key.len() == P256DH_BYTES && key[0] == 4)
            .ok_or_else(|| invalid("keys.p256dh must be an uncompressed P-256 public key in base64url"))?;
        let auth = decoded(&self.keys.auth)
            .filter(|secret| secret.len() == AUTH_BYTES)
            .ok_or_else(|| invalid("keys.auth must be 16 bytes in base64url"))?;
        Ok(PushSubscription {
            endpoint: endpoint.to_owned(),
            p256dh: Base64UrlUnpadded::encode_string(&p256dh),
            auth: Base64UrlUnpadded::encode_string(&auth),
            user_id: caller.user_id,
            session_id: caller.session_id,
        })
    }
}

/// Browsers send base64url without padding; some libraries add it.
fn decoded(text: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text.trim().trim_end_matches('=')).ok()
}

fn invalid(message: &str) -> DomainError {
    DomainError::invalid(ErrorCode::InvalidPushSubscription, message)
}

/// A push taken from the outbox to be sent now; no other instance takes it until
/// its lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedPush {
    pub id: i64,
    pub subscription: PushSubscription,
    /// The [`super::PushMessage`] as JSON.
    pub payload: String,
    pub urgency: super::Urgency,
    pub topic: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Sends tried before this one.
    pub attempts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(endpoint: &str, p256dh: &str, auth: &str) -> SubscriptionRequest {
        SubscriptionRequest {
            endpoint: endpoint.into(),
            keys: SubscriptionKeys { p256dh: p256dh.into(), auth: auth.into() },
        }
    }

    fn caller() -> Caller {
        Caller { user_id: UserId::new(), session_id: SessionId::new() }
    }

    const P256DH: &str = "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";
    const AUTH: &str = "_ordMnz7uTCmrpBTeUV4Bw";

    #[test]
    fn a_browser_subscription_is_kept_for_the_device_that_made_it() {
        let caller = caller();
        let sub =
            request("https://push.example/send/abc", P256DH, &format!("{AUTH}==")).into_subscription(caller, false);
        let sub = sub.unwrap();
        assert_eq!((sub.user_id, sub.session_id), (caller.user_id, caller.session_id));
        assert_eq!(sub.auth, AUTH, "padding is dropped");
    }

    #[test]
    fn plain_http_endpoints_are_refused_unless_allowed() {
        let plain = || request("http://127.0.0.1:9/push/1", P256DH, AUTH);
        assert_eq!(plain().into_subscription(caller(), false).unwrap_err().code(), ErrorCode::InvalidPushSubscription);
        assert!(plain().into_subscription(caller(), true).is_ok());
    }

    #[test]
    fn broken_subscriptions_say_what_is_wrong() {
        for (endpoint, p256dh, auth, says) in [
            ("ftp://x/1", P256DH, AUTH, "https"),
            ("https:///nohost", P256DH, AUTH, "endpoint"),
            ("https://x/a b", P256DH, AUTH, "endpoint"),
            ("https://x/1", "BAAA", AUTH, "p256dh"),
            ("https://x/1", &P256DH.replacen('B', "A", 1), AUTH, "p256dh"),
            ("https://x/1", P256DH, "not base64!", "auth"),
            ("https://x/1", P256DH, "AAAA", "auth"),
        ] {
            let error = request(endpoint, p256dh, auth).into_subscription(caller(), false).unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidPushSubscription);
            assert!(error.to_string().contains(says), "{endpoint} {p256dh} {auth}: {error}");
        }
    }
}
