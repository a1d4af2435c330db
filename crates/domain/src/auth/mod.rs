//! Login by one-time code, device sessions and the identity of a caller.

pub(crate) mod otp;

pub use otp::{OtpChallenge, OtpCode};

use crate::ids::{SessionId, UserId};
use crate::user::User;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One login on one device. Revoking it invalidates that device's token only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub device: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Session {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// What a bearer token says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub expires_at: DateTime<Utc>,
}

/// The authenticated caller of a request or socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub session_id: SessionId,
}

/// The answer to a successful login: the seed's register response.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginOutcome {
    pub token: String,
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

/// A device session as its owner sees it in the device list.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceSession {
    pub id: SessionId,
    pub device: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// True for the session making the request.
    pub current: bool,
}
