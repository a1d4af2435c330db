//! Black-box: the API describes itself at /api/openapi.json, and Swagger UI works
//! from the binary alone (no internet).

use crate::support;
use chitchat_testkit::TestBackend;
use serde_json::Value;

/// Endpoints of the seed and of the messaging model, as clients call them: each must
/// stay documented (routes and documentation come from one registration).
const DOCUMENTED: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/api/config"),
    ("post", "/api/auth/otp"),
    ("post", "/api/auth/register"),
    ("get", "/api/auth/verify"),
    ("post", "/api/auth/logout"),
    ("get", "/api/auth/sessions"),
    ("delete", "/api/auth/sessions/{id}"),
    ("get", "/api/users/search"),
    ("get", "/api/users/me"),
    ("patch", "/api/users/me"),
    ("post", "/api/users/{id}/block"),
    ("delete", "/api/users/{id}/block"),
    ("get", "/api/contacts"),
    ("post", "/api/contacts"),
    ("delete", "/api/contacts/{user_id}"),
    ("delete", "/api/contacts"),
    ("get", "/api/chats"),
    ("post", "/api/chats"),
    ("get", "/api/chats/{id}"),
    ("patch", "/api/chats/{id}"),
    ("post", "/api/chats/{id}/read"),
    ("put", "/api/chats/{id}/settings"),
    ("post", "/api/chats/{id}/members"),
    ("delete", "/api/chats/{id}/members/{user_id}"),
    ("patch", "/api/chats/{id}/members/{user_id}"),
    ("get", "/api/messages"),
    ("post", "/api/messages"),
    ("get", "/api/messages/search"),
    ("post", "/api/messages/status"),
    ("patch", "/api/messages/{id}"),
    ("delete", "/api/messages/{id}"),
    ("get", "/api/messages/{id}/edits"),
    ("get", "/api/messages/{id}/receipts"),
    ("post", "/api/messages/{id}/forward"),
    ("put", "/api/messages/{id}/reactions"),
    ("delete", "/api/messages/{id}/reactions"),
    ("post", "/api/attachments"),
    ("get", "/api/attachments/{id}"),
    ("get", "/api/attachments/{id}/thumbnail"),
    ("post", "/api/attachments/{id}/link"),
    ("get", "/api/calls/ice-servers"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_lists_every_endpoint_with_its_schemas_and_the_bearer_scheme() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let http = reqwest::Client::new();
    let response = http.get(format!("{}/api/openapi.json", server.base_url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let spec: Value = response.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."), "{}", spec["openapi"]);
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    for (method, path) in DOCUMENTED {
        let operation = &spec["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        assert!(operation["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
    }
    // The other direction without a second list: every documented operation is one
    // the binary serves. Asked without a token, a served one answers anything but
    // the 404 or 405 of a path no route takes.
    let placeholder = "00000000-0000-4000-8000-000000000000";
    for (path, item) in spec["paths"].as_object().unwrap() {
        let concrete: String = path
            .split('/')
            .map(|part| if part.starts_with('{') { placeholder } else { part })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let verb = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = http.request(verb, format!("{}{concrete}", server.base_url)).send().await.unwrap();
            assert!(
                ![404, 405].contains(&answer.status().as_u16()),
                "{method} {path} is documented but not served: {}",
                answer.status()
            );
        }
    }
    assert_eq!(spec["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let message = &spec["components"]["schemas"]["Message"]["properties"];
    for field in ["id", "chat_id", "sender_id", "content", "content_type", "seq", "status", "created_at"] {
        assert!(message[field].is_object(), "Message.{field} missing from the schema");
    }
    let sent = &spec["paths"]["/api/messages"]["post"]["responses"];
    assert!(sent["201"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap().ends_with("/Message"));
    assert!(sent["401"].is_object() && sent["429"].is_object() && sent["422"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_is_served_from_the_binary_and_reads_our_spec() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let http = reqwest::Client::new();
    let page = http.get(format!("{}/swagger", server.base_url)).send().await.unwrap();
    assert_eq!(page.url().path(), "/swagger/index.html", "/swagger leads to the page");
    assert_eq!(page.status(), 200);
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let init = http.get(format!("{}/swagger/swagger-initializer.js", server.base_url)).send().await.unwrap();
    assert_eq!(init.status(), 200);
    assert!(init.text().await.unwrap().contains("/api/openapi.json"));
    let bundle = http.get(format!("{}/swagger/swagger-ui-bundle.js", server.base_url)).send().await.unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000, "the Swagger UI bundle is built in");
}
