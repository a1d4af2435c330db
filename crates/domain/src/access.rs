//! Who may reach whom, decided from facts the caller has read: the services read
//! them through ports, the store's group commit inside its transaction. Both ask
//! the same functions here, so each rule is written once.

use crate::chat::ChatKind;
use crate::error::DomainError;
use crate::ErrorCode;

/// Whether a message from `sender` in a chat of `kind` with the active `members`
/// must be refused: in a direct chat, someone who blocks the sender gets nothing
/// from them. `blocks_sender` tells whether a member blocks the sender. In a group
/// a block keeps nobody from writing: the members who blocked them still see it.
pub fn sender_is_blocked<'a, U: PartialEq + 'a>(
    kind: ChatKind,
    sender: &U,
    members: impl IntoIterator<Item = &'a U>,
    blocks_sender: impl Fn(&U) -> bool,
) -> bool {
    kind == ChatKind::Direct && members.into_iter().any(|member| member != sender && blocks_sender(member))
}

/// Whether a call from `caller` in a chat of `kind` with the active `members` must
/// be refused. A call rings, so in a direct chat a block counts both ways: neither
/// the one blocked nor the one who blocked may ring the other.
pub fn call_is_blocked<'a, U: PartialEq + 'a>(
    kind: ChatKind,
    caller: &U,
    members: impl IntoIterator<Item = &'a U>,
    blocks_caller: impl Fn(&U) -> bool,
    blocked_by_caller: impl Fn(&U) -> bool,
) -> bool {
    sender_is_blocked(kind, caller, members, |member| blocks_caller(member) || blocked_by_caller(member))
}

/// The answer to someone who was blocked.
pub fn blocked() -> DomainError {
    DomainError::forbidden(ErrorCode::Blocked, "this person does not accept your messages")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENDER: &str = "sender";
    const OTHER: &str = "other";

    #[test]
    fn in_a_direct_chat_the_other_persons_block_refuses_the_sender() {
        let members = [SENDER, OTHER];
        assert!(sender_is_blocked(ChatKind::Direct, &SENDER, &members, |m| *m == OTHER));
        assert!(!sender_is_blocked(ChatKind::Direct, &SENDER, &members, |_| false));
    }

    #[test]
    fn in_a_group_a_block_refuses_nobody() {
        let members = [SENDER, OTHER, "third"];
        assert!(!sender_is_blocked(ChatKind::Group, &SENDER, &members, |m| *m == OTHER));
    }

    #[test]
    fn only_the_other_members_blocks_count() {
        assert!(!sender_is_blocked(ChatKind::Direct, &SENDER, &[SENDER, OTHER], |m| *m == SENDER));
    }

    #[test]
    fn a_call_is_refused_in_a_direct_chat_when_either_blocks_the_other_and_never_in_a_group() {
        let members = [SENDER, OTHER];
        assert!(call_is_blocked(ChatKind::Direct, &SENDER, &members, |m| *m == OTHER, |_| false));
        assert!(call_is_blocked(ChatKind::Direct, &SENDER, &members, |_| false, |m| *m == OTHER));
        assert!(!call_is_blocked(ChatKind::Direct, &SENDER, &members, |_| false, |_| false));
        assert!(!call_is_blocked(ChatKind::Group, &SENDER, &members, |_| true, |_| true));
    }
}
