//! The transaction of a batch on PostgreSQL, begun without a round trip of its
//! own. diesel-async's `transaction` sends BEGIN and waits for its answer before
//! the first statement goes out: one more wait for the database per batch, while
//! the senders wait for their acks. Here BEGIN and the lock of the chats' rows are
//! sent together (tokio-postgres writes requests in the order they are made, and
//! PostgreSQL runs them in that order), and COMMIT or ROLLBACK ends it. diesel's
//! transaction manager does not know of this transaction, so nothing in it may
//! open one of its own, and a connection that could not end it leaves the pool.

use crate::error::StoreError;
use diesel::QueryResult;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use std::future::Future;

/// Sends BEGIN and then `first` (the statements that lock the batch's chats, and
/// what may be read right after the lock) at once; returns what `first` returns.
/// After an error the transaction may be open: `end` it all the same.
pub(super) async fn begin_with<T>(
    conn: &AsyncPgConnection,
    first: impl Future<Output = QueryResult<T>>,
) -> QueryResult<T> {
    let mut shared = conn;
    // Polled in this order, BEGIN is written before `first`'s statements are.
    let (begun, first) = futures_util::future::join(shared.batch_execute("BEGIN"), first).await;
    begun?;
    first
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
