//! How many sockets each person and each device session holds open on this
//! instance, so that one account cannot tie up the instance's memory and file
//! descriptors with sockets (`WS_MAX_CONNECTIONS_PER_USER`,
//! `WS_MAX_CONNECTIONS_PER_SESSION`).

use chitchat_domain::auth::Caller;
use chitchat_domain::{SessionId, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Default)]
struct Counts {
    users: HashMap<UserId, usize>,
    sessions: HashMap<SessionId, usize>,
}

/// The open sockets of this instance, per user and per session. Cheap to clone.
#[derive(Clone, Default)]
pub struct SocketCounts {
    counts: Arc<Mutex<Counts>>,
}

/// Which limit a new socket would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OverLimit {
    User,
    Session,
}

/// One open socket; dropping it gives its place back.
pub(crate) struct SocketPermit {
    caller: Caller,
    counts: Arc<Mutex<Counts>>,
}

fn lock(counts: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    // Every update is one increment or decrement: a panic elsewhere leaves it whole.
    counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SocketCounts {
    /// A place for one more socket of `caller`, unless the user or the session has
    /// `per_user` or `per_session` open already.
    pub(crate) fn open(&self, caller: Caller, per_user: usize, per_session: usize) -> Result<SocketPermit, OverLimit> {
        let mut counts = lock(&self.counts);
        if counts.users.get(&caller.user_id).copied().unwrap_or(0) >= per_user {
            return Err(OverLimit::User);
        }
        if counts.sessions.get(&caller.session_id).copied().unwrap_or(0) >= per_session {
            return Err(OverLimit::Session);
        }
        *counts.users.entry(caller.user_id).or_default() += 1;
        *counts.sessions.entry(caller.session_id).or_default() += 1;
        Ok(SocketPermit { caller, counts: self.counts.clone() })
    }
}

fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K) {
    if let Some(count) = map.get_mut(&key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            map.remove(&key);
        }
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        release(&mut counts.users, self.caller.user_id);
        release(&mut counts.sessions, self.caller.session_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(user: UserId) -> Caller {
        Caller { user_id: user, session_id: SessionId::new() }
    }

    #[test]
    fn a_user_and_a_session_each_hold_at_most_their_limit_and_closing_frees_a_place() {
        let (sockets, user) = (SocketCounts::default(), UserId::new());
        let one_device = caller(user);
        let mut open: Vec<SocketPermit> = (0..2).map(|_| sockets.open(one_device, 3, 2).unwrap()).collect();
        assert_eq!(sockets.open(one_device, 3, 2).err(), Some(OverLimit::Session));
        open.push(sockets.open(caller(user), 3, 2).unwrap());
        assert_eq!(sockets.open(caller(user), 3, 2).err(), Some(OverLimit::User));
        assert!(sockets.open(caller(UserId::new()), 3, 2).is_ok(), "other people are not affected");
        open.pop();
        assert!(sockets.open(caller(user), 3, 2).is_ok(), "a closed socket frees its place");
        drop(open);
        let counts = lock(&sockets.counts);
        assert!(counts.users.is_empty() && counts.sessions.is_empty(), "nothing is left counted");
    }
}
