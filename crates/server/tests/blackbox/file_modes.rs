//! Black-box: what the server writes to disk is readable by its own user only.
//! `DATA_DIR` is 0700, the SQLite file, its write-ahead log and every attachment
//! file 0600, whatever the umask it was started with.

use crate::support;
use chitchat_testkit::{TestBackend, TestServer};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// Every file and directory under `dir`, itself included.
fn everything_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![dir.to_owned()];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(everything_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_its_log_and_attachments_are_private_to_the_server_user() {
    // A data directory the server has to create itself, under a readable parent.
    let parent = tempfile::tempdir().unwrap();
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = parent.path().join("chitchat-data");
    let database_url = format!("sqlite://{}", data_dir.join("chitchat.db").display());
    let env = [("DATA_DIR", data_dir.to_str().unwrap()), ("DATABASE_URL", database_url.as_str())];
    let server = support::start(TestBackend::Sqlite, &env).await.expect("SQLite");
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await;
    let uploaded = api.upload(&asha.token, "plan.pdf", b"%PDF-1.4 secret plan".to_vec()).await;
    assert_eq!(uploaded.status.as_u16(), 201, "{:?}", uploaded.body);

    assert_eq!(mode(&data_dir), 0o700, "DATA_DIR");
    for file in ["chitchat.db", "chitchat.db-wal"] {
        assert_eq!(mode(&data_dir.join(file)), 0o600, "{file}");
    }
    let files = everything_under(&data_dir);
    let attachments = files.iter().filter(|p| p.starts_with(data_dir.join("attachments")) && p.is_file()).count();
    assert!(attachments >= 1, "the upload is a file under DATA_DIR/attachments: {files:?}");
    for path in &files {
        let (mode, wanted) = (mode(path), if path.is_dir() { 0o700 } else { 0o600 });
        assert_eq!(mode, wanted, "{} is {mode:o}", path.display());
    }
    drop(server);
}

/// On PostgreSQL the database is elsewhere; the attachments in DATA_DIR are private all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_the_attachments_are_private_too() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("chitchat-data");
    let env = [("DATA_DIR", data_dir.to_str().unwrap())];
    let Some(server) = support::start(TestBackend::Postgres, &env).await else { return };
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await;
    let uploaded = api.upload(&asha.token, "plan.pdf", b"%PDF-1.4 secret plan".to_vec()).await;
    assert_eq!(uploaded.status.as_u16(), 201, "{:?}", uploaded.body);
    let files = everything_under(&data_dir);
    assert!(files.iter().any(|p| p.starts_with(data_dir.join("attachments")) && p.is_file()), "{files:?}");
    for path in &files {
        let (mode, wanted) = (mode(path), if path.is_dir() { 0o700 } else { 0o600 });
        assert_eq!(mode, wanted, "{} is {mode:o}", path.display());
    }
}

/// An existing data directory left readable by an older version is closed too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_readable_data_directory_is_closed_at_start_up() {
    let data_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(data_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let env = [("DATA_DIR", data_dir.path().to_str().unwrap())];
    let _server = support::start(TestBackend::Sqlite, &env).await.expect("SQLite");
    assert_eq!(mode(data_dir.path()), 0o700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_env_listening_beyond_loopback_warns_at_start_up() {
    let open = support::start(TestBackend::Sqlite, &[("ENV", ""), ("HOST", "0.0.0.0")]).await.expect("SQLite");
    assert!(open.log_text().contains("ENV is not set"), "{}", open.log_text());
    let local = support::start(TestBackend::Sqlite, &[("ENV", "")]).await.expect("SQLite");
    assert!(!local.log_text().contains("ENV is not set"), "on loopback it stays quiet");
    let chosen =
        TestServer::start_with_env(support::BINARY, TestBackend::Sqlite, &[("HOST", "0.0.0.0")]).await.unwrap();
    assert!(!chosen.log_text().contains("ENV is not set"), "ENV=development was chosen on purpose");
}
