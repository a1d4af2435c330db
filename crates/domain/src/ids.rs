//! Typed identifiers so a chat id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUIDv7), so ids sort roughly by creation.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// Identifies a user account.
    UserId
);
id_type!(
    /// Identifies a direct or group chat.
    ChatId
);
id_type!(
    /// Identifies a stored message.
    MessageId
);
id_type!(
    /// Identifies one login on one device; the token carries it so it can be revoked alone.
    SessionId
);
id_type!(
    /// Identifies a request of a new device to be linked to a logged-in person.
    LinkId
);
id_type!(
    /// Identifies an uploaded file (photo, video, voice note, document).
    AttachmentId
);
id_type!(
    /// Identifies a person's report about a message or another person.
    ReportId
);
id_type!(
    /// Identifies a call, from its invitation until it ends.
    CallId
);
id_type!(
    /// Identifies one open WebSocket (one device's connection): a call is joined
    /// on one device, and its frames go to that device only.
    DeviceId
);
