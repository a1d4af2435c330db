use chitchat_domain::auth::TokenClaims;
use chitchat_domain::ports::TokenCodec;
use chitchat_domain::ErrorCode;
use chitchat_domain::{DomainError, DomainResult};
use chrono::DateTime;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// HS256 tokens carrying the user id (`sub`) and the device session id (`sid`).
/// The algorithm is pinned, so a token signed any other way is refused.
pub struct JwtTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    exp: i64,
    iat: i64,
}

fn invalid() -> DomainError {
    DomainError::unauthorized(ErrorCode::InvalidToken, "the token is invalid or has expired; log in again")
}

impl JwtTokens {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation }
    }
}

impl TokenCodec for JwtTokens {
    fn issue(&self, claims: &TokenClaims) -> DomainResult<String> {
        let body = Claims {
            sub: claims.user_id.to_string(),
            sid: claims.session_id.to_string(),
            exp: claims.expires_at.timestamp(),
            iat: chrono::Utc::now().timestamp(),
        };
        encode(&Header::new(Algorithm::HS256), &body, &self.encoding).map_err(DomainError::unavailable)
    }

    fn verify(&self, token: &str) -> DomainResult<TokenClaims> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| invalid())?;
        let c = data.claims;
        Ok(TokenClaims {
            user_id: c.sub.parse().map_err(|_| invalid())?,
            session_id: c.sid.parse().map_err(|_| invalid())?,
            expires_at: DateTime::from_timestamp(c.exp, 0).ok_or_else(invalid)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chitchat_domain::{SessionId, UserId};
    use chrono::{Duration, Utc};

    fn claims(valid_for: Duration) -> TokenClaims {
        TokenClaims { user_id: UserId::new(), session_id: SessionId::new(), expires_at: Utc::now() + valid_for }
    }

    #[test]
    fn a_token_round_trips_its_user_and_session() {
        let tokens = JwtTokens::new(b"0123456789abcdef0123456789abcdef");
        let c = claims(Duration::hours(1));
        let back = tokens.verify(&tokens.issue(&c).unwrap()).unwrap();
        assert_eq!((back.user_id, back.session_id), (c.user_id, c.session_id));
    }

    #[test]
    fn expired_forged_and_garbage_tokens_are_refused() {
        let tokens = JwtTokens::new(b"0123456789abcdef0123456789abcdef");
        let expired = tokens.issue(&claims(Duration::seconds(-5))).unwrap();
        assert_eq!(tokens.verify(&expired).unwrap_err().code(), "invalid_token");
        let other = JwtTokens::new(b"another-secret-another-secret-xx");
        let forged = other.issue(&claims(Duration::hours(1))).unwrap();
        assert!(tokens.verify(&forged).is_err());
        assert!(tokens.verify("not.a.token").is_err());
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        use base64_like::encode_segment;
        let tokens = JwtTokens::new(b"0123456789abcdef0123456789abcdef");
        let header = encode_segment(r#"{"alg":"none","typ":"JWT"}"#);
        let body = encode_segment(&format!(
            r#"{{"sub":"{}","sid":"{}","exp":{},"iat":0}}"#,
            UserId::new(),
            SessionId::new(),
            (Utc::now() + Duration::hours(1)).timestamp()
        ));
        assert!(tokens.verify(&format!("{header}.{body}.")).is_err());
    }

    /// Minimal unpadded base64url, enough to hand-craft a token.
    mod base64_like {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        pub fn encode_segment(text: &str) -> String {
            let bytes = text.as_bytes();
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
                for i in 0..=chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                }
            }
            out
        }
    }
}
