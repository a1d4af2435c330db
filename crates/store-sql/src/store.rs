//! `Store`: the public face of the SQL store. It implements every repository port
//! (one file per port in `repos`); each query runs through `db_run!`, as its own
//! task on the runtime that opened the store (decision 0003), and each new message
//! and receipt through the group commit's writers.

use crate::error::StoreError;
use crate::group_commit::{Messages, Receipts, Writers};
use crate::pool::{Backend, DbPool, PoolStatus, StoreConfig};
use tokio::runtime::Handle;

/// The SQL store (PostgreSQL or SQLite): implements every repository port.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: DbPool,
    /// The writers that store new messages in batches.
    pub(crate) appends: Writers<Messages>,
    /// The writers that store receipts in batches.
    pub(crate) receipt_moves: Writers<Receipts>,
    /// Runs every query, whatever happens to its caller.
    pub(crate) runtime: Handle,
}

impl Store {
    /// Connects, applies pending migrations, and returns a ready store. Must be
    /// called on a multi-threaded tokio runtime, which then runs every query and
    /// the group commit's writers.
    pub async fn connect(config: &StoreConfig) -> Result<Self, StoreError> {
        let pool = DbPool::connect(config).await?;
        let appends = Writers::start(&pool, |pool| Messages { pool });
        let receipt_moves = Writers::start(&pool, |pool| Receipts { pool });
        Ok(Self { pool, appends, receipt_moves, runtime: Handle::current() })
    }

    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    pub fn pool_status(&self) -> PoolStatus {
        self.pool.pool_status()
    }
}
