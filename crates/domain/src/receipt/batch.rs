//! Where each receipt of a group commit moves its member's positions. The store
//! locks the batch's chats, reads their positions in its transaction, asks
//! [`decide_receipts`], and writes what it decided: the rules live here, the
//! statements there.

use super::{ChatProgress, ReceiptKind};
use std::collections::HashMap;
use std::hash::Hash;

/// A member's positions in a chat: (delivered_seq, read_seq).
pub type Positions = (i64, i64);

/// A chat as the store found it once its row was locked, with its members'
/// positions. A receipt's decision moves them, so that the next receipt of the
/// same batch starts from there.
#[derive(Debug, Clone)]
pub struct LockedPositions<Id> {
    pub last_seq: i64,
    pub last_event_seq: i64,
    /// The positions of the members that have one.
    pub positions: HashMap<Id, Positions>,
}

/// One receipt of a batch, as the decision needs it.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptCandidate<'a, Id> {
    pub chat: &'a Id,
    pub user: &'a Id,
    pub kind: ReceiptKind,
    /// Every message up to this one was received (or read).
    pub seq: i64,
    /// The members whose positions make up the chat's progress.
    pub members: &'a [Id],
}

/// A receipt that moved its member's positions: where to, which moves are new
/// marks, and the `status_update` it logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionMove {
    pub delivered_seq: i64,
    pub read_seq: i64,
    /// Each position that moved, with where to: a mark of when it got there.
    pub marks: Vec<(ReceiptKind, i64)>,
    /// Where the chat stands among the members after the move.
    pub chat: ChatProgress,
    /// The chat's next event: the `status_update` of this move.
    pub event_seq: i64,
}

/// Decides each candidate in order, and moves `chats` with it. A receipt moves a
/// position forward only, never past the chat's newest message, and a `Read`
/// moves the delivered position too (reading implies receiving). None: nothing
/// moved (already there, or the chat has no message or does not exist).
pub fn decide_receipts<'a, Id: Eq + Hash + Clone + 'a>(
    chats: &mut HashMap<Id, LockedPositions<Id>>,
    candidates: impl IntoIterator<Item = ReceiptCandidate<'a, Id>>,
) -> Vec<Option<PositionMove>> {
    candidates
        .into_iter()
        .map(|candidate| {
            let chat = chats.get_mut(candidate.chat).filter(|chat| chat.last_seq > 0)?;
            let to = candidate.seq.min(chat.last_seq);
            let (delivered, read) = chat.positions.get(candidate.user).copied().unwrap_or_default();
            let read_to = if candidate.kind == ReceiptKind::Read { read.max(to) } else { read };
            let delivered_to = delivered.max(to);
            let mut marks = Vec::with_capacity(2);
            if delivered_to > delivered {
                marks.push((ReceiptKind::Delivered, delivered_to));
            }
            if read_to > read {
                marks.push((ReceiptKind::Read, read_to));
            }
            if marks.is_empty() {
                return None;
            }
            chat.positions.insert(candidate.user.clone(), (delivered_to, read_to));
            chat.last_event_seq += 1;
            let progress = ChatProgress::among(candidate.members, |member| chat.positions.get(member).copied());
            Some(PositionMove {
                delivered_seq: delivered_to,
                read_seq: read_to,
                marks,
                chat: progress,
                event_seq: chat.last_event_seq,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASHA: &str = "asha";
    const RAVI: &str = "ravi";
    const MEMBERS: [&str; 2] = [ASHA, RAVI];

    fn chat(
        last_seq: i64,
        positions: &[(&'static str, Positions)],
    ) -> HashMap<&'static str, LockedPositions<&'static str>> {
        let chat = LockedPositions { last_seq, last_event_seq: 20, positions: positions.iter().copied().collect() };
        HashMap::from([("chat", chat)])
    }

    fn receipt(user: &'static &'static str, kind: ReceiptKind, seq: i64) -> ReceiptCandidate<'static, &'static str> {
        ReceiptCandidate { chat: &"chat", user, kind, seq, members: &MEMBERS }
    }

    #[test]
    fn a_read_receipt_moves_both_positions_and_marks_each_move() {
        let mut chats = chat(10, &[(ASHA, (10, 10)), (RAVI, (4, 2))]);
        let decided = decide_receipts(&mut chats, [receipt(&RAVI, ReceiptKind::Read, 7)]);
        let moved = PositionMove {
            delivered_seq: 7,
            read_seq: 7,
            marks: vec![(ReceiptKind::Delivered, 7), (ReceiptKind::Read, 7)],
            chat: ChatProgress { delivered_seq: 7, read_seq: 7 },
            event_seq: 21,
        };
        assert_eq!(decided, [Some(moved)]);
        assert_eq!(chats["chat"].positions[RAVI], (7, 7));
        assert_eq!(chats["chat"].last_event_seq, 21);
    }

    #[test]
    fn positions_move_forward_only_and_not_past_the_newest_message() {
        let mut chats = chat(10, &[(ASHA, (10, 10)), (RAVI, (8, 8))]);
        let decided = decide_receipts(
            &mut chats,
            [
                receipt(&RAVI, ReceiptKind::Delivered, 5),
                receipt(&RAVI, ReceiptKind::Read, 8),
                receipt(&RAVI, ReceiptKind::Delivered, 99),
                receipt(&RAVI, ReceiptKind::Delivered, 10),
            ],
        );
        assert_eq!(decided[..2], [None, None]);
        let capped = decided[2].as_ref().map(|m| (m.delivered_seq, m.read_seq, m.marks.clone(), m.event_seq));
        assert_eq!(capped, Some((10, 8, vec![(ReceiptKind::Delivered, 10)], 21)));
        assert_eq!(decided[3], None, "a second receipt for the same place moves nothing");
    }

    #[test]
    fn later_receipts_of_a_batch_start_where_earlier_ones_left_the_chat() {
        let mut chats = chat(6, &[(ASHA, (6, 6))]);
        let decided = decide_receipts(
            &mut chats,
            [receipt(&RAVI, ReceiptKind::Delivered, 6), receipt(&RAVI, ReceiptKind::Read, 3)],
        );
        let progress: Vec<_> = decided.iter().map(|m| m.as_ref().map(|m| (m.chat, m.event_seq))).collect();
        assert_eq!(
            progress,
            [
                Some((ChatProgress { delivered_seq: 6, read_seq: 0 }, 21)),
                Some((ChatProgress { delivered_seq: 6, read_seq: 3 }, 22)),
            ]
        );
        assert_eq!(decided[1].as_ref().map(|m| m.marks.clone()), Some(vec![(ReceiptKind::Read, 3)]));
    }

    #[test]
    fn a_chat_without_messages_or_not_found_moves_nothing() {
        let mut empty = chat(0, &[]);
        assert_eq!(decide_receipts(&mut empty, [receipt(&RAVI, ReceiptKind::Read, 1)]), [None]);
        assert_eq!(empty["chat"].last_event_seq, 20);
        assert_eq!(decide_receipts(&mut HashMap::new(), [receipt(&RAVI, ReceiptKind::Read, 1)]), [None]);
    }
}
