//! Login by one-time code, device sessions and the identity of a caller.

pub mod link;
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
    /// A new session of `user_id` on the device `raw_device` names (its user agent,
    /// as sent), from `now` for `ttl`: a login's, or a linked device's.
    pub fn open(user_id: UserId, raw_device: &str, now: DateTime<Utc>, ttl: chrono::Duration) -> Self {
        Self {
            id: SessionId::new(),
            user_id,
            device: device_label(raw_device),
            created_at: now,
            expires_at: now + ttl,
            revoked_at: None,
        }
    }

    /// What the bearer token of this session says.
    pub fn claims(&self) -> TokenClaims {
        TokenClaims { user_id: self.user_id, session_id: self.id, expires_at: self.expires_at }
    }

    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// A short printable label for the device, from its user agent.
pub(crate) fn device_label(raw: &str) -> String {
    let label: String = raw.chars().filter(|c| !c.is_control()).take(200).collect();
    if label.trim().is_empty() {
        "unknown device".to_owned()
    } else {
        label
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
