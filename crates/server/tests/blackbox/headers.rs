//! Black-box: every response tells browsers to run only the server's own scripts,
//! never to frame the app, never to guess content types and never to send a
//! referrer; in production, also to use HTTPS only.

use crate::support;
use chitchat_testkit::{TestBackend, TestServer};
use reqwest::header::HeaderMap;

/// The web client, an API answer (an error), the spec, the health check and a file
/// that does not exist.
const PATHS: [&str; 5] = ["/", "/api/users/me", "/api/openapi.json", "/health", "/no-such-file.js"];

fn directives(headers: &HeaderMap) -> Vec<String> {
    let policy = headers.get("content-security-policy").expect("a Content-Security-Policy").to_str().unwrap();
    policy.split(';').map(|d| d.trim().to_owned()).collect()
}

async fn check_headers(server: &TestServer, production: bool) {
    let http = reqwest::Client::new();
    for path in PATHS {
        let response = http.get(format!("{}{path}", server.base_url)).send().await.unwrap();
        let headers = response.headers();
        let policy = directives(headers);
        for required in ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"] {
            assert!(policy.iter().any(|d| d == required), "{path}: {required} missing from {policy:?}");
        }
        let script = policy.iter().find(|d| d.starts_with("script-src")).unwrap();
        assert!(!script.contains("unsafe"), "{path}: scripts must not be inline or eval'd: {script}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        match headers.get("strict-transport-security") {
            Some(hsts) if production => {
                let max_age: u64 = hsts
                    .to_str()
                    .unwrap()
                    .split(';')
                    .find_map(|d| d.trim().strip_prefix("max-age="))
                    .and_then(|v| v.parse().ok())
                    .expect("max-age");
                assert!(max_age >= 180 * 24 * 3600, "{path}: HSTS for at least half a year, not {max_age} s");
            }
            None if !production => {}
            hsts => panic!("{path}: HSTS {hsts:?} with production={production}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn development_responses_carry_the_browser_protections_without_hsts() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    check_headers(&server, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_responses_also_require_https() {
    let env = [
        ("ENV", "production"),
        ("JWT_SECRET", "a-production-secret-of-more-than-32-characters"),
        ("OTP_FIXED_CODE", ""),
        // Production needs a way to deliver codes; none is sent in this test.
        ("OTP_WEBHOOK_URL", "http://127.0.0.1:9/sms"),
    ];
    let server = support::start(TestBackend::Sqlite, &env).await.expect("SQLite");
    check_headers(&server, true).await;
}
