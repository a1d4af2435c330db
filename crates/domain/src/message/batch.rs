//! Which messages of a group commit are stored, and under which numbers. The
//! store locks the batch's chats, reads the facts below in its transaction,
//! asks [`decide_batch`], and writes what it decided: the rules live here, the
//! statements there.

use crate::access::sender_is_blocked;
use crate::chat::ChatKind;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// A chat as the store found it once its row was locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedChat<Id> {
    pub kind: ChatKind,
    pub last_seq: i64,
    pub last_event_seq: i64,
    /// Active members, longest-standing first (the order recipients come in).
    pub members: Vec<Id>,
}

/// What the store read for a batch. `Id` is an id as the store holds it (chat,
/// user and message ids alike).
#[derive(Debug, Clone, Default)]
pub struct BatchFacts<Id> {
    /// The batch's chats; a chat that is not here does not exist.
    pub chats: HashMap<Id, LockedChat<Id>>,
    /// Who blocks each sender; needed for the senders in direct chats only.
    pub blockers: HashMap<Id, HashSet<Id>>,
    /// The message each (sender, client_msg_id) of the batch named before it.
    pub earlier: HashMap<(Id, String), Id>,
}

/// One message of a batch, as the decision needs it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a, Id> {
    pub message: &'a Id,
    pub chat: &'a Id,
    pub sender: &'a Id,
    pub client_msg_id: Option<&'a str>,
    /// A person sends it, so blocks apply. Messages the server appends for
    /// someone (system messages, forwarded copies) need membership only.
    pub blocks_apply: bool,
}

/// What becomes of one message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<Id> {
    /// Stored as the chat's next message and next event.
    Store { seq: i64, event_seq: i64 },
    /// The sender used this client_msg_id before, perhaps earlier in the same
    /// batch: the id of that first message. Nothing is stored.
    Duplicate(Id),
    /// The sender is not an active member of the chat (or there is no such chat).
    NotAMember,
    /// A direct chat whose other member blocks the sender.
    Blocked,
}

/// The verdicts of a batch, and its chats as they are once it is stored.
#[derive(Debug, Clone)]
pub struct BatchDecision<Id> {
    /// One per candidate, in order.
    pub verdicts: Vec<Verdict<Id>>,
    /// The chats, with `last_seq` and `last_event_seq` past the messages stored.
    pub chats: HashMap<Id, LockedChat<Id>>,
}

/// Decides each candidate in order: a member of the chat, not blocked (when
/// blocks apply), with a client_msg_id not used before gets the chat's next
/// `seq` and `event_seq`.
pub fn decide_batch<'a, Id: Eq + Hash + Clone + 'a>(
    facts: BatchFacts<Id>,
    candidates: impl IntoIterator<Item = Candidate<'a, Id>>,
) -> BatchDecision<Id> {
    let BatchFacts { mut chats, blockers, earlier } = facts;
    // The keys this batch stores, so that a repeat within it is a duplicate too.
    let mut stored_keys: HashMap<(&Id, &str), &Id> = HashMap::new();
    let verdicts = candidates
        .into_iter()
        .map(|candidate| {
            let Some(chat) = chats.get_mut(candidate.chat).filter(|c| c.members.contains(candidate.sender)) else {
                return Verdict::NotAMember;
            };
            let blocks_sender = |member: &Id| blockers.get(candidate.sender).is_some_and(|by| by.contains(member));
            if candidate.blocks_apply && sender_is_blocked(chat.kind, candidate.sender, &chat.members, blocks_sender) {
                return Verdict::Blocked;
            }
            if let Some(key) = candidate.client_msg_id {
                let before = earlier.get(&(candidate.sender.clone(), key.to_owned()));
                if let Some(first) = before.or_else(|| stored_keys.get(&(candidate.sender, key)).copied()) {
                    return Verdict::Duplicate(first.clone());
                }
                stored_keys.insert((candidate.sender, key), candidate.message);
            }
            chat.last_seq += 1;
            chat.last_event_seq += 1;
            Verdict::Store { seq: chat.last_seq, event_seq: chat.last_event_seq }
        })
        .collect();
    BatchDecision { verdicts, chats }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAT: &str = "chat";
    const ASHA: &str = "asha";
    const RAVI: &str = "ravi";

    fn chat(kind: ChatKind, members: &[&'static str]) -> LockedChat<&'static str> {
        LockedChat { kind, last_seq: 10, last_event_seq: 20, members: members.to_vec() }
    }

    fn facts(chat: LockedChat<&'static str>) -> BatchFacts<&'static str> {
        BatchFacts { chats: HashMap::from([(CHAT, chat)]), ..BatchFacts::default() }
    }

    fn send<'a>(
        message: &'a &'static str,
        sender: &'a &'static str,
        key: Option<&'a str>,
    ) -> Candidate<'a, &'static str> {
        Candidate { message, chat: &CHAT, sender, client_msg_id: key, blocks_apply: true }
    }

    #[test]
    fn members_messages_take_the_chats_next_numbers_in_order() {
        let decided = decide_batch(
            facts(chat(ChatKind::Group, &[ASHA, RAVI])),
            [send(&"m1", &ASHA, None), send(&"m2", &RAVI, None)],
        );
        assert_eq!(
            decided.verdicts,
            [Verdict::Store { seq: 11, event_seq: 21 }, Verdict::Store { seq: 12, event_seq: 22 }]
        );
        let chat = &decided.chats[CHAT];
        assert_eq!((chat.last_seq, chat.last_event_seq), (12, 22));
    }

    #[test]
    fn a_stranger_or_an_unknown_chat_stores_nothing_and_takes_no_number() {
        let stranger =
            decide_batch(facts(chat(ChatKind::Group, &[RAVI])), [send(&"m1", &ASHA, None), send(&"m2", &RAVI, None)]);
        assert_eq!(stranger.verdicts, [Verdict::NotAMember, Verdict::Store { seq: 11, event_seq: 21 }]);
        let nowhere = decide_batch(BatchFacts::default(), [send(&"m1", &ASHA, None)]);
        assert_eq!(nowhere.verdicts, [Verdict::NotAMember]);
    }

    #[test]
    fn a_block_refuses_a_persons_send_in_a_direct_chat_but_not_an_appended_message() {
        let mut blocked = facts(chat(ChatKind::Direct, &[ASHA, RAVI]));
        blocked.blockers.insert(ASHA, HashSet::from([RAVI]));
        let appended = Candidate { blocks_apply: false, ..send(&"m2", &ASHA, None) };
        let decided = decide_batch(blocked, [send(&"m1", &ASHA, None), appended, send(&"m3", &RAVI, None)]);
        assert_eq!(
            decided.verdicts,
            [Verdict::Blocked, Verdict::Store { seq: 11, event_seq: 21 }, Verdict::Store { seq: 12, event_seq: 22 }]
        );
        let mut in_group = facts(chat(ChatKind::Group, &[ASHA, RAVI]));
        in_group.blockers.insert(ASHA, HashSet::from([RAVI]));
        assert_eq!(
            decide_batch(in_group, [send(&"m1", &ASHA, None)]).verdicts,
            [Verdict::Store { seq: 11, event_seq: 21 }]
        );
    }

    #[test]
    fn a_repeated_client_msg_id_names_the_first_message_before_or_within_the_batch() {
        let mut known = facts(chat(ChatKind::Group, &[ASHA, RAVI]));
        known.earlier.insert((ASHA, "k1".to_owned()), "m0");
        let decided = decide_batch(
            known,
            [
                send(&"m1", &ASHA, Some("k1")),
                send(&"m2", &ASHA, Some("k2")),
                send(&"m3", &ASHA, Some("k2")),
                // Keys are the sender's own: another person's k2 is a new message.
                send(&"m4", &RAVI, Some("k2")),
            ],
        );
        assert_eq!(
            decided.verdicts,
            [
                Verdict::Duplicate("m0"),
                Verdict::Store { seq: 11, event_seq: 21 },
                Verdict::Duplicate("m2"),
                Verdict::Store { seq: 12, event_seq: 22 },
            ]
        );
    }

    #[test]
    fn a_refused_message_does_not_claim_its_key() {
        let mut blocked = facts(chat(ChatKind::Direct, &[ASHA, RAVI]));
        blocked.blockers.insert(ASHA, HashSet::from([RAVI]));
        let appended = Candidate { blocks_apply: false, ..send(&"m2", &ASHA, Some("k")) };
        let decided = decide_batch(blocked, [send(&"m1", &ASHA, Some("k")), appended]);
        assert_eq!(decided.verdicts, [Verdict::Blocked, Verdict::Store { seq: 11, event_seq: 21 }]);
    }
}
