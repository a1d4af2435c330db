//! What happens to a push after the push service answered.

use super::subscription::ClaimedPush;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Sends tried for one push before it is given up.
pub const RETRY_LIMIT: u32 = 8;
/// The first wait before a retry; it doubles with each failure.
const FIRST_RETRY: Duration = Duration::from_secs(5);
/// The longest wait between two tries of our own choosing.
const LONGEST_RETRY: Duration = Duration::from_secs(15 * 60);

/// How a push service answered (RFC 8030), or that it could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushAnswer {
    /// 201: the push service took it.
    Accepted,
    /// 404 or 410: the subscription no longer exists.
    Gone,
    /// 429, a 5xx or no answer: try again, after `Retry-After` when it was given.
    RetryLater { retry_after: Option<Duration> },
    /// Any other refusal (400, 401, 403, 413): sending it again would not help.
    Refused { status: u16 },
}

/// What to do with a push after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Delivered to the push service: remove it from the outbox.
    Sent,
    /// The subscription is dead: remove it, and every push waiting for it.
    DeleteSubscription,
    /// Keep it, and try again at this time.
    Retry { at: DateTime<Utc> },
    /// Give it up: it expired before it could be sent, or it failed too often or
    /// for good.
    Drop { reason: DropReason },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    Expired,
    Refused,
    TooManyFailures,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Refused => "refused",
            Self::TooManyFailures => "too_many_failures",
        }
    }
}

impl ClaimedPush {
    /// True when the push is older than its TTL and must not be sent.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// The `TTL` to send: what is left of the push's life, in seconds.
    pub fn ttl_left(&self, now: DateTime<Utc>) -> u64 {
        u64::try_from((self.expires_at - now).num_seconds()).unwrap_or(0)
    }
}

/// The step after `answer` to `push` at `now`.
pub fn next_step(push: &ClaimedPush, answer: PushAnswer, now: DateTime<Utc>) -> NextStep {
    match answer {
        PushAnswer::Accepted => NextStep::Sent,
        PushAnswer::Gone => NextStep::DeleteSubscription,
        PushAnswer::Refused { .. } => NextStep::Drop { reason: DropReason::Refused },
        PushAnswer::RetryLater { retry_after } => {
            let tried = push.attempts + 1;
            if tried >= RETRY_LIMIT {
                return NextStep::Drop { reason: DropReason::TooManyFailures };
            }
            let backoff = FIRST_RETRY.saturating_mul(1 << tried.min(16)).min(LONGEST_RETRY);
            // The push service's own wait is honoured as asked; one past the push's
            // life drops it below.
            let wait = retry_after.map_or(backoff, |asked| asked.max(Duration::from_secs(1)));
            let at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            if at >= push.expires_at {
                NextStep::Drop { reason: DropReason::Expired }
            } else {
                NextStep::Retry { at }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{SessionId, UserId};
    use crate::push::{PushSubscription, Urgency};

    fn claimed(attempts: u32, now: DateTime<Utc>) -> ClaimedPush {
        ClaimedPush {
            id: 1,
            subscription: PushSubscription {
                endpoint: "https://push.example/1".into(),
                p256dh: String::new(),
                auth: String::new(),
                user_id: UserId::new(),
                session_id: SessionId::new(),
            },
            payload: "{}".into(),
            urgency: Urgency::High,
            topic: None,
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
            attempts,
        }
    }

    #[test]
    fn gone_subscriptions_are_deleted_and_refusals_dropped() {
        let now = Utc::now();
        assert_eq!(next_step(&claimed(0, now), PushAnswer::Accepted, now), NextStep::Sent);
        assert_eq!(next_step(&claimed(0, now), PushAnswer::Gone, now), NextStep::DeleteSubscription);
        assert_eq!(
            next_step(&claimed(0, now), PushAnswer::Refused { status: 413 }, now),
            NextStep::Drop { reason: DropReason::Refused }
        );
    }

    #[test]
    fn retries_back_off_and_honour_retry_after() {
        let now = Utc::now();
        let first = next_step(&claimed(0, now), PushAnswer::RetryLater { retry_after: None }, now);
        let third = next_step(&claimed(2, now), PushAnswer::RetryLater { retry_after: None }, now);
        let (NextStep::Retry { at: first }, NextStep::Retry { at: third }) = (first, third) else { panic!() };
        assert!(third - now > first - now, "later failures wait longer");
        let asked = PushAnswer::RetryLater { retry_after: Some(Duration::from_secs(7)) };
        assert_eq!(next_step(&claimed(0, now), asked, now), NextStep::Retry { at: now + chrono::Duration::seconds(7) });
    }

    #[test]
    fn a_push_is_given_up_when_it_would_outlive_its_ttl_or_failed_too_often() {
        let now = Utc::now();
        let late = PushAnswer::RetryLater { retry_after: Some(Duration::from_secs(2 * 3600)) };
        assert_eq!(next_step(&claimed(0, now), late, now), NextStep::Drop { reason: DropReason::Expired });
        let again = PushAnswer::RetryLater { retry_after: None };
        assert_eq!(
            next_step(&claimed(RETRY_LIMIT - 1, now), again, now),
            NextStep::Drop { reason: DropReason::TooManyFailures }
        );
        let push = claimed(0, now);
        assert!(!push.expired(now) && push.expired(push.expires_at));
        assert_eq!(push.ttl_left(now), 3600);
    }
}
