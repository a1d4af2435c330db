//! Web Push: pushes encrypted for the browser (RFC 8291, `aes128gcm`), signed with
//! the server's VAPID key (RFC 8292) and posted to the browser's push service
//! (RFC 8030). The encryption is `web-push-native`'s and the signature
//! `jsonwebtoken`'s ES256.

mod dispatch;
mod sender;
mod vapid;

pub use dispatch::{planning_queue, spawn, ChannelPushQueue, PlanningJobs};
pub use reqwest::Error as ClientError;
pub use sender::WebPushSender;
pub use vapid::{VapidKey, VapidKeyError};
