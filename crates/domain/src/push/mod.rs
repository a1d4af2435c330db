//! Web Push: which devices a chat event is pushed to and what the push says
//! (`plan`), the subscriptions browsers hand us (`subscription`), and what to do
//! with a push service's answer (`delivery`). No I/O: the push service owns the
//! reads and writes.

mod delivery;
mod payload;
mod plan;
mod subscription;

pub use delivery::{next_step, DropReason, NextStep, PushAnswer, RETRY_LIMIT};
pub use payload::{preview_of, PushKind, PushMessage, HIDDEN_PREVIEW, PREVIEW_CHARS};
pub use plan::{audience, plan, OutboxEntry, PlanFacts, Urgency, PUSH_TTL};
pub use subscription::{ClaimedPush, PushSubscription, SubscriptionKeys, SubscriptionRequest};
