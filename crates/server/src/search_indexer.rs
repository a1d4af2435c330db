//! The search indexer: a send does not index its message (that doubled what storing
//! a message cost the database), so this loop brings the search index up to date
//! behind the sends, keeping search at most about a second behind the newest message.

use chitchat_domain::ports::MessageSearch;
use std::sync::Arc;
use std::time::Duration;

/// How long the indexer waits after finding nothing left to index: well inside the
/// second by which search may lag the newest message.
const IDLE_WAIT: Duration = Duration::from_millis(200);

/// The most messages indexed in one transaction.
const BATCH: i64 = 500;

/// Runs the indexer for as long as the server runs. With several instances each
/// runs one; the store hands every message to one of them.
pub(crate) fn spawn(search: Arc<dyn MessageSearch>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(IDLE_WAIT);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            // Batch after batch while they come back full: a backlog is worked off
            // at once, not one batch per wait.
            loop {
                match search.index_pending(BATCH).await {
                    Ok(taken) if i64::try_from(taken).is_ok_and(|taken| taken >= BATCH) => {}
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, "could not bring the search index up to date");
                        break;
                    }
                }
            }
        }
    });
}
