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

/// The longest wait between two tries while the database fails.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs the indexer for as long as the server runs. With several instances each
/// runs one; the store hands every message to one of them.
pub(crate) fn spawn(search: Arc<dyn MessageSearch>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(IDLE_WAIT);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // While the database fails: the wait before the next try, doubled each time.
        let mut backoff: Option<Duration> = None;
        loop {
            ticks.tick().await;
            // Batch after batch while they come back full: a backlog is worked off
            // at once, not one batch per wait.
            loop {
                match search.index_pending(BATCH).await {
                    Ok(taken) => {
                        if backoff.take().is_some() {
                            tracing::info!("the search index is being brought up to date again");
                        }
                        if !i64::try_from(taken).is_ok_and(|taken| taken >= BATCH) {
                            break;
                        }
                    }
                    Err(error) => {
                        // One warning per outage, not one per try.
                        if backoff.is_none() {
                            tracing::warn!(%error, "could not bring the search index up to date; trying again");
                        }
                        let wait = backoff.map_or(IDLE_WAIT, |wait| (wait * 2).min(MAX_BACKOFF));
                        backoff = Some(wait);
                        tokio::time::sleep(wait).await;
                        break;
                    }
                }
            }
        }
    });
}
