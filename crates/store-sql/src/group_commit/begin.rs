//! The transaction of a batch on PostgreSQL, begun without a round trip of its
//! own. diesel-async's `transaction` sends BEGIN and waits for its answer before
//! the first statement goes out: one more wait for the database per batch, while
//! the senders wait for their acks. Here BEGIN and the lock of the chats' rows are
//! sent together (tokio-postgres writes requests in the order they are made, and
//! PostgreSQL runs them in that order), and COMMIT or ROLLBACK ends it. diesel's
//! transaction manager does not know of this transaction, so nothing in it may
//! open one of its own, and a connection that could not end it leaves the pool.

use super::statements::{lock_postgres, LockedChat};
use crate::error::StoreError;
use diesel::QueryResult;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

/// Sends BEGIN and the lock of `chat_ids` (sorted) at once; returns the locked rows.
/// After an error the transaction may be open: `end` it all the same.
pub(super) async fn begin_and_lock(conn: &AsyncPgConnection, chat_ids: &[&str]) -> QueryResult<Vec<LockedChat>> {
    let mut shared = conn;
    // Polled in this order, BEGIN is written before the lock is.
    let (begun, locked) =
        futures_util::future::join(shared.batch_execute("BEGIN"), lock_postgres(conn, chat_ids)).await;
    begun?;
    locked
}

/// Commits what `outcome` says was done, or rolls it back after an error, and
/// returns `outcome` (or the error of the commit).
pub(super) async fn end<T>(
    mut pooled: Object<AsyncPgConnection>,
    outcome: Result<T, StoreError>,
) -> Result<T, StoreError> {
    let sql = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
    match pooled.batch_execute(sql).await {
        Ok(()) => outcome,
        Err(error) => {
            // The transaction's state is unknown: the connection is not used again.
            tracing::warn!(%error, statement = sql, "ending a batch's transaction failed; closing its connection");
            drop(Object::take(pooled));
            outcome.and(Err(error.into()))
        }
    }
}
