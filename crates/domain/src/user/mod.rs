//! Users and the values that describe them.

mod email;
mod name;
mod numbering;
mod phone;
mod privacy;
mod status;

pub use email::{EmailAddress, UserEmail};
pub use name::UserName;
pub use phone::{Phone, Region};
pub use privacy::{LastSeenVisibility, Privacy};
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
    /// When the person was last online; null where their privacy setting hides it
    /// from whoever is looking.
    pub last_seen: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Who may see `last_seen`; shown only to the person themself, as `privacy`.
    #[serde(skip)]
    pub last_seen_visibility: LastSeenVisibility,
    /// Whether pushes show the text of messages (`notifications.previews`); shown
    /// only to the person themself.
    #[serde(skip, default = "previews_by_default")]
    pub notification_previews: bool,
    /// When an operator or admin disabled the account: it cannot log in and its
    /// tokens are refused. Shown only to admins (`UserSummary`).
    #[serde(skip)]
    pub disabled_at: Option<DateTime<Utc>>,
}

fn previews_by_default() -> bool {
    true
}

impl User {
    /// A user who is logging in for the first time.
    pub fn new(phone: Phone, name: UserName, now: DateTime<Utc>) -> Self {
        Self {
            id: UserId::new(),
            phone,
            name: name.into_inner(),
            status: DEFAULT_STATUS.to_owned(),
            last_seen: Some(now),
            created_at: now,
            last_seen_visibility: LastSeenVisibility::default(),
            notification_previews: true,
            disabled_at: None,
        }
    }

    /// The user as `viewer` may see them: `last_seen` hidden unless the setting
    /// shows it (`saved_viewer`: the user has the viewer among their contacts). A
    /// viewer of None stands for a frame many people share: only what everyone may see.
    pub fn as_seen_by(mut self, viewer: Option<UserId>, saved_viewer: bool) -> Self {
        let own = viewer == Some(self.id);
        if !own && !self.last_seen_visibility.shows_to_other(saved_viewer && viewer.is_some()) {
            self.last_seen = None;
        }
        self
    }
}
