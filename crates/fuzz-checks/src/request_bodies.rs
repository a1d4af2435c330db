use crate::assert_client_error;
use chitchat_api_http::{BodyCheck, REQUEST_BODIES};
use chitchat_domain::user::Region;

/// The same bytes as every JSON request body the API reads, checked without a
/// server. Anything that is not JSON must be refused before any rule runs.
/// (`IgnoredAny` judges the syntax as the decoders do: fields a body ignores are
/// skipped without checking their UTF-8 or number range, which is harmless.)
pub fn request_bodies(bytes: &[u8]) {
    let is_json = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
    for (route, check) in REQUEST_BODIES {
        match check(bytes, Region::default()) {
            BodyCheck::Undecodable(_) => {}
            BodyCheck::Refused(error) => {
                assert!(is_json, "{route}: not JSON, yet decoded");
                assert_client_error(&error);
            }
            BodyCheck::Accepted => assert!(is_json, "{route}: not JSON, yet accepted"),
        }
    }
}
