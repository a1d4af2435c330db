//! Black-box: schemathesis generates requests from /api/openapi.json, valid and
//! invalid, as a logged-in admin with real chats and messages. No request may get
//! a 5xx, and every response must match the spec (status, content type, schema).
//! Needs schemathesis (`st`, installed by .ci/run; `CHITCHAT_SCHEMATHESIS` names
//! the executable); skipped without it unless `CHITCHAT_REQUIRE_SCHEMATHESIS=1`.
//! `CHITCHAT_SCHEMATHESIS_EXAMPLES` sets the examples per operation (CI: 15; the
//! full run in docs/reliability.md: 150).

use chitchat_testkit::services::skip_unless_required;
use chitchat_testkit::TestServer;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

const REQUIRE: &str = "CHITCHAT_REQUIRE_SCHEMATHESIS";

fn executable() -> PathBuf {
    std::env::var_os("CHITCHAT_SCHEMATHESIS").map_or_else(|| PathBuf::from("st"), PathBuf::from)
}

fn examples_per_operation() -> String {
    std::env::var("CHITCHAT_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "15".to_owned())
}

async fn generated_requests_get_no_server_error_and_match_the_spec(server: TestServer) {
    if std::process::Command::new(executable()).arg("--version").output().is_err() {
        skip_unless_required::<()>(REQUIRE, "schemathesis", format!("{} does not run", executable().display()));
        return;
    }
    // Real data, so that generated requests also meet existing chats and people.
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    for text in ["hello", "नमस्ते", "你好 world"] {
        api.send_text(&asha, &chat, text, None).await;
        api.send_text(&ravi, &chat, text, None).await;
    }
    let group = api
        .post("/api/chats", &asha.token, json!({ "type": "group", "name": "Family", "user_ids": [ravi.user_id()] }))
        .await;
    assert_eq!(group.status, 201);

    let scratch = tempfile::tempdir().unwrap();
    let run = tokio::process::Command::new(executable())
        .args(["run", &format!("{}/api/openapi.json", server.base_url)])
        .args(["--url", &server.base_url])
        .args(["--header", &format!("Authorization: Bearer {}", asha.token)])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", &examples_per_operation()])
        .args(["--seed", "20261125"])
        // Logging out, revoking the device (schemathesis finds its id in the token),
        // or Asha the admin disabling herself, would end the session every later
        // request uses.
        .args(["--exclude-path", "/api/auth/logout", "--exclude-path", "/api/auth/sessions/{id}"])
        .args(["--exclude-path", "/api/admin/users/{id}/disable"])
        .args(["--exclude-path", "/api/admin/reports/{id}/actions"])
        .args(["--workers", "1", "--request-timeout", "30", "--no-color"])
        .env("NO_COLOR", "1")
        // Its example database and reports stay out of the source tree, one per run.
        .current_dir(scratch.path())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(1500), run)
        .await
        .expect("schemathesis finishes within 25 minutes")
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{stderr}\n--- server log:\n{}",
        tail(&server.log_text())
    );
    assert!(!stdout.contains("Authentication failed"), "the token stopped working during the run:\n{stdout}");
    // The summary, for the record (docs/reliability.md quotes the full run's).
    eprintln!("{}", stdout.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"));
    assert!(!server.log_text().contains("panicked"), "the server panicked:\n{}", tail(&server.log_text()));
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

// Asha is an admin, so that the admin endpoints are explored beyond their 403.
on_both_backends!(env = [("ADMIN_PHONES", "9876543210")]; generated_requests_get_no_server_error_and_match_the_spec);
