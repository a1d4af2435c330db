//! Black-box: upgrades. `migrate --check` tells whether migrations are pending
//! without applying them (exit 1 when some are, 0 when none), on SQLite and
//! PostgreSQL; and instances started at once on one empty PostgreSQL database
//! take turns to migrate it and all come up.

use crate::support;
use chitchat_testkit::services::fresh_postgres_database;
use chitchat_testkit::TestServer;
use reqwest::Method;
use std::process::{Command, Output};

/// How many migrations the repository has for `backend` (its directories).
fn migrations_in_repository(backend: &str) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(backend);
    std::fs::read_dir(dir).unwrap().filter(|entry| entry.as_ref().unwrap().path().is_dir()).count()
}

fn chitchat(args: &[&str], database_url: &str, data_dir: &std::path::Path) -> Output {
    Command::new(support::BINARY)
        .args(args)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", data_dir)
        .current_dir(data_dir)
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh database: every migration pending and none applied; after `migrate`,
/// nothing pending.
fn check_then_migrate(database_url: &str, data_dir: &std::path::Path, backend: &str) {
    let before = chitchat(&["migrate", "--check"], database_url, data_dir);
    assert_eq!(before.status.code(), Some(1), "{}{}", stdout(&before), String::from_utf8_lossy(&before.stderr));
    let listed = stdout(&before);
    let expected = migrations_in_repository(backend);
    assert!(listed.starts_with(&format!("{expected} migrations pending")), "{listed}");
    assert_eq!(listed.lines().count(), expected + 1, "one line per migration: {listed}");
    let again = chitchat(&["migrate", "--check"], database_url, data_dir);
    assert_eq!(again.status.code(), Some(1), "checking applied nothing: {}", stdout(&again));

    let migrate = chitchat(&["migrate"], database_url, data_dir);
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let after = chitchat(&["migrate", "--check"], database_url, data_dir);
    assert_eq!(after.status.code(), Some(0), "{}", String::from_utf8_lossy(&after.stderr));
    assert_eq!(stdout(&after).trim(), "no migrations pending");
}

#[test]
fn migrate_check_on_sqlite_tells_pending_migrations_without_applying_them() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("chitchat.db").display());
    let out = chitchat(&["migrate", "--check"], &url, dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join("chitchat.db").exists(), "checking creates no database");
    check_then_migrate(&url, dir.path(), "sqlite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_check_on_postgres_tells_pending_migrations_without_applying_them() {
    let Some(url) = fresh_postgres_database().await else { return };
    let dir = tempfile::tempdir().unwrap();
    tokio::task::spawn_blocking(move || check_then_migrate(&url, dir.path(), "postgres")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_started_at_once_on_an_empty_database_migrate_it_once_and_all_come_up() {
    let Some(url) = fresh_postgres_database().await else { return };
    // One secret, as an operator's instances share it.
    let env = [("JWT_SECRET", "3f9c1d7a2b8e4f6091c5d3a7b2e8f4061d9c3a5b7e2f8d4c6a1b9e3f5d7c2a84")];
    let (a, b, c) = tokio::join!(
        TestServer::start_on_database(support::BINARY, url.clone(), &env),
        TestServer::start_on_database(support::BINARY, url.clone(), &env),
        TestServer::start_on_database(support::BINARY, url.clone(), &env),
    );
    for server in [&a, &b, &c] {
        let health = server.client().call(Method::GET, "/health", None, None).await;
        assert_eq!(health.status, 200, "{:?}\n{}", health.body, server.log_text());
        assert_eq!(health.body["status"], "healthy");
    }

    // Each migration was applied exactly once, and none is left.
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let applied: i64 = client.query_one("SELECT COUNT(*) FROM __diesel_schema_migrations", &[]).await.unwrap().get(0);
    assert_eq!(applied, migrations_in_repository("postgres") as i64);
    let dir = tempfile::tempdir().unwrap();
    let check_url = url.clone();
    let check =
        tokio::task::spawn_blocking(move || chitchat(&["migrate", "--check"], &check_url, dir.path())).await.unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));

    // The schema works through every instance: a chat opened on one, written in on the others.
    let asha = a.client().login("9876500101", "Asha").await;
    let bilal = b.client().login("9876500102", "Bilal").await;
    let chat = c.client().direct_chat(&asha, &bilal.user_id()).await;
    let sent = b.client().send_text(&bilal, &chat, "all three are up", None).await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let history = a.client().get(&format!("/api/messages?chat_id={chat}"), &asha.token).await;
    assert_eq!(history.body["messages"][0]["content"], "all three are up");
}
