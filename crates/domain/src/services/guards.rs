//! The checks services run before acting in a chat, shared by every service so
//! that each is written once. The rules they apply are pure and live in
//! `crate::access`; these read the facts through ports.

use crate::access::{blocked, call_is_blocked, sender_is_blocked};
use crate::chat::{ChatKind, Member};
use crate::error::{DomainError, DomainResult};
use crate::ids::{ChatId, UserId};
use crate::ports::{ChatRepo, ContactRepo};

/// Fails with "chat not found" unless `user` is an active member, so that outsiders
/// cannot even learn that the chat exists, and former members cannot act in it.
pub(crate) async fn require_member(chats: &dyn ChatRepo, chat: ChatId, user: UserId) -> DomainResult<Member> {
    chats.member(chat, user).await?.filter(Member::is_active).ok_or_else(DomainError::chat_not_found)
}

/// The user's membership, active or former: a former member may still read the chat
/// up to their leaving.
pub(crate) async fn require_reader(chats: &dyn ChatRepo, chat: ChatId, user: UserId) -> DomainResult<Member> {
    chats.member(chat, user).await?.ok_or_else(DomainError::chat_not_found)
}

/// In a direct chat, the other person may have blocked the sender: then nothing
/// reaches them.
pub(super) async fn refuse_if_blocked(
    chats: &dyn ChatRepo,
    contacts: &dyn ContactRepo,
    chat: ChatId,
    sender: UserId,
) -> DomainResult<()> {
    let Some(found) = chats.get(chat).await? else { return Ok(()) };
    if found.kind != ChatKind::Direct {
        // Blocks refuse nobody in a group: no need to read its members.
        return Ok(());
    }
    let members: Vec<UserId> = chats.members(chat).await?.into_iter().map(|m| m.user_id).collect();
    let blockers = contacts.blockers_among(sender, &members).await?;
    if sender_is_blocked(found.kind, &sender, &members, |m| blockers.contains(m)) {
        return Err(blocked());
    }
    Ok(())
}

/// In a direct chat, a call is refused while either person blocks the other.
pub(super) async fn refuse_if_call_blocked(
    contacts: &dyn ContactRepo,
    kind: ChatKind,
    caller: UserId,
    others: &[UserId],
) -> DomainResult<()> {
    if kind != ChatKind::Direct {
        return Ok(());
    }
    let blockers = contacts.blockers_among(caller, others).await?;
    let mut blocked_by_caller = Vec::new();
    for other in others {
        if contacts.is_blocked(caller, *other).await? {
            blocked_by_caller.push(*other);
        }
    }
    if call_is_blocked(kind, &caller, others, |m| blockers.contains(m), |m| blocked_by_caller.contains(m)) {
        return Err(blocked());
    }
    Ok(())
}
