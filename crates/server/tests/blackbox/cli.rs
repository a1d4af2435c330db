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

/// An output of `openssl rand -base64 48`, as operators make secrets.
const STRONG_SECRET: &str = "q0pZ3Yw8cJ1kXv7TnE5bR2uHgL9sAfD4mWiKoB6tQyVzNj+Cx/PeUr0hGlS3aI8d";

#[test]
fn secrets_are_read_from_files_as_docker_and_kubernetes_mount_them() {
    let dir = tempfile_dir();
    let secret_file = dir.join("jwt_secret");
    std::fs::write(&secret_file, format!("{STRONG_SECRET}\n")).unwrap();
    let database = dir.join("elsewhere.db");
    let url_file = dir.join("database_url");
    std::fs::write(&url_file, format!("sqlite://{}", database.display())).unwrap();
    let production = [
        ("ENV", "production"),
        ("OTP_WEBHOOK_URL", "https://sms.example/send"),
        ("DATA_DIR", dir.to_str().unwrap()),
        ("JWT_SECRET_FILE", secret_file.to_str().unwrap()),
        ("DATABASE_URL_FILE", url_file.to_str().unwrap()),
    ];
    let out = chitchat(&["migrate"], &production, &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(database.exists(), "DATABASE_URL came from its file");

    let twice = [production.as_slice(), &[("JWT_SECRET", STRONG_SECRET)]].concat();
    let out = chitchat(&["migrate"], &twice, &dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_SECRET") && stderr.contains("not both"), "{stderr}");

    let missing = dir.join("no-such-secret");
    let unreadable = [("JWT_SECRET_FILE", missing.to_str().unwrap()), ("DATA_DIR", dir.to_str().unwrap())];
    let out = chitchat(&["migrate"], &unreadable, &dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_SECRET_FILE") && stderr.contains("no-such-secret"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn the_configuration_file_may_live_elsewhere() {
    let dir = tempfile_dir();
    let data = dir.join("from-the-file");
    let file = dir.join("etc-chitchat.toml");
    std::fs::write(&file, format!("data_dir = {:?}\n", data.to_str().unwrap())).unwrap();
    let out = chitchat(&["--config", file.to_str().unwrap(), "migrate"], &[], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data.join("chitchat.db").exists(), "DATA_DIR came from the named file");

    let out = chitchat(&["--config", dir.join("absent.toml").to_str().unwrap(), "migrate"], &[], &dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("absent.toml"), "a named file that is missing is an error: {stderr}");
}

#[test]
fn trusted_proxies_take_ranges_and_refuse_anything_else() {
    let dir = tempfile_dir();
    let data = [("DATA_DIR", dir.to_str().unwrap())];
    let ranges = [data.as_slice(), &[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1, fd00::/8")]].concat();
    let out = chitchat(&["migrate"], &ranges, &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = [data.as_slice(), &[("TRUSTED_PROXIES", "10.0.0.0/40")]].concat();
    let out = chitchat(&["migrate"], &bad, &dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TRUSTED_PROXIES") && stderr.contains("10.0.0.0/40"), "{stderr}");
}

#[test]
fn a_bad_turn_setting_stops_start_up_with_one_line_naming_the_variable() {
    let dir = tempfile_dir();
    let data = ("DATA_DIR", dir.to_str().unwrap());
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("TURN_URLS", "https://turn.example.org:3478"), ("TURN_SECRET", STRONG_SECRET)], "TURN_URLS"),
        (&[("TURN_URLS", "turn:turn.example.org:3478")], "TURN_SECRET"),
        (&[("STUN_URLS", "turn:turn.example.org:3478")], "STUN_URLS"),
    ];
    for (settings, variable) in cases {
        let env = [[data].as_slice(), settings].concat();
        let out = chitchat(&["migrate"], &env, &dir);
        assert_eq!(out.status.code(), Some(2), "{settings:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with(&format!("chitchat: configuration: {variable}")), "{settings:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(!stderr.contains(STRONG_SECRET), "the secret is not printed: {stderr}");
    }
    let good = [data, ("TURN_URLS", "turn:turn.example.org:3478?transport=udp"), ("TURN_SECRET", STRONG_SECRET)];
    let out = chitchat(&["migrate"], &good, &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
