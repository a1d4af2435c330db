//! `chitchat backup PATH`: a consistent copy of a running SQLite server, made of
//! the database (SQLite's online backup, in the store), the secrets generated in
//! `DATA_DIR`, and then the attachment files.
//!
//! The order makes the copy whole: the database is copied first, at one moment;
//! every file a copied message refers to was complete before its row was
//! written, so it is there when the files are copied afterwards. Files uploaded
//! meanwhile are copied too and are harmless: no row names them, and the server
//! sweeps such uploads after a day.

use crate::config::Config;
use chitchat_blob_store::ObjectBlobStore;
use chitchat_store_sql::Backend;
use secrecy::ExposeSecret;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BackupError {
    #[error(
        "backup copies a SQLite server; on PostgreSQL use pg_dump (see \"Backups and restore\" in docs/operations.md)"
    )]
    Postgres,
    #[error("{0}: the backup goes into a directory that does not exist yet, or is empty")]
    NotEmpty(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] chitchat_store_sql::StoreError),
    #[error("attachments: {0}")]
    Files(#[from] chitchat_blob_store::BlobStoreError),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.display().to_string(), source }
}

pub async fn run(config: &Config, path: &Path) -> Result<(), BackupError> {
    let database_url = config.db.url.expose_secret();
    if Backend::of_url(database_url) == Some(Backend::Postgres) {
        return Err(BackupError::Postgres);
    }
    prepare_target(path)?;

    let database = chitchat_store_sql::backup_sqlite(database_url, path).await?;
    println!("database: {} ({} bytes)", database.file.display(), database.bytes);

    for name in [crate::secret::SECRET_FILE, crate::push_key::KEY_FILE] {
        let source = config.data_dir.join(name);
        if source.is_file() {
            std::fs::copy(&source, path.join(name)).map_err(io_error(&source))?;
            println!("secret: {}", path.join(name).display());
        }
    }
    if config.auth.jwt_secret.is_some() || config.push.vapid_private_key.is_some() {
        println!("configured secrets (JWT_SECRET, VAPID_PRIVATE_KEY) are not copied: keep them with the backup");
    }

    let storage_url = config.attachments.storage_url.as_deref().map(str::trim).filter(|url| !url.is_empty());
    match storage_url {
        Some(url) if !url.starts_with("file://") => {
            println!("attachments are in {url}: back up that storage separately, after this backup");
        }
        _ => {
            let source = ObjectBlobStore::open(storage_url, &config.data_dir.join("attachments"))?;
            let target = ObjectBlobStore::directory(&path.join("attachments"))?;
            let (files, bytes) = source.copy_all_to(&target).await?;
            println!("attachments: {files} files ({bytes} bytes) in {}", path.join("attachments").display());
        }
    }
    println!("backup complete: {}", path.display());
    Ok(())
}

/// Creates `path`, or accepts it when it is an empty directory.
fn prepare_target(path: &Path) -> Result<(), BackupError> {
    match std::fs::read_dir(path) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(BackupError::NotEmpty(path.display().to_string()));
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(path).map_err(io_error(path))?;
            crate::data_dir::prepare(path).map_err(io_error(path))
        }
        Err(error) => Err(io_error(path)(error)),
    }
}
