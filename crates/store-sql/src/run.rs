//! How every query reaches the database. `db_run!` takes a pooled connection of
//! the configured backend and runs a body on it; a port's query runs detached from
//! its caller (decision 0003). `DbConn` is a connection of either backend, for the
//! functions that run queries on an open transaction; `on_conn!` runs one body on
//! it. Where the backends' queries really differ, the code matches
//! `DbConn::Postgres` and `DbConn::Sqlite` with an explicit arm for each, so a
//! search for `DbConn::Postgres(` outside this file lists every divergence
//! (connecting and migrating differ too, in `pool.rs`, and how placeholders are
//! written, in `fixed_shape.rs`).

use crate::error::StoreError;
use crate::pool::{DbPool, SqliteConn};
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::AsyncPgConnection;
use std::future::Future;
use tokio::runtime::Handle;

/// A connection of either backend, pooled or an open transaction.
pub(crate) enum DbConn<'a> {
    Postgres(&'a mut AsyncPgConnection),
    Sqlite(&'a mut SqliteConn),
}

/// The connection as a `DbConn`, for a body that `db_run!` compiled per backend.
pub(crate) trait AsDbConn {
    fn db(&mut self) -> DbConn<'_>;
}

impl AsDbConn for AsyncPgConnection {
    fn db(&mut self) -> DbConn<'_> {
        DbConn::Postgres(self)
    }
}

impl AsDbConn for SqliteConn {
    fn db(&mut self) -> DbConn<'_> {
        DbConn::Sqlite(self)
    }
}

/// A connection taken from the pool, returned to it when dropped.
// One lives in each query's task while it runs: its size costs nothing there, a
// box would cost an allocation per query.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Pooled {
    Postgres(Object<AsyncPgConnection>),
    Sqlite(Object<SqliteConn>),
}

impl Pooled {
    pub(crate) async fn get(pool: &DbPool) -> Result<Self, StoreError> {
        Ok(match pool {
            DbPool::Postgres(pool) => Self::Postgres(pool.get().await.map_err(StoreError::pool)?),
            DbPool::Sqlite(pool) => Self::Sqlite(pool.get().await.map_err(StoreError::pool)?),
        })
    }

    pub(crate) fn db(&mut self) -> DbConn<'_> {
        match self {
            Self::Postgres(pooled) => DbConn::Postgres(pooled),
            Self::Sqlite(pooled) => DbConn::Sqlite(pooled),
        }
    }
}

/// Runs `work` to completion on the store's runtime, whatever happens to the
/// caller: a started write always finishes, and diesel-async's SQLite wrapper,
/// which must not be dropped mid-query on a single-threaded actix worker, never is.
pub(crate) async fn detached<T, Work>(runtime: &Handle, work: Work) -> Result<T, StoreError>
where
    Work: Future<Output = Result<T, StoreError>> + Send + 'static,
    T: Send + 'static,
{
    runtime.spawn(work).await?
}

/// Runs `$body` with `$conn` bound to a pooled connection of the configured
/// backend; evaluates to the body's value, and an error returns from the
/// enclosing function.
///
/// - `db_run!(store, |conn| body)`: the body is compiled once per backend, with
///   `conn` that backend's connection, and runs as its own task on the store's
///   runtime (`detached`), owning what it uses (it is an `async move` block).
/// - `db_run!(store, |conn: DbConn| body)`: the same, compiled once, with `conn` a
///   `DbConn`, for bodies that match on the backend.
/// - `db_run!(attached: pool, |conn| body)`: in the caller's task, for the group
///   commit's writers, which are tasks of their own that no caller can cancel.
macro_rules! db_run {
    ($store:expr, |$conn:ident: DbConn| $body:expr) => {{
        let pool = $store.pool.clone();
        $crate::run::detached(&$store.runtime, async move {
            let mut pooled = $crate::run::Pooled::get(&pool).await?;
            let $conn = pooled.db();
            Ok::<_, $crate::error::StoreError>($body)
        })
        .await?
    }};
    (attached: $pool:expr, |$conn:ident| $body:expr) => {
        match &$pool {
            $crate::pool::DbPool::Postgres(pool) => {
                let mut pooled = pool.get().await.map_err($crate::error::StoreError::pool)?;
                let $conn = &mut *pooled;
                $body
            }
            $crate::pool::DbPool::Sqlite(pool) => {
                let mut pooled = pool.get().await.map_err($crate::error::StoreError::pool)?;
                let $conn = &mut *pooled;
                $body
            }
        }
    };
    ($store:expr, |$conn:ident| $body:expr) => {{
        let pool = $store.pool.clone();
        $crate::run::detached(&$store.runtime, async move {
            Ok::<_, $crate::error::StoreError>(db_run!(attached: pool, |$conn| $body))
        })
        .await?
    }};
}

/// Runs `$body` on `$conn` (a `&mut DbConn`) with `$c` bound to the connection of
/// its backend: the same body, compiled for each.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::run::DbConn::Postgres(conn) => {
                let $c = &mut **conn;
                $body
            }
            $crate::run::DbConn::Sqlite(conn) => {
                let $c = &mut **conn;
                $body
            }
        }
    };
}
