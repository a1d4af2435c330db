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

/// The key of the PostgreSQL advisory lock held around a migration run, so that
/// instances starting at once migrate one after the other (the later ones find
/// nothing pending). Any constant works; this one is "chitchat" in ASCII.
const MIGRATION_LOCK_KEY: i64 = 0x6368_6974_6368_6174;

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

pub(crate) fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Backend {
    /// The backend a `DATABASE_URL` names; None when it names neither.
    pub fn of_url(url: &str) -> Option<Self> {
        if is_postgres(url) {
            Some(Backend::Postgres)
        } else if sqlite_path(url).is_some() {
            Some(Backend::Sqlite)
        } else {
            None
        }
    }
}

/// The names of the migrations the database at `url` has not had yet, oldest
/// first, applying none. A SQLite file that does not exist yet has them all (and
/// is not created).
pub async fn pending_migrations(url: &str) -> Result<Vec<String>, StoreError> {
    match Backend::of_url(url) {
        Some(Backend::Postgres) => {
            let target = || format!("DATABASE_URL {}", redact(url));
            let settings = PgConnectSettings::from_url(url).map_err(|e| StoreError::connect(target(), e))?;
            let conn = settings.establish().await.map_err(|e| StoreError::connect(target(), e))?;
            list_pending(conn, POSTGRES_MIGRATIONS).await
        }
        Some(Backend::Sqlite) => {
            let path = sqlite_path(url).unwrap_or_default();
            if !Path::new(path).exists() {
                return all_names::<diesel::sqlite::Sqlite>(SQLITE_MIGRATIONS);
            }
            let conn = establish_sqlite(path.to_owned()).await.map_err(|e| StoreError::connect(path, e))?;
            list_pending(conn, SQLITE_MIGRATIONS).await
        }
        None => Err(StoreError::UnsupportedUrl(redact(url))),
    }
}

fn all_names<DB: diesel::backend::Backend>(migrations: EmbeddedMigrations) -> Result<Vec<String>, StoreError>
where
    EmbeddedMigrations: diesel::migration::MigrationSource<DB>,
{
    let all = diesel::migration::MigrationSource::<DB>::migrations(&migrations).map_err(StoreError::Migration)?;
    Ok(all.iter().map(|m| m.name().to_string()).collect())
}

async fn list_pending<C>(conn: C, migrations: EmbeddedMigrations) -> Result<Vec<String>, StoreError>
where
    C: AsyncConnection + 'static,
    AsyncConnectionWrapper<C>: diesel::Connection<Backend = C::Backend> + MigrationHarness<C::Backend>,
{
    tokio::task::spawn_blocking(move || {
        let mut wrapper: AsyncConnectionWrapper<C> = AsyncConnectionWrapper::from(conn);
        let pending = wrapper.pending_migrations(migrations).map_err(StoreError::Migration)?;
        Ok(pending.iter().map(|m| m.name().to_string()).collect())
    })
    .await
    .map_err(|e| StoreError::Migration(Box::new(e)))?
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
        run_migrations(conn, POSTGRES_MIGRATIONS, Some(MIGRATION_LOCK_KEY)).await?;
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
        // One file, one writer: SQLite serialises migrations by itself.
        run_migrations(conn, SQLITE_MIGRATIONS, None).await?;
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

/// Applies pending migrations; with `lock_key` (PostgreSQL), holding that advisory
/// lock on this connection meanwhile, so that instances starting together take
/// turns. The lock ends with the connection at the latest.
async fn run_migrations<C>(conn: C, migrations: EmbeddedMigrations, lock_key: Option<i64>) -> Result<(), StoreError>
where
    C: AsyncConnection + 'static,
    AsyncConnectionWrapper<C>: diesel::Connection<Backend = C::Backend> + MigrationHarness<C::Backend>,
{
    use diesel::connection::SimpleConnection;
    // Migrations use diesel's blocking harness; run it off the async workers.
    tokio::task::spawn_blocking(move || {
        let mut wrapper: AsyncConnectionWrapper<C> = AsyncConnectionWrapper::from(conn);
        if let Some(key) = lock_key {
            tracing::info!("waiting for the migration lock (other instances may be migrating)");
            SimpleConnection::batch_execute(&mut wrapper, &format!("SELECT pg_advisory_lock({key})"))
                .map_err(StoreError::Query)?;
        }
        let applied = wrapper.run_pending_migrations(migrations).map(|done| done.len()).map_err(StoreError::Migration);
        if let Some(key) = lock_key {
            if let Err(error) =
                SimpleConnection::batch_execute(&mut wrapper, &format!("SELECT pg_advisory_unlock({key})"))
            {
                tracing::warn!(%error, "could not release the migration lock; it ends with the connection");
            }
        }
        let applied = applied?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
        Ok(())
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
