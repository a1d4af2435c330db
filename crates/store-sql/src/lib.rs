//! The repository ports over diesel, for PostgreSQL (diesel-async's
//! `AsyncPgConnection`) and SQLite (`SyncConnectionWrapper<SqliteConnection>`).
//! Each query is written once and expanded per backend by `db_run!`.

#[macro_use]
mod pool;
// Before `group_commit`, which reads messages back with `hydrate!`.
#[macro_use]
mod repos;
mod error;
mod fixed_shape;
mod group_commit;
mod models;
mod pg_tls;
mod schema;
mod store;
mod time;

pub use error::StoreError;
pub use pool::{Backend, PoolStatus, StoreConfig};
pub use repos::search::{POSTGRES_SEARCH_ALL_SQL, POSTGRES_SEARCH_RECENT_SQL, POSTGRES_SEARCH_RECENT_WINDOW};
pub use store::Store;
