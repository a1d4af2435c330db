use super::Ports;
use crate::auth::Caller;
use crate::error::{DomainError, DomainResult};
use crate::ids::ChatId;
use crate::ports::MessageSearch;
use crate::search::{snippet, SearchHit, SearchQuery};
use crate::ErrorCode;
use std::sync::Arc;

/// Most results one search returns.
pub const MAX_RESULTS: i64 = 50;

/// Searching the caller's messages.
pub struct SearchService {
    search: Arc<dyn MessageSearch>,
}

impl SearchService {
    pub fn new(ports: &Ports) -> Self {
        Self { search: ports.search.clone() }
    }

    /// The caller's messages matching `query`, newest first, with excerpts.
    pub async fn messages(
        &self,
        caller: Caller,
        query: &str,
        chat: Option<ChatId>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> DomainResult<Vec<SearchHit>> {
        let query = SearchQuery::parse(query)?;
        let limit = limit.unwrap_or(20);
        let offset = offset.unwrap_or(0);
        if limit < 1 || offset < 0 {
            return Err(DomainError::invalid(
                ErrorCode::InvalidLimit,
                "limit must be at least 1 and offset not negative",
            ));
        }
        let found = self.search.search(caller.user_id, &query, chat, limit.min(MAX_RESULTS), offset).await?;
        Ok(found.into_iter().map(|message| SearchHit { snippet: snippet(&message.content, &query), message }).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::test_support::{caller, ports, MockSet};
    use chrono::Utc;

    #[tokio::test]
    async fn searches_only_the_callers_chats_with_a_capped_limit() {
        let me = caller();
        let mut m = MockSet::new(Utc::now());
        m.search
            .expect_search()
            .withf(move |user, q, chat, limit, offset| {
                *user == me.user_id && q.as_str() == "dinner" && chat.is_none() && *limit == MAX_RESULTS && *offset == 0
            })
            .returning(|_, _, _, _, _| Ok(vec![]));
        let service = SearchService::new(&ports(m));
        assert!(service.messages(me, " dinner ", None, Some(500), None).await.unwrap().is_empty());
        assert_eq!(service.messages(me, "", None, None, None).await.unwrap_err().code(), "invalid_query");
    }
}
