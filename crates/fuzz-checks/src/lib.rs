//! The properties the fuzz targets (fuzz/) hold client input to: no panic on any
//! bytes, plus invariants per input kind. Each function panics when a property
//! fails, which is how libFuzzer and the corpus test notice.

mod phone;
mod request_bodies;
mod ws_frame;

pub use phone::phone;
pub use request_bodies::request_bodies;
pub use ws_frame::ws_frame;

/// Input errors are the client's fault: never "unavailable", always with a code.
fn assert_client_error(error: &chitchat_domain::DomainError) {
    assert!(!matches!(error, chitchat_domain::DomainError::Unavailable(_)), "input blamed on the server: {error:?}");
    assert!(!error.code().as_str().is_empty(), "error without a code: {error:?}");
}
