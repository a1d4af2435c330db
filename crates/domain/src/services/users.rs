use super::Ports;
use crate::auth::Caller;
use crate::error::{DomainError, DomainResult};
use crate::ports::{ContactRepo, UserRepo};
use crate::user::User;
use std::sync::Arc;

/// Most users one search returns.
const SEARCH_LIMIT: i64 = 20;
/// Longest people search query, in characters (clients read it from `GET /api/config`).
pub const MAX_QUERY_CHARS: usize = 64;

/// Finding people to chat with.
pub struct UserService {
    users: Arc<dyn UserRepo>,
    contacts: Arc<dyn ContactRepo>,
}

impl UserService {
    pub fn new(ports: &Ports) -> Self {
        Self { users: ports.users.clone(), contacts: ports.contacts.clone() }
    }

    /// Other users whose name or phone matches `query`.
    pub async fn search(&self, caller: Caller, query: &str) -> DomainResult<Vec<User>> {
        let query = query.trim();
        if query.is_empty() || query.chars().count() > MAX_QUERY_CHARS || query.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "invalid_query",
                format!("q must be 1 to {MAX_QUERY_CHARS} printable characters"),
            ));
        }
        let found = self.users.search(query, caller.user_id, SEARCH_LIMIT).await?;
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
}
