//! Linking a new device from a logged-in one (`/api/auth/links`): the new device
//! shows a pairing code, the same person confirms it on a logged-in device, and the
//! new device claims a session of its own: listed, revocable, working on REST and
//! WebSocket. A code works once, for 2 minutes, and only for the person it names;
//! refusals say nothing about whether a number has an account.

use chitchat_testkit::{ApiClient, Login, Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(
    a_confirmed_code_logs_the_new_device_in_on_its_own_session,
    a_code_works_once_and_only_for_its_own_person,
    bad_codes_and_strangers_get_json_refusals,
    refusals_do_not_tell_whether_a_number_has_an_account,
);

const ASHA: &str = "9876543210";

/// A new device asks for a link as `phone`; returns the 201 body.
async fn ask(api: &ApiClient, phone: &str) -> Value {
    let reply =
        api.call(Method::POST, "/api/auth/links", None, Some(json!({"phone": phone, "device": "Tablet"}))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body
}

async fn claim(api: &ApiClient, link: &Value) -> Reply {
    let path = format!("/api/auth/links/{}/claim", link["link_id"].as_str().unwrap());
    api.call(Method::POST, &path, None, Some(json!({"claim_secret": link["claim_secret"]}))).await
}

async fn confirm(api: &ApiClient, login: &Login, code: &str) -> Reply {
    api.post("/api/auth/links/confirm", &login.token, json!({"pairing_code": code})).await
}

async fn a_confirmed_code_logs_the_new_device_in_on_its_own_session(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let link = ask(&api, "+91 98765 43210").await;

    // What the new device shows: eight unambiguous characters, a QR code of the
    // web client's address, and an expiry two minutes ahead.
    let code = link["pairing_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    assert!(code.bytes().all(|b| b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(&b)), "{code}");
    assert!(link["qr_url"].as_str().unwrap().ends_with(&format!("/#link={code}")), "{link}");
    assert!(link["qr_url"].as_str().unwrap().starts_with("http"), "{link}");
    assert!(link["qr_svg"].as_str().unwrap().contains("<svg"), "{link}");
    let expires: chrono::DateTime<chrono::Utc> = link["expires_at"].as_str().unwrap().parse().unwrap();
    let ahead = expires - chrono::Utc::now();
    assert!(ahead > chrono::Duration::seconds(100) && ahead <= chrono::Duration::seconds(121), "{ahead}");

    let waiting = claim(&api, &link).await;
    assert_eq!((waiting.status, &waiting.body), (StatusCode::ACCEPTED, &json!({"status": "pending"})));

    // The logged-in device sees which device it would log in, then confirms with
    // the code as a person types it.
    let typed = format!("{}-{}", code[..4].to_lowercase(), &code[4..]);
    let seen = api.post("/api/auth/links/lookup", &asha.token, json!({"pairing_code": typed})).await;
    assert_eq!((seen.status, seen.body["device"].as_str()), (StatusCode::OK, Some("Tablet")), "{:?}", seen.body);
    let confirmed = confirm(&api, &asha, &typed).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{:?}", confirmed.body);
    assert_eq!(confirmed.body["device"], "Tablet");

    let claimed = claim(&api, &link).await;
    assert_eq!(claimed.status, StatusCode::OK, "{:?}", claimed.body);
    assert_eq!(claimed.body["user"]["id"], asha.user["id"]);
    let tablet =
        Login { token: claimed.body["token"].as_str().unwrap().to_owned(), user: claimed.body["user"].clone() };
    assert_ne!(tablet.token, asha.token);
    let again = claim(&api, &link).await;
    assert_eq!((again.status, again.error_code()), (StatusCode::GONE, "link_used"), "a link logs in once");

    // A device of its own: listed with its label, on both devices.
    let listed = api.get("/api/auth/sessions", &asha.token).await.body["sessions"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let tablet_session = listed.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(tablet_session["device"], "Tablet");
    let tablet_session = tablet_session["id"].as_str().unwrap().to_owned();
    let from_tablet = api.get("/api/auth/sessions", &tablet.token).await.body["sessions"].as_array().unwrap().clone();
    assert_eq!(from_tablet.iter().find(|s| s["current"] == true).unwrap()["id"], tablet_session.as_str());

    // Its token works on REST and on the WebSocket, as Asha.
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &tablet.token).await;
    assert_eq!(history.status, StatusCode::OK);
    let mut tablet_ws = api.ws(&tablet.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let ack = tablet_ws.send_message("f1", &chat, "from the tablet", "tablet-1").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let arrived = ravi_ws.next_of_type("message").await;
    assert_eq!((&arrived["payload"]["content"], &arrived["sender"]), (&json!("from the tablet"), &asha.user["id"]));

    // Revoking the tablet ends it alone; the first device stays logged in.
    let revoked =
        api.call(Method::DELETE, &format!("/api/auth/sessions/{tablet_session}"), Some(&asha.token), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(tablet_ws.next_of_type("session_revoked").await["type"], "session_revoked");
    assert_eq!(api.get("/api/auth/verify", &tablet.token).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.get("/api/auth/verify", &asha.token).await.status, StatusCode::OK);
    assert!(tablet_ws.next_json_within(Duration::from_secs(5)).await.is_none(), "the tablet's socket is closed");
}

async fn a_code_works_once_and_only_for_its_own_person(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let asha_laptop = api.login(ASHA, "Asha").await;
    let link = ask(&api, ASHA).await;
    let code = link["pairing_code"].as_str().unwrap();

    // Ravi cannot log a device in as Asha, nor learn anything but the refusal.
    for path in ["/api/auth/links/lookup", "/api/auth/links/confirm"] {
        let refused = api.post(path, &ravi.token, json!({"pairing_code": code})).await;
        assert_eq!((refused.status, refused.error_code()), (StatusCode::FORBIDDEN, "link_wrong_account"), "{path}");
        assert!(!refused.body.to_string().contains(ASHA), "{:?}", refused.body);
    }
    assert_eq!(claim(&api, &link).await.status, StatusCode::ACCEPTED, "still waiting for Asha");

    // Asha's two devices confirm at once: exactly one wins.
    let (first, second) = tokio::join!(confirm(&api, &asha, code), confirm(&api, &asha_laptop, code));
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{:?} {:?}", first.body, second.body);
    let late = confirm(&api, &asha, code).await;
    assert_eq!((late.status, late.error_code()), (StatusCode::CONFLICT, "link_used"));
    let seen = api.post("/api/auth/links/lookup", &asha.token, json!({"pairing_code": code})).await;
    assert_eq!((seen.status, seen.error_code()), (StatusCode::CONFLICT, "link_used"));

    // Many claims at once: one gets the token.
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (api, link) = (api.clone(), link.clone());
            tokio::spawn(async move { claim(&api, &link).await })
        })
        .collect();
    let mut claims = Vec::new();
    for task in tasks {
        claims.push(task.await.unwrap());
    }
    let won: Vec<_> = claims.iter().filter(|c| c.status == StatusCode::OK).collect();
    assert_eq!(won.len(), 1, "{claims:?}");
    assert!(claims.iter().filter(|c| c.status != StatusCode::OK).all(|c| c.status == StatusCode::GONE));
    let sessions = api.get("/api/auth/sessions", &asha.token).await.body["sessions"].as_array().unwrap().len();
    assert_eq!(sessions, 3, "two logins and one linked device");
}

async fn bad_codes_and_strangers_get_json_refusals(server: TestServer) {
    let api = server.client();
    let asha = api.login(ASHA, "Asha").await;
    let link = ask(&api, ASHA).await;
    let code = link["pairing_code"].as_str().unwrap();

    // Anonymous confirmation, lookup, or a forged token: 401.
    for path in ["/api/auth/links/confirm", "/api/auth/links/lookup"] {
        let anonymous = api.call(Method::POST, path, None, Some(json!({"pairing_code": code}))).await;
        assert_eq!((anonymous.status, anonymous.error_code()), (StatusCode::UNAUTHORIZED, "missing_token"), "{path}");
        let forged = api.post(path, "not-a-token", json!({"pairing_code": code})).await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{path}");
    }

    // Malformed and unknown codes.
    for (bad, status, error) in [
        ("ABC", StatusCode::UNPROCESSABLE_ENTITY, "invalid_pairing_code"),
        ("ABCD234O", StatusCode::UNPROCESSABLE_ENTITY, "invalid_pairing_code"),
        ("ZZZZ-9999", StatusCode::NOT_FOUND, "link_not_found"),
    ] {
        let refused = confirm(&api, &asha, bad).await;
        assert_eq!((refused.status, refused.error_code()), (status, error), "{bad}: {:?}", refused.body);
    }
    let not_json = api.post_raw("/api/auth/links/confirm", Some(&asha.token), "{").await;
    assert_eq!((not_json.status, not_json.error_code()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let no_code = api.post("/api/auth/links/confirm", &asha.token, json!({})).await;
    assert_eq!((no_code.status, no_code.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"));
    let bad_phone = api.call(Method::POST, "/api/auth/links", None, Some(json!({"phone": "12"}))).await;
    assert_eq!((bad_phone.status, bad_phone.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_phone"));

    // Claims need the link's own secret; a wrong one or a malformed id learns nothing.
    let link_id = link["link_id"].as_str().unwrap();
    for (path, secret) in [
        (format!("/api/auth/links/{link_id}/claim"), json!("guess")),
        ("/api/auth/links/not-an-id/claim".to_owned(), link["claim_secret"].clone()),
        ("/api/auth/links/00000000-0000-4000-8000-000000000000/claim".to_owned(), link["claim_secret"].clone()),
    ] {
        let refused = api.call(Method::POST, &path, None, Some(json!({"claim_secret": secret}))).await;
        assert_eq!((refused.status, refused.error_code()), (StatusCode::NOT_FOUND, "link_not_found"), "{path}");
    }
    assert_eq!(claim(&api, &link).await.status, StatusCode::ACCEPTED, "the real secret still waits");
}

async fn refusals_do_not_tell_whether_a_number_has_an_account(server: TestServer) {
    let api = server.client();
    let asha = api.login(ASHA, "Asha").await;
    let registered = ask(&api, ASHA).await;
    let unknown = ask(&api, "9876543299").await;
    let keys = |v: &Value| {
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&registered), keys(&unknown), "the same answer for any number");
    assert_eq!(claim(&api, &unknown).await.status, StatusCode::ACCEPTED);
    // Asha confirming a code made for a number nobody uses hears "another number".
    let refused = confirm(&api, &asha, unknown["pairing_code"].as_str().unwrap()).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::FORBIDDEN, "link_wrong_account"));
}

/// Two instances on one PostgreSQL database, each asked to confirm one code by
/// several of the person's devices at once, and then to hand the session out: the
/// database lets exactly one confirmation and one claim through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_confirmations_and_claims_on_two_instances_let_one_through() {
    let Some(servers) = crate::support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let mut devices = Vec::new();
    for api in [&a, &b, &a, &b] {
        devices.push(api.login(ASHA, "Asha").await);
    }
    let link = ask(&a, ASHA).await;
    let code = link["pairing_code"].as_str().unwrap().to_owned();
    let confirmations: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, device)| {
            let (api, device, code) = (if i % 2 == 0 { a.clone() } else { b.clone() }, device.clone(), code.clone());
            tokio::spawn(async move { confirm(&api, &device, &code).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in confirmations {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT, StatusCode::CONFLICT, StatusCode::CONFLICT]);
    let claims: Vec<_> = (0..6)
        .map(|i| {
            let (api, link) = (if i % 2 == 0 { a.clone() } else { b.clone() }, link.clone());
            tokio::spawn(async move { claim(&api, &link).await.status })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in claims {
        claimed.push(task.await.unwrap());
    }
    assert_eq!(claimed.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{claimed:?}");
    assert!(claimed.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::GONE), "{claimed:?}");
    let sessions = b.get("/api/auth/sessions", &devices[0].token).await.body["sessions"].as_array().unwrap().len();
    assert_eq!(sessions, 5, "four logins and one linked device");
}
