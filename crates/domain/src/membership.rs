//! Membership reads through a cache: `CachedChatRepo` answers "who is in this
//! chat" (asked to fan out every typing event, receipt and message update) from a
//! `MembershipCache`, and invalidates a chat's entry after every change of its
//! members. Decisions about one person never rely on it: whether someone may
//! read, send or type is asked of the store (`member`), and a new message's
//! recipients come from the transaction that stores it.

use crate::chat::{Chat, GroupChange, GroupStep, Member};
use crate::error::DomainResult;
use crate::ids::{ChatId, UserId};
use crate::message::Appended;
use crate::ports::cluster::{CacheLookup, MembershipCache};
use crate::ports::ChatRepo;
use async_trait::async_trait;
use std::sync::Arc;

/// A `ChatRepo` that reads active members through a cache. A cache that fails
/// costs only speed: the store answers instead.
pub struct CachedChatRepo {
    store: Arc<dyn ChatRepo>,
    cache: Arc<dyn MembershipCache>,
}

impl CachedChatRepo {
    pub fn new(store: Arc<dyn ChatRepo>, cache: Arc<dyn MembershipCache>) -> Self {
        Self { store, cache }
    }

    /// Drops the chat's entry after its members changed. A failure is logged: the
    /// entry then lives until the cache expires it, which adapters keep short.
    async fn invalidate(&self, chat: ChatId) {
        if let Err(error) = self.cache.invalidate(chat).await {
            tracing::warn!(%error, chat_id = %chat, "could not invalidate cached members");
        }
    }
}

#[async_trait]
impl ChatRepo for CachedChatRepo {
    async fn create_direct(&self, chat: &Chat, members: &[Member], direct_key: &str) -> DomainResult<Chat> {
        let stored = self.store.create_direct(chat, members, direct_key).await?;
        self.invalidate(stored.id).await;
        Ok(stored)
    }

    async fn get(&self, id: ChatId) -> DomainResult<Option<Chat>> {
        self.store.get(id).await
    }

    async fn list_for_user(&self, user: UserId) -> DomainResult<Vec<(Chat, Member)>> {
        self.store.list_for_user(user).await
    }

    async fn members(&self, chat: ChatId) -> DomainResult<Vec<Member>> {
        let ticket = match self.cache.lookup(chat).await {
            Ok(CacheLookup::Hit(members)) => return Ok(members),
            Ok(CacheLookup::Miss(ticket)) => Some(ticket),
            Err(error) => {
                tracing::debug!(%error, chat_id = %chat, "membership cache unavailable; reading the store");
                None
            }
        };
        let members = self.store.members(chat).await?;
        if let Some(ticket) = ticket {
            if let Err(error) = self.cache.fill(chat, ticket, &members).await {
                tracing::debug!(%error, chat_id = %chat, "could not cache members");
            }
        }
        Ok(members)
    }

    async fn member(&self, chat: ChatId, user: UserId) -> DomainResult<Option<Member>> {
        // Access decisions read the store: a cache may lag a removal by its TTL.
        self.store.member(chat, user).await
    }

    async fn correspondents(&self, user: UserId) -> DomainResult<Vec<UserId>> {
        self.store.correspondents(user).await
    }

    async fn partners(&self, user: UserId) -> DomainResult<Vec<UserId>> {
        self.store.partners(user).await
    }

    async fn create_group(&self, chat: &Chat, steps: &[GroupStep]) -> DomainResult<Vec<Appended>> {
        let appended = self.store.create_group(chat, steps).await?;
        self.invalidate(chat.id).await;
        Ok(appended)
    }

    async fn change_group(&self, change: &GroupChange) -> DomainResult<Vec<Appended>> {
        // Also when the change failed: it may have been stored before the error.
        let result = self.store.change_group(change).await;
        self.invalidate(change.chat_id).await;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Role;
    use crate::error::DomainError;
    use crate::ports::cluster::{CacheTicket, MockMembershipCache};
    use crate::ports::MockChatRepo;
    use chrono::Utc;

    fn member(chat: ChatId) -> Member {
        Member { chat_id: chat, user_id: UserId::new(), role: Role::Member, joined_at: Utc::now(), left_at: None }
    }

    #[tokio::test]
    async fn a_hit_does_not_touch_the_store() {
        let chat = ChatId::new();
        let cached = vec![member(chat)];
        let mut cache = MockMembershipCache::new();
        let answer = cached.clone();
        cache.expect_lookup().returning(move |_| Ok(CacheLookup::Hit(answer.clone())));
        let mut store = MockChatRepo::new();
        store.expect_members().never();
        let repo = CachedChatRepo::new(Arc::new(store), Arc::new(cache));
        assert_eq!(repo.members(chat).await.unwrap(), cached);
    }

    #[tokio::test]
    async fn a_miss_reads_the_store_and_fills_with_the_lookups_ticket() {
        let chat = ChatId::new();
        let stored = vec![member(chat), member(chat)];
        let mut cache = MockMembershipCache::new();
        cache.expect_lookup().returning(|_| Ok(CacheLookup::Miss(CacheTicket(7))));
        let expected = stored.clone();
        cache
            .expect_fill()
            .withf(move |c, ticket, members| *c == chat && *ticket == CacheTicket(7) && members == expected.as_slice())
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut store = MockChatRepo::new();
        let answer = stored.clone();
        store.expect_members().times(1).returning(move |_| Ok(answer.clone()));
        let repo = CachedChatRepo::new(Arc::new(store), Arc::new(cache));
        assert_eq!(repo.members(chat).await.unwrap(), stored);
    }

    #[tokio::test]
    async fn a_failing_cache_falls_back_to_the_store() {
        let chat = ChatId::new();
        let stored = vec![member(chat)];
        let mut cache = MockMembershipCache::new();
        cache.expect_lookup().returning(|_| Err(DomainError::unavailable("redis down")));
        cache.expect_fill().never();
        let mut store = MockChatRepo::new();
        let answer = stored.clone();
        store.expect_members().returning(move |_| Ok(answer.clone()));
        store.expect_member().returning(|_, _| Ok(None));
        let repo = CachedChatRepo::new(Arc::new(store), Arc::new(cache));
        assert_eq!(repo.members(chat).await.unwrap(), stored);
        assert_eq!(repo.member(chat, UserId::new()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn access_decisions_read_the_store_even_on_a_hit() {
        let chat = ChatId::new();
        let cached = member(chat);
        let mut cache = MockMembershipCache::new();
        let answer = cached.clone();
        cache.expect_lookup().returning(move |_| Ok(CacheLookup::Hit(vec![answer.clone()])));
        let mut store = MockChatRepo::new();
        // Removed meanwhile: the store knows, the cache may not yet.
        store.expect_member().times(1).returning(|_, _| Ok(None));
        let repo = CachedChatRepo::new(Arc::new(store), Arc::new(cache));
        assert_eq!(repo.member(chat, cached.user_id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_group_change_invalidates_the_chat_even_when_it_fails() {
        let chat = ChatId::new();
        let mut cache = MockMembershipCache::new();
        cache.expect_invalidate().withf(move |c| *c == chat).times(1).returning(|_| Ok(()));
        let mut store = MockChatRepo::new();
        store.expect_change_group().returning(|_| Err(DomainError::unavailable("connection lost")));
        let repo = CachedChatRepo::new(Arc::new(store), Arc::new(cache));
        let change = GroupChange { chat_id: chat, expected_version: 1, steps: Vec::new() };
        assert!(repo.change_group(&change).await.is_err());
    }
}
