//! Black-box: the binary's commands, as an operator or a container uses them.

use crate::support;
use chitchat_testkit::TestBackend;
use std::process::Command;

fn chitchat(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> std::process::Output {
    Command::new(support::BINARY)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

#[test]
fn help_and_version_need_no_configuration() {
    let dir = tempfile_dir();
    let version = chitchat(&["--version"], &[], &dir);
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("chitchat "));
    let help = chitchat(&["--help"], &[], &dir);
    assert!(String::from_utf8_lossy(&help.stdout).contains("healthcheck"));
    let wrong = chitchat(&["frobnicate"], &[], &dir);
    assert_eq!(wrong.status.code(), Some(2));
}

#[test]
fn bad_configuration_stops_with_one_line_naming_the_variable() {
    let dir = tempfile_dir();
    let out = chitchat(&["migrate"], &[("ENV", "production")], &dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_long_but_trivial_jwt_secret_stops_production_and_says_how_to_make_one() {
    let dir = tempfile_dir();
    let thirty_two_a = "a".repeat(32);
    let env = [
        ("ENV", "production"),
        ("JWT_SECRET", thirty_two_a.as_str()),
        ("OTP_WEBHOOK_URL", "https://sms.example/send"),
        ("DATA_DIR", dir.to_str().unwrap()),
    ];
    let out = chitchat(&["migrate"], &env, &dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_SECRET") && stderr.contains("openssl rand -base64 48"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn migrate_prepares_a_fresh_database_and_exits() {
    let dir = tempfile_dir();
    let out = chitchat(&["migrate"], &[("DATA_DIR", dir.to_str().unwrap())], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("chitchat.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_tells_whether_the_local_server_is_healthy() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let port = server.base_url.rsplit(':').next().unwrap().to_owned();
    let dir = tempfile_dir();
    let up = chitchat(&["healthcheck"], &[("PORT", &port)], &dir);
    assert!(up.status.success());
    drop(server);
    let down = chitchat(&["healthcheck"], &[("PORT", &port)], &dir);
    assert_eq!(down.status.code(), Some(1));
}

fn tempfile_dir() -> std::path::PathBuf {
    // Kept for the test run; the OS cleans its temporary directory.
    tempfile::tempdir().expect("temporary directory").keep()
}
