use super::Ports;
use crate::auth::Caller;
use crate::error::{DomainError, DomainResult};
use crate::ports::{ChatRepo, ContactRepo, UserRepo};
use crate::user::User;
use crate::ErrorCode;
use std::sync::Arc;

/// Most users one search returns.
const SEARCH_LIMIT: i64 = 20;
/// Longest people search query, in characters (clients read it from `GET /api/config`).
pub const MAX_QUERY_CHARS: usize = 64;
/// Fewer digits would match almost every phone number.
const MIN_PHONE_DIGITS: usize = 3;

/// Finding people to chat with.
pub struct UserService {
    users: Arc<dyn UserRepo>,
    contacts: Arc<dyn ContactRepo>,
    chats: Arc<dyn ChatRepo>,
}

impl UserService {
    pub fn new(ports: &Ports) -> Self {
        Self { users: ports.users.clone(), contacts: ports.contacts.clone(), chats: ports.chats.clone() }
    }

    /// Other users whose name contains `query`, and, when it holds at least three
    /// digits, those of the people who share a chat with the caller or saved them
    /// (`services::privacy::accounts_shown_to`) whose number contains them. A number
    /// finds nobody else, so search does not tell whether a number is registered.
    pub async fn search(&self, caller: Caller, query: &str) -> DomainResult<Vec<User>> {
        let query = query.trim();
        if query.is_empty() || query.chars().count() > MAX_QUERY_CHARS || query.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidQuery,
                format!("q must be 1 to {MAX_QUERY_CHARS} printable characters"),
            ));
        }
        let mut found = self.users.search(query, caller.user_id, SEARCH_LIMIT).await?;
        let digits: String = query.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= MIN_PHONE_DIGITS {
            let knowing: Vec<_> =
                super::privacy::accounts_shown_to(self.chats.as_ref(), self.contacts.as_ref(), caller.user_id)
                    .await?
                    .into_iter()
                    .collect();
            let by_number = self.users.get_many(&knowing).await?;
            found.extend(by_number.into_iter().filter(|u| u.phone.as_str().contains(&digits)));
            found.sort_by(|a, b| (a.name.as_str(), a.id).cmp(&(b.name.as_str(), b.id)));
            found.dedup_by_key(|u| u.id);
            found.truncate(usize::try_from(SEARCH_LIMIT).unwrap_or(usize::MAX));
        }
        super::privacy::as_seen_by(self.contacts.as_ref(), Some(caller.user_id), found).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{SessionId, UserId};
    use crate::services::test_support::{ports, MockSet};

    #[tokio::test]
    async fn search_excludes_the_caller_and_rejects_empty_queries() {
        let caller = Caller { user_id: UserId::new(), session_id: SessionId::new() };
        let mut m = MockSet::new(chrono::Utc::now());
        let me = caller.user_id;
        m.users
            .expect_search()
            .withf(move |q, exclude, limit| q == "asha" && *exclude == me && *limit == SEARCH_LIMIT)
            .times(1)
            .returning(|_, _, _| Ok(vec![]));
        let service = UserService::new(&ports(m));
        assert!(service.search(caller, "  asha ").await.unwrap().is_empty());
        assert_eq!(service.search(caller, "   ").await.unwrap_err().code(), "invalid_query");
        assert_eq!(service.search(caller, "as\0ha").await.unwrap_err().code(), "invalid_query");
    }

    #[tokio::test]
    async fn digits_find_only_people_whose_account_the_caller_may_see() {
        let caller = Caller { user_id: UserId::new(), session_id: SessionId::new() };
        let friend = crate::services::test_support::user(UserId::new(), "Friend");
        let stranger = crate::services::test_support::user(UserId::new(), "Stranger");
        let digits: String = friend.phone.as_str().chars().filter(char::is_ascii_digit).skip(2).take(8).collect();
        let mut m = MockSet::new(chrono::Utc::now());
        m.users.expect_search().returning(|_, _, _| Ok(vec![]));
        m.chats.expect_partners().returning(|_| Ok(vec![]));
        let friend_id = friend.id;
        m.contacts.checkpoint(); // drops the default "nobody saved anyone"
        m.contacts.expect_saved_by().returning(move |_| Ok(vec![friend_id]));
        let (known, unknown) = (friend.clone(), stranger.id);
        m.users
            .expect_get_many()
            .withf(move |ids| ids == [friend_id].as_slice() && !ids.contains(&unknown))
            .returning(move |_| Ok(vec![known.clone()]));
        let service = UserService::new(&ports(m));
        let found = service.search(caller, &digits).await.unwrap();
        assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), [friend.id]);
    }
}
