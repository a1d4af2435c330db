//! A consistent copy of a SQLite database that a running server keeps writing:
//! SQLite's online backup API (through rusqlite, linked to the same SQLite as
//! diesel), never a copy of the file, which could catch it between writes.

use crate::error::StoreError;
use crate::pool::{redact, sqlite_path};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the backup keeps retrying while the server holds a lock it needs.
const BUSY_PATIENCE: Duration = Duration::from_secs(30);
/// Between two tries while the database is busy.
const BUSY_PAUSE: Duration = Duration::from_millis(50);

/// What `backup_sqlite` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteBackup {
    /// The copy: the source's file name, in the destination directory.
    pub file: PathBuf,
    pub bytes: u64,
}

/// Copies the SQLite database of `database_url` into `into_dir` (which must
/// exist), as it stood at one moment, while other connections keep reading and
/// writing it. The copy is checked (`PRAGMA quick_check`) before it is reported.
pub async fn backup_sqlite(database_url: &str, into_dir: &Path) -> Result<SqliteBackup, StoreError> {
    let source =
        sqlite_path(database_url).map(PathBuf::from).ok_or_else(|| StoreError::UnsupportedUrl(redact(database_url)))?;
    let name = source.file_name().map_or_else(|| "chitchat.db".into(), ToOwned::to_owned);
    let file = into_dir.join(name);
    let target = file.clone();
    tokio::task::spawn_blocking(move || copy(&source, &target)).await??;
    let bytes = std::fs::metadata(&file).map_err(|e| StoreError::Backup(Box::new(e)))?.len();
    Ok(SqliteBackup { file, bytes })
}

fn copy(source: &Path, target: &Path) -> Result<(), StoreError> {
    let failed = |e: rusqlite::Error| StoreError::Backup(Box::new(e));
    // Read-write without CREATE: a missing database is an error, not a new empty one.
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| StoreError::connect(source.display().to_string(), e))?;
    from.busy_timeout(BUSY_PATIENCE).map_err(failed)?;
    let mut to = Connection::open(target).map_err(failed)?;
    {
        let backup = Backup::new(&from, &mut to).map_err(failed)?;
        let started = Instant::now();
        // All pages in one step: one read transaction, so one moment of the
        // database, while the server's writes go on into its write-ahead log.
        loop {
            match backup.step(-1).map_err(failed)? {
                StepResult::Done => break,
                _ if started.elapsed() > BUSY_PATIENCE => {
                    return Err(StoreError::Backup("the database stayed locked; try again".into()));
                }
                _ => std::thread::sleep(BUSY_PAUSE),
            }
        }
    }
    // The copy stands alone: no write-ahead log beside it.
    to.pragma_update(None, "journal_mode", "DELETE").map_err(failed)?;
    let check: String = to.pragma_query_value(None, "quick_check", |row| row.get(0)).map_err(failed)?;
    if check != "ok" {
        return Err(StoreError::Backup(format!("the copy failed its check: {check}").into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_copy_holds_what_was_committed_while_a_writer_keeps_writing() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("live.db");
        let writer = Connection::open(&source).unwrap();
        writer.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER NOT NULL);").unwrap();
        for n in 0..1000 {
            writer.execute("INSERT INTO t (n) VALUES (?1)", [n]).unwrap();
        }
        // A writer that goes on during the backup, from another thread.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let busy = {
            let (stop, source) = (stop.clone(), source.clone());
            std::thread::spawn(move || {
                let conn = Connection::open(&source).unwrap();
                conn.busy_timeout(Duration::from_secs(5)).unwrap();
                let mut n = 1000;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    conn.execute("INSERT INTO t (n) VALUES (?1)", [n]).unwrap();
                    n += 1;
                }
            })
        };
        let out = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", source.display());
        let copy = backup_sqlite(&url, out.path()).await.unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        busy.join().unwrap();
        assert_eq!(copy.file, out.path().join("live.db"));
        assert!(!out.path().join("live.db-wal").exists());
        let restored = Connection::open(&copy.file).unwrap();
        let (count, max): (i64, i64) =
            restored.query_row("SELECT COUNT(*), MAX(n) FROM t", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert!(count >= 1000, "everything committed before the backup began: {count}");
        assert_eq!(count, max + 1, "one moment: no row without those before it");
    }

    #[tokio::test]
    async fn a_missing_database_is_an_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("none.db").display());
        let out = tempfile::tempdir().unwrap();
        assert!(backup_sqlite(&url, out.path()).await.is_err());
        assert!(!dir.path().join("none.db").exists());
        assert!(backup_sqlite("postgres://localhost/x", out.path()).await.is_err());
    }
}
