//! The repository ports over diesel, for PostgreSQL (diesel-async's
//! `AsyncPgConnection`) and SQLite (`SyncConnectionWrapper<SqliteConnection>`).
//! `Store` implements each port once; a query written once is compiled for each
//! backend by `db_run!`, and where the backends differ (search, the group commit's
//! lock and writes) each has its own arm (see `run`).

// Before the modules whose queries run through its macros.
#[macro_use]
mod run;
mod backup;
mod error;
mod fixed_shape;
mod group_commit;
mod models;
mod pg_tls;
mod pool;
mod repos;
mod schema;
mod store;
mod time;

pub use backup::{backup_sqlite, SqliteBackup};
pub use error::StoreError;
pub use pool::{pending_migrations, Backend, PoolStatus, StoreConfig};
pub use store::Store;
