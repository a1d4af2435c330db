//! The membership cache contract: every implementation (in-process, Redis) must
//! pass these. Each case gets two handles on one cache, as two instances of a
//! deployment would have (the same handle twice for the in-process cache).

use chitchat_domain::chat::{Member, Role};
use chitchat_domain::ports::cluster::{CacheLookup, CacheTicket, MembershipCache};
use chitchat_domain::{ChatId, UserId};
use chrono::{TimeZone, Utc};
use std::sync::Arc;

/// Two handles on one cache.
pub type CachePair = (Arc<dyn MembershipCache>, Arc<dyn MembershipCache>);

fn members(chat: ChatId, count: u32) -> Vec<Member> {
    (0..count)
        .map(|i| Member {
            chat_id: chat,
            user_id: UserId::new(),
            role: if i == 0 { Role::Admin } else { Role::Member },
            joined_at: Utc.timestamp_opt(1_700_000_000 + i64::from(i), 123_456_000).single().unwrap(),
            left_at: None,
        })
        .collect()
}

async fn ticket(cache: &dyn MembershipCache, chat: ChatId) -> CacheTicket {
    match cache.lookup(chat).await.unwrap() {
        CacheLookup::Miss(ticket) => ticket,
        CacheLookup::Hit(found) => panic!("expected a miss, found {found:?}"),
    }
}

pub async fn membership_cache_misses_until_filled_then_hits_on_every_instance((a, b): CachePair) {
    let chat = ChatId::new();
    let group = members(chat, 3);
    let first = ticket(a.as_ref(), chat).await;
    a.fill(chat, first, &group).await.unwrap();
    assert_eq!(a.lookup(chat).await.unwrap(), CacheLookup::Hit(group.clone()), "same members, same order");
    assert_eq!(b.lookup(chat).await.unwrap(), CacheLookup::Hit(group), "the other instance sees them too");
}

pub async fn membership_cache_an_invalidation_on_one_instance_empties_the_entry_for_all((a, b): CachePair) {
    let chat = ChatId::new();
    let first = ticket(a.as_ref(), chat).await;
    a.fill(chat, first, &members(chat, 2)).await.unwrap();
    b.invalidate(chat).await.unwrap();
    ticket(a.as_ref(), chat).await;
    ticket(b.as_ref(), chat).await;
}

/// A reader that loaded members before a change must not put them back after it.
pub async fn membership_cache_ignores_a_fill_with_a_ticket_from_before_an_invalidation((a, b): CachePair) {
    let chat = ChatId::new();
    let before = ticket(a.as_ref(), chat).await;
    b.invalidate(chat).await.unwrap();
    a.fill(chat, before, &members(chat, 2)).await.unwrap();
    let after = ticket(a.as_ref(), chat).await;
    assert_ne!(after, before, "the invalidation moved the version on");
    let current = members(chat, 1);
    b.fill(chat, after, &current).await.unwrap();
    assert_eq!(a.lookup(chat).await.unwrap(), CacheLookup::Hit(current));
}

pub async fn membership_cache_keeps_chats_apart((a, b): CachePair) {
    let (one, two) = (ChatId::new(), ChatId::new());
    let (ones, twos) = (members(one, 2), members(two, 4));
    let t = ticket(a.as_ref(), one).await;
    a.fill(one, t, &ones).await.unwrap();
    let t = ticket(b.as_ref(), two).await;
    b.fill(two, t, &twos).await.unwrap();
    a.invalidate(one).await.unwrap();
    ticket(b.as_ref(), one).await;
    assert_eq!(a.lookup(two).await.unwrap(), CacheLookup::Hit(twos));
}

/// A chat that has no members any more (or none yet) is cached as such.
pub async fn membership_cache_holds_an_empty_member_list((a, b): CachePair) {
    let chat = ChatId::new();
    let t = ticket(a.as_ref(), chat).await;
    a.fill(chat, t, &[]).await.unwrap();
    assert_eq!(b.lookup(chat).await.unwrap(), CacheLookup::Hit(Vec::new()));
}
