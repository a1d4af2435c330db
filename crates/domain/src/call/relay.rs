//! What one joined device sends another to set up the media (`call_offer`,
//! `call_answer`, `call_ice`): the server only checks its size and passes it on.

use crate::error::DomainError;
use crate::ids::{CallId, UserId};
use crate::ErrorCode;
use serde_json::Value;

/// Largest session description (`sdp`) relayed, in bytes.
pub const MAX_SDP_BYTES: usize = 64 * 1024;
/// Largest ICE candidate relayed, in bytes of its JSON.
pub const MAX_CANDIDATE_BYTES: usize = 4 * 1024;

/// Which signal it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayKind {
    Offer,
    Answer,
    Ice,
}

impl RelayKind {
    /// The frame type, in both directions.
    pub fn wire_type(self) -> &'static str {
        match self {
            Self::Offer => "call_offer",
            Self::Answer => "call_answer",
            Self::Ice => "call_ice",
        }
    }
}

/// What is passed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayBody {
    /// An offer's or an answer's session description.
    Sdp(String),
    /// An ICE candidate as the browser's `RTCIceCandidate.toJSON()` gives it; null
    /// (or an empty object) marks the end of the candidates.
    Candidate(Value),
}

/// A checked signal for one person of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaySignal {
    pub call_id: CallId,
    pub to_user: UserId,
    pub kind: RelayKind,
    pub body: RelayBody,
}

fn invalid(message: String) -> DomainError {
    DomainError::invalid(ErrorCode::InvalidPayload, message)
}

impl RelaySignal {
    /// Checks the body against the kind and the size limits.
    pub fn new(kind: RelayKind, call_id: CallId, to_user: UserId, body: RelayBody) -> Result<Self, DomainError> {
        match (&kind, &body) {
            (RelayKind::Offer | RelayKind::Answer, RelayBody::Sdp(sdp)) => {
                if sdp.len() > MAX_SDP_BYTES {
                    return Err(invalid(format!("sdp must be at most {MAX_SDP_BYTES} bytes")));
                }
            }
            (RelayKind::Ice, RelayBody::Candidate(candidate)) => {
                if !matches!(candidate, Value::Object(_) | Value::Null) {
                    return Err(invalid("candidate must be an object or null".to_owned()));
                }
                if candidate.to_string().len() > MAX_CANDIDATE_BYTES {
                    return Err(invalid(format!("candidate must be at most {MAX_CANDIDATE_BYTES} bytes")));
                }
            }
            _ => return Err(invalid(format!("{} carries the wrong field", kind.wire_type()))),
        }
        Ok(Self { call_id, to_user, kind, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_and_candidates_are_held_to_their_limits() {
        let (call, to) = (CallId::new(), UserId::new());
        let sdp = |len: usize| RelayBody::Sdp("v".repeat(len));
        assert!(RelaySignal::new(RelayKind::Offer, call, to, sdp(MAX_SDP_BYTES)).is_ok());
        let refused = RelaySignal::new(RelayKind::Answer, call, to, sdp(MAX_SDP_BYTES + 1)).unwrap_err();
        assert_eq!(refused.code(), ErrorCode::InvalidPayload);

        let candidate = |len: usize| RelayBody::Candidate(serde_json::json!({"candidate": "c".repeat(len)}));
        let overhead = r#"{"candidate":""}"#.len();
        assert!(RelaySignal::new(RelayKind::Ice, call, to, candidate(MAX_CANDIDATE_BYTES - overhead)).is_ok());
        assert!(RelaySignal::new(RelayKind::Ice, call, to, candidate(MAX_CANDIDATE_BYTES - overhead + 1)).is_err());
        assert!(
            RelaySignal::new(RelayKind::Ice, call, to, RelayBody::Candidate(Value::Null)).is_ok(),
            "end of candidates"
        );
        assert!(RelaySignal::new(RelayKind::Ice, call, to, RelayBody::Candidate(serde_json::json!("x"))).is_err());
        assert!(RelaySignal::new(RelayKind::Ice, call, to, sdp(3)).is_err(), "an ice frame carries a candidate");
    }
}
