//! TURN logins by the "TURN REST API" convention, which coturn checks with
//! `use-auth-secret` and `static-auth-secret`: the username is
//! `expiry:user_id` (expiry in Unix seconds) and the password is the base64 of
//! HMAC-SHA1 of that username under the shared secret. coturn recomputes it and
//! refuses the login once the expiry has passed.

use base64ct::{Base64, Encoding};
use chitchat_domain::ice::TurnCredential;
use chitchat_domain::ports::TurnCredentials;
use chitchat_domain::UserId;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// Mints TURN logins under the secret shared with the TURN server (`TURN_SECRET`).
pub struct TurnRestCredentials {
    /// Keyed once; each login starts from a copy.
    keyed: HmacSha1,
}

impl TurnRestCredentials {
    pub fn new(shared_secret: &[u8]) -> Self {
        let keyed = match HmacSha1::new_from_slice(shared_secret) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        Self { keyed }
    }
}

impl TurnCredentials for TurnRestCredentials {
    fn mint(&self, user: UserId, expires_at: DateTime<Utc>) -> TurnCredential {
        let username = format!("{}:{user}", expires_at.timestamp());
        let mut mac = self.keyed.clone();
        mac.update(username.as_bytes());
        let credential = Base64::encode_string(&mac.finalize().into_bytes());
        TurnCredential { username, credential }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_is_the_expiry_and_user_signed_with_the_shared_secret() {
        let user: UserId = "0193a1f3-1d7e-7f00-b2c4-5e6f7a8b9c0d".parse().unwrap();
        let expires_at = DateTime::from_timestamp(1_796_555_095, 0).unwrap();
        let login = TurnRestCredentials::new(b"testsecret123").mint(user, expires_at);
        assert_eq!(login.username, "1796555095:0193a1f3-1d7e-7f00-b2c4-5e6f7a8b9c0d");
        // As `printf %s USERNAME | openssl dgst -binary -sha1 -hmac testsecret123 | base64` gives it.
        assert_eq!(login.credential, "v/3JnILBs9OdJKZluTCzW3NDT4A=");
        let other = TurnRestCredentials::new(b"another-secret").mint(user, expires_at);
        assert_eq!(other.username, login.username);
        assert_ne!(other.credential, login.credential);
    }
}
