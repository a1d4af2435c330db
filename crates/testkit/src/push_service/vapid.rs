//! The VAPID check of RFC 8292: `Authorization: vapid t=<JWT>, k=<public key>`,
//! an ES256 token for this service's origin, signed by the key it names.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64ct::{Base64UrlUnpadded, Encoding as _};
use hyper::header::HeaderValue;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::check::Refusal;

/// RFC 8292 section 2: a token must not be valid for longer than this.
const MAX_VALIDITY: Duration = Duration::from_secs(24 * 60 * 60);
const UNCOMPRESSED_POINT_BYTES: usize = 65;

#[derive(Deserialize)]
struct Claims {
    exp: u64,
    sub: String,
}

/// Verifies the Authorization header and returns the token's `sub` contact.
pub(super) fn verify(
    header: Option<&HeaderValue>,
    audience: &str,
    expected_key: Option<&str>,
) -> Result<String, Refusal> {
    let value = header.ok_or(Refusal::NoAuthorization)?;
    let value = value.to_str().map_err(|_| Refusal::MalformedAuthorization("not visible ASCII"))?;
    let (token, key) = parse(value)?;
    if let Some(expected) = expected_key {
        if key != expected {
            return Err(Refusal::WrongVapidKey { found: key.to_owned(), expected: expected.to_owned() });
        }
    }
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    // A real push service would allow for clock skew; here both clocks are the same.
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Claims>(token, &decoding_key(key)?, &validation)?.claims;
    let latest = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + MAX_VALIDITY;
    if claims.exp > latest.as_secs() {
        return Err(Refusal::ExpiryTooFar);
    }
    if !(claims.sub.starts_with("mailto:") || claims.sub.starts_with("https:")) {
        return Err(Refusal::Subject(claims.sub));
    }
    Ok(claims.sub)
}

/// Splits `vapid t=..., k=...` (parameters in any order, values optionally quoted).
fn parse(value: &str) -> Result<(&str, &str), Refusal> {
    let (scheme, params) = value.trim().split_once(' ').ok_or(Refusal::MalformedAuthorization("no parameters"))?;
    if !scheme.eq_ignore_ascii_case("vapid") {
        return Err(Refusal::MalformedAuthorization("scheme is not vapid"));
    }
    let (mut token, mut key) = (None, None);
    for param in params.split(',') {
        let Some((name, value)) = param.split_once('=') else {
            return Err(Refusal::MalformedAuthorization("parameter without ="));
        };
        let value = value.trim().trim_matches('"');
        match name.trim() {
            "t" => token = Some(value),
            "k" => key = Some(value),
            _ => {}
        }
    }
    match (token, key) {
        (Some(token), Some(key)) => Ok((token, key)),
        (None, _) => Err(Refusal::MalformedAuthorization("no t=")),
        (_, None) => Err(Refusal::MalformedAuthorization("no k=")),
    }
}

fn decoding_key(key: &str) -> Result<DecodingKey, Refusal> {
    let point = Base64UrlUnpadded::decode_vec(key).map_err(|_| Refusal::BadVapidKey)?;
    if point.len() != UNCOMPRESSED_POINT_BYTES || p256::PublicKey::from_sec1_bytes(&point).is_err() {
        return Err(Refusal::BadVapidKey);
    }
    let (x, y) = point[1..].split_at(32);
    DecodingKey::from_ec_components(&Base64UrlUnpadded::encode_string(x), &Base64UrlUnpadded::encode_string(y))
        .map_err(|_| Refusal::BadVapidKey)
}
