//! Black-box: logging in without an SMS gateway. The operator's
//! `chitchat admin login-code PHONE` against a running server's database; codes by
//! email through a real SMTP server (aiosmtpd) to verified addresses only; and
//! production starting with `LOGIN_CODE_DELIVERY=admin`, or refusing to start
//! without any way to deliver codes.

use crate::support;
use chitchat_testkit::{ApiClient, MailServer, TestBackend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::process::Command;
use std::time::Duration;

on_both_backends!(an_operators_code_logs_a_new_person_in_once_and_a_bad_phone_fails_cleanly);

/// An output of `openssl rand -base64 48`.
const STRONG_SECRET: &str = "q0pZ3Yw8cJ1kXv7TnE5bR2uHgL9sAfD4mWiKoB6tQyVzNj+Cx/PeUr0hGlS3aI8d";

/// `chitchat admin login-code PHONE` on `server`'s database and data directory
/// (where its generated secret is), with `env` on top.
fn admin_login_code(server: &TestServer, phone: &str, env: &[(&str, &str)]) -> std::process::Output {
    Command::new(support::BINARY)
        .args(["admin", "login-code", phone])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &server.database_url)
        .env("DATA_DIR", server.data_dir())
        .envs(env.iter().copied())
        .current_dir(server.data_dir())
        .output()
        .expect("the binary runs")
}

/// The code the command printed, on its `code` line.
fn printed_code(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "login-code failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let code = stdout.lines().find_map(|line| line.strip_prefix("code")).map(str::trim).unwrap_or_default();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "no code printed: {stdout}");
    assert!(stdout.contains("expires_at"), "the expiry is printed: {stdout}");
    code.to_owned()
}

async fn register(api: &ApiClient, phone: &str, name: &str, code: &str) -> chitchat_testkit::client::Reply {
    api.call(Method::POST, "/api/auth/register", None, Some(json!({"phone": phone, "name": name, "code": code}))).await
}

/// Logs `phone` in with a code from the operator; returns the token.
async fn log_in_with_an_operators_code(server: &TestServer, phone: &str, name: &str, env: &[(&str, &str)]) -> String {
    let code = printed_code(&admin_login_code(server, phone, env));
    let reply = register(&server.client(), phone, name, &code).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["token"].as_str().unwrap().to_owned()
}

async fn an_operators_code_logs_a_new_person_in_once_and_a_bad_phone_fails_cleanly(server: TestServer) {
    let api = server.client();
    // The first person of a fresh server: no account yet.
    let output = admin_login_code(&server, "+91 98765 43299", &[]);
    let code = printed_code(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("+919876543299"), "the normalised phone is printed");
    let login = register(&api, "9876543299", "First", &code).await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
    let token = login.body["token"].as_str().unwrap();
    assert_eq!(api.get("/api/users/me", token).await.body["user"]["name"], "First");
    // Once only.
    let again = register(&api, "9876543299", "First", &code).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{:?}", again.body);
    assert_eq!(again.body["error"]["code"], "invalid_code");

    // Not a phone number: a clear message, a failure, no code.
    let bad = admin_login_code(&server, "12", &[]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    let message = stderr.lines().last().unwrap_or_default();
    assert!(message.contains("\"12\"") && message.contains("valid phone number"), "{stderr}");
    assert!(!String::from_utf8_lossy(&bad.stdout).contains("code"), "no code for a bad phone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_starts_with_operators_codes_only_and_they_log_in() {
    let env = [
        ("ENV", "production"),
        ("JWT_SECRET", STRONG_SECRET),
        ("LOGIN_CODE_DELIVERY", "admin"),
        // The tests' fixed code is refused in production.
        ("OTP_FIXED_CODE", ""),
    ];
    let Some(server) = support::start(TestBackend::Sqlite, &env).await else { return };
    let log = server.log_text();
    assert!(log.contains(r#""login_code_delivery":"admin""#), "the start-up log names the ways codes go: {log}");
    let api = server.client();
    let config = api.call(Method::GET, "/api/config", None, None).await;
    assert_eq!(config.body["login_codes_by_email"], false, "clients offer no email address");
    // Asking for a code answers as always, and sends nothing.
    let asked = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "9876543210"}))).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{:?}", asked.body);
    let token = log_in_with_an_operators_code(&server, "9876543210", "Asha", &env).await;
    // Without a mail server, no address is taken.
    let email =
        api.call(Method::PUT, "/api/users/me/email", Some(&token), Some(json!({"email": "a@example.org"}))).await;
    assert_eq!(email.status, StatusCode::FORBIDDEN, "{:?}", email.body);
    assert_eq!(email.body["error"]["code"], "email_unavailable");
}

#[test]
fn production_without_any_way_to_deliver_codes_refuses_to_start_naming_all_three() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(support::BINARY)
        .arg("migrate")
        .env_clear()
        .env("ENV", "production")
        .env("JWT_SECRET", STRONG_SECRET)
        .env("DATA_DIR", dir.path())
        .current_dir(dir.path())
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    for way in ["OTP_WEBHOOK_URL", "SMTP_URL", "LOGIN_CODE_DELIVERY=admin"] {
        assert!(stderr.contains(way), "{way}: {stderr}");
    }
}

const ASHA: &str = "9876543210";
const RAVI: &str = "9876543211";

async fn request_code(api: &ApiClient, phone: &str) -> chitchat_testkit::client::Reply {
    api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": phone}))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_codes_come_by_email_to_verified_addresses_only() {
    let Some(mail) = MailServer::start().await else { return };
    let env = [
        ("SMTP_URL", mail.url()),
        ("SMTP_FROM", "Test chat <chat@chitchat.test>".to_owned()),
        // Real random codes: the one that logs in must be the one mailed.
        ("OTP_FIXED_CODE", String::new()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let Some(server) = support::start(TestBackend::Sqlite, &env).await else { return };
    assert!(server.log_text().contains("login_code_delivery=log,email,admin"), "{}", server.log_text());
    let api = server.client();
    let config = api.call(Method::GET, "/api/config", None, None).await;
    assert_eq!(config.body["login_codes_by_email"], true, "clients offer to add an address");
    let asha = log_in_with_an_operators_code(&server, ASHA, "Asha", &[]).await;
    let me = api.get("/api/users/me", &asha).await.body;
    assert_eq!((me["email"].clone(), me["email_verified"].clone()), (json!(null), json!(false)));

    // Asha gives her address; a code to verify it arrives there.
    let bad = api.call(Method::PUT, "/api/users/me/email", Some(&asha), Some(json!({"email": "asha@"}))).await;
    assert_eq!(
        (bad.status, bad.body["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_email"))
    );
    let given =
        api.call(Method::PUT, "/api/users/me/email", Some(&asha), Some(json!({"email": "asha@example.org"}))).await;
    assert_eq!(given.status, StatusCode::OK, "{:?}", given.body);
    assert_eq!(given.body, json!({"email": "asha@example.org", "email_verified": false}));
    let mails = mail.wait_for("asha@example.org", 1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1, "the verification mail arrived");
    let verification = &mails[0];
    assert!(verification.from.contains("chat@chitchat.test") && verification.subject.contains("Test chat"));
    // Only the code and the server's name: no phone number, no person's name.
    assert!(!verification.raw.contains("98765") && !verification.raw.contains("Asha"), "{}", verification.raw);
    let code = verification.code().expect("a six-digit code in the mail");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = api.call(Method::POST, "/api/users/me/email/verify", Some(&asha), Some(json!({"code": wrong}))).await;
    assert_eq!(
        (refused.status, refused.body["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_code"))
    );
    let verified = api.call(Method::POST, "/api/users/me/email/verify", Some(&asha), Some(json!({"code": code}))).await;
    assert_eq!(verified.status, StatusCode::OK, "{:?}", verified.body);
    let me = api.get("/api/users/me", &asha).await.body;
    assert_eq!((me["email"].clone(), me["email_verified"].clone()), (json!("asha@example.org"), json!(true)));

    // Logged out, she asks for a login code: it comes by email and logs her in.
    assert_eq!(api.call(Method::POST, "/api/auth/logout", Some(&asha), None).await.status, StatusCode::NO_CONTENT);
    let asked = request_code(&api, ASHA).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{:?}", asked.body);
    let mails = mail.wait_for("asha@example.org", 2, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 2, "the login code arrived");
    assert!(!mails[1].raw.contains("98765"), "{}", mails[1].raw);
    let login_code = mails[1].code().expect("a six-digit code in the mail");
    let login = register(&api, ASHA, "", &login_code).await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
    assert_eq!(login.body["user"]["name"], "Asha");

    // Ravi gives an address but never verifies it: it receives no login code, and
    // the answer to his request is the same as to Asha's and to a stranger's.
    let ravi = log_in_with_an_operators_code(&server, RAVI, "Ravi", &[]).await;
    let given =
        api.call(Method::PUT, "/api/users/me/email", Some(&ravi), Some(json!({"email": "ravi@example.org"}))).await;
    assert_eq!(given.status, StatusCode::OK, "{:?}", given.body);
    assert_eq!(mail.wait_for("ravi@example.org", 1, Duration::from_secs(10)).await.len(), 1);
    let ravis = request_code(&api, RAVI).await;
    let strangers = request_code(&api, "9876543219").await;
    assert_eq!((ravis.status, strangers.status), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    let shape = |body: &serde_json::Value| body.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    assert_eq!(shape(&ravis.body), shape(&asked.body));
    assert_eq!(shape(&strangers.body), shape(&asked.body));
    // A mail would be in the maildir before the answer; Asha's next one shows the server sent on.
    assert_eq!(request_code(&api, ASHA).await.status, StatusCode::ACCEPTED);
    assert_eq!(mail.wait_for("asha@example.org", 3, Duration::from_secs(10)).await.len(), 3);
    assert_eq!(mail.received("ravi@example.org").len(), 1, "no login code for an unverified address");

    // Removed, the address gets nothing more.
    let login = register(&api, ASHA, "", &mail.received("asha@example.org")[2].code().unwrap()).await;
    let asha = login.body["token"].as_str().unwrap().to_owned();
    let removed = api.call(Method::DELETE, "/api/users/me/email", Some(&asha), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(api.get("/api/users/me", &asha).await.body["email"], json!(null));
    assert_eq!(request_code(&api, ASHA).await.status, StatusCode::ACCEPTED);
    assert_eq!(mail.received("asha@example.org").len(), 3, "no code to a removed address");
}
