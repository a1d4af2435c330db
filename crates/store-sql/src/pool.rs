//! Connection pools for both backends: connecting, migrating, and how busy they are.

use crate::error::StoreError;
use crate::pg_tls::PgConnectSettings;
use diesel::SqliteConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::path::Path;
use std::sync::Arc;

pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Applied to every SQLite connection: WAL for concurrent readers, a wait instead
/// of an immediate "database is locked", and enforced foreign keys.
const SQLITE_PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;";

#[derive(Clone)]
pub(crate) enum DbPool {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite(Pool<SqliteConn>),
}

/// How busy the connection pool is, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub open: usize,
    pub idle: usize,
    pub max: usize,
}

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `postgres://...`, `postgresql://...` or `sqlite://PATH`.
    pub url: String,
    /// Pool size for PostgreSQL (`DB_MAX_OPEN_CONNS`).
    pub max_connections: usize,
}

fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl DbPool {
    /// Connects, applies pending migrations, and returns a ready pool.
    pub(crate) async fn connect(config: &StoreConfig) -> Result<Self, StoreError> {
        if is_postgres(&config.url) {
            Self::connect_postgres(config).await
        } else if let Some(path) = sqlite_path(&config.url) {
            Self::connect_sqlite(path).await
        } else {
            Err(StoreError::UnsupportedUrl(redact(&config.url)))
        }
    }

    /// Connections open and connections idle in the pool.
    pub(crate) fn pool_status(&self) -> PoolStatus {
        let status = match self {
            DbPool::Postgres(pool) => pool.status(),
            DbPool::Sqlite(pool) => pool.status(),
        };
        PoolStatus { open: status.size, idle: status.available, max: status.max_size }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            DbPool::Postgres(_) => Backend::Postgres,
            DbPool::Sqlite(_) => Backend::Sqlite,
        }
    }

    async fn connect_postgres(config: &StoreConfig) -> Result<Self, StoreError> {
        // One line that names the variable to fix, without the password.
        let target = || format!("DATABASE_URL {}", redact(&config.url));
        let settings =
            Arc::new(PgConnectSettings::from_url(&config.url).map_err(|e| StoreError::connect(target(), e))?);
        let conn = settings.establish().await.map_err(|e| StoreError::connect(target(), e))?;
        tracing::info!(tls = settings.uses_tls(), "connected to PostgreSQL");
        run_migrations(conn, POSTGRES_MIGRATIONS).await?;
        let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
        // Every pooled connection is opened like the first one, with the same TLS.
        manager_config.custom_setup = Box::new(move |_url| {
            let settings = settings.clone();
            Box::pin(async move { settings.establish().await })
        });
        // No `SELECT 1` each time a connection is taken from the pool: that was a
        // round trip of its own for every query. A connection that broke fails
        // its next query instead, which is reported like any query error, and the
        // pool drops it (diesel-async marks broken connections).
        manager_config.recycling_method = RecyclingMethod::Fast;
        let manager =
            AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(config.url.clone(), manager_config);
        let pool = Pool::builder(manager).max_size(config.max_connections.max(1)).build().map_err(StoreError::pool)?;
        Ok(DbPool::Postgres(pool))
    }

    async fn connect_sqlite(path: &str) -> Result<Self, StoreError> {
        if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::connect(dir.display().to_string(), e))?;
        }
        let conn = establish_sqlite(path.to_owned()).await.map_err(|e| StoreError::connect(path, e))?;
        run_migrations(conn, SQLITE_MIGRATIONS).await?;
        let mut manager_config = ManagerConfig::<SqliteConn>::default();
        manager_config.custom_setup = Box::new(|url| Box::pin(establish_sqlite(url.to_owned())));
        manager_config.recycling_method = RecyclingMethod::Fast;
        let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path, manager_config);
        // One connection: SQLite has a single writer, and one connection avoids
        // "database is locked" upgrades between concurrent transactions.
        let pool = Pool::builder(manager).max_size(1).build().map_err(StoreError::pool)?;
        Ok(DbPool::Sqlite(pool))
    }
}

async fn establish_sqlite(path: String) -> diesel::ConnectionResult<SqliteConn> {
    let mut conn = SqliteConn::establish(&path).await?;
    // diesel's connection error holds text only; the pragma's error is its whole message.
    conn.batch_execute(SQLITE_PRAGMAS).await.map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

async fn run_migrations<C>(conn: C, migrations: EmbeddedMigrations) -> Result<(), StoreError>
where
    C: AsyncConnection + 'static,
    AsyncConnectionWrapper<C>: diesel::Connection<Backend = C::Backend> + MigrationHarness<C::Backend>,
{
    // Migrations use diesel's blocking harness; run it off the async workers.
    tokio::task::spawn_blocking(move || {
        let mut wrapper: AsyncConnectionWrapper<C> = AsyncConnectionWrapper::from(conn);
        wrapper.run_pending_migrations(migrations).map(|_| ()).map_err(StoreError::Migration)
    })
    .await
    .map_err(|e| StoreError::Migration(Box::new(e)))?
}

/// The URL without its password, safe for error messages and logs.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}
