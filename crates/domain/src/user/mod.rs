//! Users and the values that describe them.

mod name;
mod phone;
mod status;

pub use name::UserName;
pub use phone::{Phone, Region};
pub use status::StatusLine;

use crate::ids::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The status line a new user starts with, as in the seed.
pub const DEFAULT_STATUS: &str = "Hey there! I am using ChitChat";

/// A registered person. The JSON shape is the seed's `user` object.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub phone: Phone,
    pub name: String,
    pub status: String,
    pub last_seen: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl User {
    /// A user who is logging in for the first time.
    pub fn new(phone: Phone, name: UserName, now: DateTime<Utc>) -> Self {
        Self {
            id: UserId::new(),
            phone,
            name: name.into_inner(),
            status: DEFAULT_STATUS.to_owned(),
            last_seen: now,
            created_at: now,
        }
    }
}
