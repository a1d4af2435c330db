//! The server's VAPID key pair and the `Authorization` header it signs.

use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use serde::Serialize;
use thiserror::Error;

/// How long a signature is good for; RFC 8292 allows at most 24 hours.
const SIGNATURE_LIFETIME: chrono::Duration = chrono::Duration::hours(12);

#[derive(Debug, Error)]
pub enum VapidKeyError {
    #[error("VAPID_PRIVATE_KEY must be a P-256 private key: 32 bytes in base64url")]
    Malformed,
    #[error("VAPID_SUBJECT must be a mailto: or https: URL")]
    Subject,
    #[error("the VAPID key cannot be used for signing")]
    Encoding(#[from] p256::pkcs8::Error),
    #[error("could not sign a VAPID token")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

/// The key that identifies this server to push services, and the contact it names.
pub struct VapidKey {
    secret: p256::SecretKey,
    signing: EncodingKey,
    public: String,
    subject: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey").field("public", &self.public).field("subject", &self.subject).finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

impl VapidKey {
    /// A new random key pair.
    pub fn generate(subject: &str) -> Result<Self, VapidKeyError> {
        loop {
            let bytes: [u8; 32] = rand::random();
            // Nearly every 32 bytes are a valid scalar; the rest are drawn again.
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                return Self::new(secret, subject);
            }
        }
    }

    /// The key from its private half in base64url (`VAPID_PRIVATE_KEY`, the form
    /// the `web-push` tools print).
    pub fn from_private_base64url(private: &str, subject: &str) -> Result<Self, VapidKeyError> {
        let bytes = Base64UrlUnpadded::decode_vec(private.trim().trim_end_matches('='))
            .map_err(|_| VapidKeyError::Malformed)?;
        let secret = p256::SecretKey::from_slice(&bytes).map_err(|_| VapidKeyError::Malformed)?;
        Self::new(secret, subject)
    }

    fn new(secret: p256::SecretKey, subject: &str) -> Result<Self, VapidKeyError> {
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            return Err(VapidKeyError::Subject);
        }
        let der = secret.to_pkcs8_der()?;
        let point = secret.public_key().to_encoded_point(false);
        Ok(Self {
            signing: EncodingKey::from_ec_der(der.as_bytes()),
            public: Base64UrlUnpadded::encode_string(point.as_bytes()),
            secret,
            subject: subject.to_owned(),
        })
    }

    /// The private half in base64url, to keep the key across restarts.
    pub fn private_base64url(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.secret.to_bytes())
    }

    /// The public half (an uncompressed point) in base64url: the browser's
    /// `applicationServerKey`.
    pub fn public_base64url(&self) -> &str {
        &self.public
    }

    /// `Authorization: vapid t=…, k=…` for a push to `endpoint`: the token's
    /// audience is the endpoint's origin, port included.
    pub fn authorization(&self, endpoint: &http::Uri, now: DateTime<Utc>) -> Result<String, VapidKeyError> {
        let origin = match (endpoint.scheme_str(), endpoint.authority()) {
            (Some(scheme), Some(authority)) => {
                let host_port = authority.as_str().rsplit('@').next().unwrap_or_default();
                format!("{scheme}://{host_port}")
            }
            _ => String::new(),
        };
        let claims = Claims { aud: &origin, exp: (now + SIGNATURE_LIFETIME).timestamp(), sub: &self.subject };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.signing)?;
        Ok(format!("vapid t={token}, k={}", self.public))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_key_is_the_same_key_after_a_restart() {
        let key = VapidKey::generate("mailto:ops@example.org").unwrap();
        let again = VapidKey::from_private_base64url(&key.private_base64url(), "mailto:ops@example.org").unwrap();
        assert_eq!(key.public_base64url(), again.public_base64url());
        assert_eq!(Base64UrlUnpadded::decode_vec(key.public_base64url()).unwrap().len(), 65);
    }

    #[test]
    fn bad_keys_and_subjects_are_refused_with_the_variable_named() {
        let error = VapidKey::from_private_base64url("not a key", "mailto:a@b").unwrap_err();
        assert!(error.to_string().contains("VAPID_PRIVATE_KEY"));
        let error = VapidKey::generate("ops@example.org").unwrap_err();
        assert!(error.to_string().contains("VAPID_SUBJECT"));
    }

    #[test]
    fn debug_output_never_shows_the_private_key() {
        let key = VapidKey::generate("mailto:ops@example.org").unwrap();
        assert!(!format!("{key:?}").contains(&key.private_base64url()));
    }
}
