//! Black-box authorization matrix over the REST API: anonymous callers get 401
//! everywhere but the public operations (login, linking a new device, health and
//! the client configuration, listed apart and checked against the spec); a stranger gets 404
//! (never 200, never the data) on everything that names a chat, a message or a
//! group; a member who is not an admin gets 403 on admin actions; the chat's
//! members get what they may. The matrix must name every operation of
//! `/api/openapi.json` that needs a token, so a new endpoint cannot be added without
//! being checked here. Only its own person may see or confirm a new device's
//! pairing code. Someone blocked cannot put the person who blocked them in a group.

use chitchat_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_backends!(every_endpoint_checks_who_is_asking, a_blocked_person_cannot_put_the_blocker_in_a_group,);

/// Every endpoint, with a body that would be valid for an allowed caller.
fn endpoints(chat: &str, group: &str, message: &str, file: &str, user: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::POST, "/api/attachments".into(), None),
        (Method::GET, format!("/api/attachments/{file}"), None),
        (Method::GET, format!("/api/attachments/{file}/thumbnail"), None),
        (Method::POST, format!("/api/attachments/{file}/link"), None),
        (Method::GET, "/api/auth/verify".into(), None),
        (Method::POST, "/api/auth/logout".into(), None),
        (Method::GET, "/api/auth/sessions".into(), None),
        (Method::GET, "/api/users/search?q=a".into(), None),
        (Method::GET, "/api/users/me".into(), None),
        (Method::PATCH, "/api/users/me".into(), Some(json!({"status": "hi"}))),
        (Method::PUT, "/api/users/me/email".into(), Some(json!({"email": "asha@example.org"}))),
        (Method::POST, "/api/users/me/email/verify".into(), Some(json!({"code": "123456"}))),
        (Method::DELETE, "/api/users/me/email".into(), None),
        (Method::POST, format!("/api/users/{user}/block"), None),
        (Method::DELETE, format!("/api/users/{user}/block"), None),
        (Method::GET, "/api/contacts".into(), None),
        (Method::POST, "/api/contacts".into(), Some(json!({"user_id": user}))),
        (Method::GET, "/api/chats".into(), None),
        (Method::POST, "/api/chats".into(), Some(json!({"type": "direct", "user_ids": [user]}))),
        (Method::GET, format!("/api/chats/{chat}"), None),
        (Method::PATCH, format!("/api/chats/{group}"), Some(json!({"name": "renamed"}))),
        (Method::POST, format!("/api/chats/{chat}/read"), Some(json!({"seq": 1}))),
        (Method::PUT, format!("/api/chats/{chat}/settings"), Some(json!({"pinned": true}))),
        (Method::POST, format!("/api/chats/{group}/members"), Some(json!({"user_ids": [user]}))),
        (Method::PATCH, format!("/api/chats/{group}/members/{user}"), Some(json!({"role": "admin"}))),
        (Method::DELETE, format!("/api/chats/{group}/members/{user}"), None),
        (Method::POST, "/api/messages".into(), Some(json!({"chat_id": chat, "content": "x"}))),
        (Method::GET, format!("/api/messages?chat_id={chat}"), None),
        (Method::GET, "/api/messages/search?q=secret".into(), None),
        (Method::POST, "/api/messages/status".into(), Some(json!({"message_id": message, "status": "read"}))),
        (Method::GET, format!("/api/messages/{message}/receipts"), None),
        (Method::PATCH, format!("/api/messages/{message}"), Some(json!({"content": "changed"}))),
        (Method::DELETE, format!("/api/messages/{message}?for=everyone"), None),
        (Method::DELETE, format!("/api/messages/{message}?for=me"), None),
        (Method::GET, format!("/api/messages/{message}/edits"), None),
        (Method::POST, format!("/api/messages/{message}/forward"), Some(json!({"chat_ids": [chat]}))),
        (Method::PUT, format!("/api/messages/{message}/reactions"), Some(json!({"emoji": "👍"}))),
        (Method::DELETE, format!("/api/messages/{message}/reactions"), None),
        (Method::DELETE, format!("/api/contacts/{user}"), None),
        (Method::DELETE, "/api/contacts?phone=%2B919876543299".into(), None),
        (Method::DELETE, "/api/auth/sessions/00000000-0000-4000-8000-000000000000".into(), None),
        (Method::POST, "/api/auth/links/lookup".into(), Some(json!({"pairing_code": "ABCD2345"}))),
        (Method::POST, "/api/auth/links/confirm".into(), Some(json!({"pairing_code": "ABCD2345"}))),
        (Method::GET, "/api/push/key".into(), None),
        (
            Method::POST,
            "/api/push/subscriptions".into(),
            Some(
                json!({"endpoint": "https://push.example/1", "keys": {"p256dh": P256DH, "auth": "_ordMnz7uTCmrpBTeUV4Bw"}}),
            ),
        ),
        (Method::DELETE, "/api/push/subscriptions".into(), Some(json!({"endpoint": "https://push.example/1"}))),
        (Method::GET, "/api/calls/ice-servers".into(), None),
        (Method::POST, "/api/reports".into(), Some(json!({"message_id": message, "reason": "spam"}))),
        (Method::GET, "/api/admin/users?search=a".into(), None),
        (Method::POST, format!("/api/admin/users/{user}/disable"), None),
        (Method::POST, format!("/api/admin/users/{user}/enable"), None),
        (Method::GET, "/api/admin/reports".into(), None),
        (Method::POST, format!("/api/admin/reports/{NO_REPORT}/actions"), Some(json!({"action": "dismiss"}))),
        (Method::GET, "/api/admin/audit".into(), None),
        (Method::GET, "/api/admin/stats".into(), None),
    ]
}

/// A report id nobody filed.
const NO_REPORT: &str = "00000000-0000-4000-8000-000000000001";

/// A browser's public key, as `pushManager.subscribe` hands it over.
const P256DH: &str = "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";

/// The operations anyone may call without a token: login, health, what a client
/// reads before login, and a new device's link (asked for and claimed without a
/// token: its claim secret is its credential).
const PUBLIC: &[&str] = &[
    "GET /api/config",
    "GET /health",
    "POST /api/auth/links",
    "POST /api/auth/links/{}/claim",
    "POST /api/auth/otp",
    "POST /api/auth/register",
];

/// A path with each id, or each `{parameter}` of the spec, replaced by `{}`.
fn template(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let is_id = segment.len() == 36 && segment.chars().filter(|c| *c == '-').count() == 4;
            if is_id || segment.starts_with('{') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[expect(clippy::too_many_lines, reason = "one matrix of endpoints and callers, read as a table")]
async fn every_endpoint_checks_who_is_asking(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let chen = api.login("9876543212", "Chen").await;
    let mallory = api.login("9876543213", "Mallory").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    let sent = api.send_text(&asha, &chat, "secret plans", None).await;
    let message = sent.body["id"].as_str().unwrap().to_owned();
    let uploaded = api.upload(&asha.token, "plan.pdf", b"%PDF-1.4 secret plans".to_vec()).await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{:?}", uploaded.body);
    let file = uploaded.body["id"].as_str().unwrap().to_owned();
    let with_file = api
        .post(
            "/api/messages",
            &asha.token,
            json!({"chat_id": chat, "content_type": "document", "attachment_ids": [file]}),
        )
        .await;
    assert_eq!(with_file.status, StatusCode::CREATED, "{:?}", with_file.body);
    let group = api
        .post(
            "/api/chats",
            &asha.token,
            json!({"type": "group", "name": "Plans", "user_ids": [ravi.user_id(), chen.user_id()]}),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{:?}", group.body);
    let group = group.body["id"].as_str().unwrap().to_owned();

    // The matrix covers every operation that needs a token.
    let spec = api.call(Method::GET, "/api/openapi.json", None, None).await.body;
    let (mut secured, mut public): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let operation_name = format!("{} {}", method.to_uppercase(), template(path));
            if operation.get("security").is_some_and(|s| s != &json!([])) {
                secured.push(operation_name);
            } else {
                public.push(operation_name);
            }
        }
    }
    public.sort();
    assert_eq!(public, PUBLIC, "the operations open to anyone are exactly the public ones");
    let config = api.call(Method::GET, "/api/config", None, None).await;
    assert_eq!(config.status, StatusCode::OK, "anyone reads the client configuration: {:?}", config.body);
    let mut listed: Vec<String> = endpoints(&chat, &group, &message, &file, &ravi.user_id())
        .iter()
        .map(|(method, path, _)| format!("{method} {}", template(path.split('?').next().unwrap())))
        .collect();
    secured.sort();
    listed.sort();
    listed.dedup();
    assert_eq!(listed, secured, "the matrix lists exactly the operations that need a token");

    // Anonymous: 401 everywhere.
    for (method, path, body) in endpoints(&chat, &group, &message, &file, &ravi.user_id()) {
        let reply = api.call(method.clone(), &path, None, body).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "anonymous {method} {path}: {:?}", reply.body);
    }

    // A stranger: never the data, never a change, whatever the endpoint.
    let scoped =
        |path: &str| path.contains(&chat) || path.contains(&group) || path.contains(&message) || path.contains(&file);
    for (method, path, body) in endpoints(&chat, &group, &message, &file, &chen.user_id()) {
        let names_chat = scoped(&path) || body.as_ref().is_some_and(|b| scoped(&b.to_string()));
        if !names_chat {
            continue;
        }
        let reply = api.call(method.clone(), &path, Some(&mallory.token), body).await;
        assert!(
            reply.status == StatusCode::NOT_FOUND || reply.status == StatusCode::FORBIDDEN,
            "stranger {method} {path}: {} {:?}",
            reply.status,
            reply.body
        );
        assert!(!reply.body.to_string().contains("secret plans"), "stranger {method} {path} saw the data");
    }
    let search = api.get("/api/messages/search?q=secret", &mallory.token).await;
    assert_eq!(search.body["results"], json!([]));
    // A new device waiting to be linked to Asha: only Asha may see or confirm it.
    let link = api.call(Method::POST, "/api/auth/links", None, Some(json!({"phone": "9876543210"}))).await;
    let code = json!({"pairing_code": link.body["pairing_code"]});
    for path in ["/api/auth/links/lookup", "/api/auth/links/confirm"] {
        let reply = api.post(path, &mallory.token, code.clone()).await;
        assert_eq!((reply.status, reply.error_code()), (StatusCode::FORBIDDEN, "link_wrong_account"), "{path}");
    }
    assert_eq!(api.post("/api/auth/links/lookup", &asha.token, code).await.status, StatusCode::OK);

    // A member who is not an admin: 403 on admin actions, fine on the rest.
    let admin_only = [
        (Method::PATCH, format!("/api/chats/{group}"), Some(json!({"name": "mine now"}))),
        (Method::POST, format!("/api/chats/{group}/members"), Some(json!({"user_ids": [mallory.user_id()]}))),
        (Method::PATCH, format!("/api/chats/{group}/members/{}", chen.user_id()), Some(json!({"role": "admin"}))),
        (Method::DELETE, format!("/api/chats/{group}/members/{}", chen.user_id()), None),
    ];
    for (method, path, body) in admin_only {
        let reply = api.call(method.clone(), &path, Some(&ravi.token), body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "member {method} {path}: {:?}", reply.body);
    }
    // Someone who is not one of the server's admins: 403 on every admin endpoint.
    for (method, path, body) in endpoints(&chat, &group, &message, &file, &asha.user_id()) {
        if !path.starts_with("/api/admin/") {
            continue;
        }
        let reply = api.call(method.clone(), &path, Some(&ravi.token), body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "non-admin {method} {path}: {:?}", reply.body);
        assert_eq!(reply.body["error"]["code"], "admin_only");
    }
    assert_eq!(api.get("/api/users/me", &asha.token).await.status, StatusCode::OK, "the disable above was refused");
    // Only the sender edits or deletes for everyone in a direct chat.
    let edit = api
        .call(Method::PATCH, &format!("/api/messages/{message}"), Some(&ravi.token), Some(json!({"content": "mine"})))
        .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN, "{:?}", edit.body);
    let delete =
        api.call(Method::DELETE, &format!("/api/messages/{message}?for=everyone"), Some(&ravi.token), None).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    // The sender alone sees receipts; members read and write.
    assert_eq!(api.get(&format!("/api/messages/{message}/receipts"), &ravi.token).await.status, StatusCode::FORBIDDEN);
    assert_eq!(api.get(&format!("/api/messages/{message}/receipts"), &asha.token).await.status, StatusCode::OK);
    assert_eq!(api.get(&format!("/api/messages?chat_id={chat}"), &ravi.token).await.status, StatusCode::OK);
    let download = api.get_raw(&format!("/api/attachments/{file}"), &ravi.token, &[]).await;
    assert_eq!(download.status(), StatusCode::OK, "a member downloads the chat's file");
    let link = api.call(Method::POST, &format!("/api/attachments/{file}/link"), Some(&ravi.token), None).await;
    assert_eq!(link.status, StatusCode::OK, "and may have a link to it: {:?}", link.body);
    let by_link = api.get_raw_as(link.body["url"].as_str().unwrap(), None, &[]).await;
    assert_eq!(by_link.status(), StatusCode::OK, "which works without a token");
    let admin = api
        .call(Method::PATCH, &format!("/api/chats/{group}"), Some(&asha.token), Some(json!({"name": "Plans 2"})))
        .await;
    assert_eq!(admin.status, StatusCode::OK);
}

async fn a_blocked_person_cannot_put_the_blocker_in_a_group(server: TestServer) {
    let api = server.client();
    let ravi = api.login("9876543211", "Ravi").await; // blocks Mallory
    let chen = api.login("9876543212", "Chen").await;
    let mallory = api.login("9876543213", "Mallory").await;
    let block = format!("/api/users/{}/block", mallory.user_id());
    assert!(api.call(Method::POST, &block, Some(&ravi.token), None).await.status.is_success());
    let unknown = "0193a1f3-1d7e-7f00-b2c4-5e6f7a8b9c0d";
    let group_with = |ids: Vec<String>| json!({"type": "group", "name": "Surprise", "user_ids": ids});

    // Creating a group with him: refused exactly like naming nobody who exists.
    let refused = api.post("/api/chats", &mallory.token, group_with(vec![chen.user_id(), ravi.user_id()])).await;
    let no_such = api.post("/api/chats", &mallory.token, group_with(vec![chen.user_id(), unknown.into()])).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{:?}", refused.body);
    assert_eq!((refused.status, &refused.body), (no_such.status, &no_such.body), "the same answer as an unknown id");

    // Adding him to a group of hers: refused the same way, nobody added.
    let group = api.post("/api/chats", &mallory.token, group_with(vec![chen.user_id()])).await;
    assert_eq!(group.status, StatusCode::CREATED, "{:?}", group.body);
    let group = group.body["id"].as_str().unwrap().to_owned();
    let members = format!("/api/chats/{group}/members");
    let refused = api.post(&members, &mallory.token, json!({"user_ids": [ravi.user_id()]})).await;
    let no_such = api.post(&members, &mallory.token, json!({"user_ids": [unknown]})).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{:?}", refused.body);
    assert_eq!((refused.status, &refused.body), (no_such.status, &no_such.body), "the same answer as an unknown id");
    let view = api.get(&format!("/api/chats/{group}"), &mallory.token).await;
    assert_eq!(view.body["members"].as_array().unwrap().len(), 2, "only Mallory and Chen: {:?}", view.body);

    // Ravi is in no chat of hers and can be written to nowhere.
    let his = api.get("/api/chats", &ravi.token).await;
    assert_eq!(his.body["chats"], json!([]), "{:?}", his.body);
    let write = api.send_text(&mallory, &group, "gotcha", None).await;
    assert_eq!(write.status, StatusCode::CREATED);
    assert_eq!(api.get("/api/chats", &ravi.token).await.body["chats"], json!([]));

    // Others may still add him, and she stays free to add those who do not block her.
    let by_chen = api.post("/api/chats", &chen.token, group_with(vec![ravi.user_id(), mallory.user_id()])).await;
    assert_eq!(by_chen.status, StatusCode::CREATED, "a group both are in, made by someone else: {:?}", by_chen.body);
}
