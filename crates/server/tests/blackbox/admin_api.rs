//! Black-box: reports and the admins' endpoints (`ADMIN_PHONES`).

use chitchat_testkit::{ApiClient, Login, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(env = [("ADMIN_PHONES", "+44 7911 123456, 98765 43219")];
    only_admins_are_told_they_are_admins,
    a_stranger_cannot_report_a_message_of_a_chat_they_are_not_in,
    a_reported_message_is_kept_after_its_deletion_and_an_admin_deletes_it_for_everyone,
    an_admin_disables_a_reported_sender_and_dismisses_reports_and_all_is_audited,
    an_admin_sees_the_servers_figures_and_finds_users,
);

async fn admin(api: &ApiClient) -> Login {
    api.login("9876543219", "Admin").await
}

async fn report(api: &ApiClient, by: &Login, body: Value) -> (StatusCode, Value) {
    let reply = api.post("/api/reports", &by.token, body).await;
    (reply.status, reply.body)
}

async fn open_reports(api: &ApiClient, admin: &Login) -> Vec<Value> {
    let reply = api.get("/api/admin/reports", &admin.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["reports"].as_array().unwrap().clone()
}

async fn act(api: &ApiClient, admin: &Login, report: &str, action: &str) -> (StatusCode, Value) {
    let reply =
        api.post(&format!("/api/admin/reports/{report}/actions"), &admin.token, json!({ "action": action })).await;
    (reply.status, reply.body)
}

async fn only_admins_are_told_they_are_admins(server: TestServer) {
    let api = server.client();
    let admin = admin(&api).await;
    let asha = api.login("9876543210", "Asha").await;
    assert_eq!(api.get("/api/users/me", &admin.token).await.body["is_admin"], true);
    let me = api.get("/api/users/me", &asha.token).await.body;
    assert_eq!(me["is_admin"], false);
    assert_eq!(me["user"]["name"], "Asha", "the rest of the answer is as before");
}

async fn a_stranger_cannot_report_a_message_of_a_chat_they_are_not_in(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mallory = api.login("9876543213", "Mallory").await;
    let sent = api.send_text(&ravi, &chat, "private words", None).await;
    let message = sent.body["id"].as_str().unwrap();
    let (status, body) = report(&api, &mallory, json!({"message_id": message, "reason": "spam"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body:?}");
    assert_eq!(body["error"]["code"], "message_not_found");
    let (unknown, unknown_body) =
        report(&api, &mallory, json!({"message_id": "0193a1f3-1d7e-7f00-b2c4-5e6f7a8b9c0d", "reason": "spam"})).await;
    assert_eq!((status, &body), (unknown, &unknown_body), "the same answer as a message that does not exist");
    let (both, body) =
        report(&api, &asha, json!({"message_id": message, "user_id": ravi.user_id(), "reason": "x"})).await;
    assert_eq!((both, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_report")));
    let (blank, body) = report(&api, &asha, json!({"message_id": message, "reason": "  "})).await;
    assert_eq!((blank, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_report")));
    let admin = admin(&api).await;
    assert!(open_reports(&api, &admin).await.is_empty(), "nothing was filed");
}

async fn a_reported_message_is_kept_after_its_deletion_and_an_admin_deletes_it_for_everyone(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let admin = admin(&api).await;
    let first = api.send_text(&ravi, &chat, "first insult", None).await.body["id"].as_str().unwrap().to_owned();
    let second = api.send_text(&ravi, &chat, "second insult", None).await.body["id"].as_str().unwrap().to_owned();
    let (status, filed) = report(&api, &asha, json!({"message_id": first, "reason": "abuse"})).await;
    assert_eq!(status, StatusCode::CREATED, "{filed:?}");
    let (status, _) = report(&api, &asha, json!({"message_id": second, "reason": "abuse again"})).await;
    assert_eq!(status, StatusCode::CREATED);

    // The sender deletes the evidence; the report keeps its copy.
    let gone = api.call(Method::DELETE, &format!("/api/messages/{first}?for=everyone"), Some(&ravi.token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let reports = open_reports(&api, &admin).await;
    assert_eq!(reports.len(), 2);
    let copy = &reports[0]["message"];
    assert_eq!(copy["content"], "first insult");
    assert_eq!(copy["sender_id"], ravi.user_id().as_str());
    assert_eq!(copy["chat_id"], chat.as_str());
    assert!(copy["sent_at"].is_string());
    assert_eq!(reports[0]["reason"], "abuse");
    assert_eq!(reports[0]["subject_id"], ravi.user_id().as_str());

    // The admin, in no chat with them, deletes the second for everyone: Asha sees it go live.
    let mut asha_ws = api.ws(&asha.token).await;
    let id = reports[1]["id"].as_str().unwrap();
    let (status, closed) = act(&api, &admin, id, "delete_message").await;
    assert_eq!(status, StatusCode::OK, "{closed:?}");
    assert_eq!(closed["status"], "message_deleted");
    let update = asha_ws.next_of_type("message_update").await;
    assert_eq!(update["payload"]["action"], "deleted");
    assert_eq!(update["payload"]["message"]["id"], second.as_str());
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &asha.token).await;
    assert!(!history.body.to_string().contains("second insult"), "{:?}", history.body);
    let (again, body) = act(&api, &admin, id, "dismiss").await;
    assert_eq!((again, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("report_closed")));
    let audit = api.get("/api/admin/audit", &admin.token).await.body;
    assert_eq!(audit["entries"][0]["action"], "report_message_deleted");
    assert_eq!(audit["entries"][0]["actor"], admin.user_id().as_str());
    assert_eq!(audit["entries"][0]["target"], id);
}

async fn an_admin_disables_a_reported_sender_and_dismisses_reports_and_all_is_audited(server: TestServer) {
    let api = server.client();
    let (asha, ravi, _) = api.asha_and_ravi_in_a_chat().await;
    let admin = admin(&api).await;
    let (status, _) = report(&api, &asha, json!({"user_id": ravi.user_id(), "reason": "threats"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = report(&api, &ravi, json!({"user_id": asha.user_id(), "reason": "revenge"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let reports = open_reports(&api, &admin).await;
    assert!(reports[0]["message"].is_null());

    let mut ravi_ws = api.ws(&ravi.token).await;
    let (status, closed) = act(&api, &admin, reports[0]["id"].as_str().unwrap(), "disable_sender").await;
    assert_eq!((status, closed["status"].as_str()), (StatusCode::OK, Some("sender_disabled")), "{closed:?}");
    let (frames, _) = ravi_ws.frames_until_end(Duration::from_secs(5)).await;
    assert!(frames.iter().any(|f| f["type"] == "session_revoked"), "his socket closes at once: {frames:?}");
    assert_eq!(api.get("/api/users/me", &ravi.token).await.status, StatusCode::UNAUTHORIZED);
    let (status, _) = act(&api, &admin, reports[1]["id"].as_str().unwrap(), "dismiss").await;
    assert_eq!(status, StatusCode::OK);
    assert!(open_reports(&api, &admin).await.is_empty());

    let enabled = api.post(&format!("/api/admin/users/{}/enable", ravi.user_id()), &admin.token, json!({})).await;
    assert_eq!(enabled.status, StatusCode::OK, "{:?}", enabled.body);
    assert!(enabled.body["disabled_at"].is_null());
    let disabled = api.post(&format!("/api/admin/users/{}/disable", asha.user_id()), &admin.token, json!({})).await;
    assert_eq!((disabled.status, disabled.body["sessions_ended"].as_i64()), (StatusCode::OK, Some(1)));

    let audit = api.get("/api/admin/audit", &admin.token).await.body;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["user_disabled", "user_enabled", "report_dismissed", "report_sender_disabled", "user_disabled"],
        "newest first"
    );
    let older = audit["entries"][1]["id"].as_i64().unwrap();
    let page = api.get(&format!("/api/admin/audit?before={older}&limit=1"), &admin.token).await.body;
    assert_eq!(page["entries"][0]["action"], "report_dismissed");
}

async fn an_admin_sees_the_servers_figures_and_finds_users(server: TestServer) {
    let api = server.client();
    let (asha, _ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let admin = admin(&api).await;
    api.send_text(&asha, &chat, "one", None).await;
    api.send_text(&asha, &chat, "two", None).await;
    let _asha_ws = api.ws(&asha.token).await;
    // The socket counts once the server has registered it, moments after the upgrade.
    let mut figures = api.get("/api/admin/stats", &admin.token).await;
    for _ in 0..50 {
        if figures.body["connected_devices"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        figures = api.get("/api/admin/stats", &admin.token).await;
    }
    assert_eq!(figures.status, StatusCode::OK);
    assert_eq!(figures.body["users"], 3);
    let days = figures.body["messages_per_day"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["messages"], 2);
    assert_eq!(figures.body["connected_devices"], 1);
    let found = api.get("/api/admin/users?search=asH", &admin.token).await;
    let users = found.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["name"], "Asha");
    assert!(users[0]["disabled_at"].is_null());
}
