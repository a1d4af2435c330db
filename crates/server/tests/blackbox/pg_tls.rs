//! Black-box: `DATABASE_URL` with `sslmode=require`, `verify-ca` or `verify-full` reaches a
//! PostgreSQL that has `ssl=on` over TLS, and every connection the server holds is
//! encrypted; a CA that did not sign the server's certificate stops start-up with
//! one line naming `DATABASE_URL`. The PostgreSQL is the test's own, with a
//! certificate the test makes.

use crate::support;
use chitchat_testkit::postgres::OwnedPostgres;
use chitchat_testkit::TestServer;
use std::process::Stdio;
use std::time::Duration;

/// The server's own connections to `postgres`, as (encrypted, plain) counts.
async fn server_connections(postgres: &OwnedPostgres) -> (i64, i64) {
    // The observer connects in plain text: the server's trust rule allows both.
    let (client, connection) = tokio_postgres::connect(&postgres.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = 'postgres' AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// Logs two people in and sends a message: the database answers through the pool.
async fn chat_works(server: &TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let sent = api.send_text(&asha, &chat, "over TLS", None).await;
    assert!(sent.status.is_success(), "{} {:?}", sent.status, sent.body);
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &ravi.token).await;
    assert!(history.body.to_string().contains("over TLS"), "{:?}", history.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_verify_ca_and_require_connect_over_tls_only() {
    let Some((postgres, tls)) = OwnedPostgres::start_with_tls().await else { return };
    let ca = tls.ca_file.display();
    let modes = [
        format!("sslmode=verify-full&sslrootcert={ca}"),
        format!("sslmode=verify-ca&sslrootcert={ca}"),
        "sslmode=require".to_owned(),
    ];
    for query in modes {
        let url = format!("{}?{query}", postgres.url());
        let mut server = TestServer::start_on_database(support::BINARY, url, &[]).await;
        chat_works(&server).await;
        let (encrypted, plain) = server_connections(&postgres).await;
        assert!(encrypted > 0, "{query}: no encrypted connection");
        assert_eq!(plain, 0, "{query}: {plain} plain connections");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_with_verify_full_stops_start_up_with_one_line_naming_database_url() {
    let Some((postgres, tls)) = OwnedPostgres::start_with_tls().await else { return };
    let url = format!("{}?sslmode=verify-full&sslrootcert={}", postgres.url(), tls.other_ca_file.display());
    let dir = tempfile::tempdir().unwrap();
    let child = tokio::process::Command::new(support::BINARY)
        .env_clear()
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("ENV", "development")
        .env("RUST_LOG", "off")
        .env("DATABASE_URL", &url)
        .env("DATA_DIR", dir.path())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("start-up stops instead of serving")
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
}
