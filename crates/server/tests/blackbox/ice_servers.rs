//! Black-box: `GET /api/calls/ice-servers` hands each caller STUN and a TURN
//! login of their own, and a real coturn, set up with the same secret, relays
//! with that login and refuses forged and expired ones.

use crate::support;
use chitchat_auth::TurnRestCredentials;
use chitchat_domain::ports::TurnCredentials;
use chitchat_testkit::{TestBackend, TurnServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The expiry and user id of a TURN username (`expiry:user_id`).
fn username_parts(server: &Value) -> (i64, String) {
    let username = server["username"].as_str().expect("a TURN entry has a username");
    let (expiry, user) = username.split_once(':').expect("expiry:user_id");
    (expiry.parse().expect("the expiry is Unix seconds"), user.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turn_logins_from_chitchat_relay_on_a_real_coturn_and_forged_or_expired_ones_do_not() {
    let Some(turn) = TurnServer::start().await else { return };
    let stun = format!("stun:127.0.0.1:{}", turn.port());
    let turn_url = turn.udp_url();
    let env = [
        ("STUN_URLS", stun.as_str()),
        ("TURN_URLS", turn_url.as_str()),
        ("TURN_SECRET", turn.secret()),
        ("TURN_TTL", "10m"),
    ];
    let server = support::start(TestBackend::Sqlite, &env).await.expect("SQLite");
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;

    let reply = api.get("/api/calls/ice-servers", &asha.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let asked_at = chrono::Utc::now().timestamp();
    assert_eq!(reply.body["ttl"], 600);
    let servers = reply.body["ice_servers"].as_array().expect("ice_servers");
    assert_eq!(servers.len(), 2, "{servers:?}");
    assert_eq!(servers[0], json!({"urls": [stun]}), "STUN first, without a login");
    assert_eq!(servers[1]["urls"], json!([turn_url]));
    let (expiry, user) = username_parts(&servers[1]);
    assert_eq!(user, asha.user_id(), "the login names the caller");
    assert!((expiry - (asked_at + 600)).abs() <= 60, "expires TURN_TTL from now: {expiry} vs {asked_at}");
    let username = servers[1]["username"].as_str().unwrap();
    let credential = servers[1]["credential"].as_str().unwrap();

    let relayed = turn.relay(username, credential).await;
    assert!(relayed.relayed, "coturn relays with the login ChitChat handed out:\n{}", relayed.output);

    let ravis = api.get("/api/calls/ice-servers", &ravi.token).await;
    let (_, ravi_user) = username_parts(&ravis.body["ice_servers"][1]);
    assert_eq!(ravi_user, ravi.user_id(), "each caller gets a login of their own");

    // Another person's id under Asha's password: the signature does not match.
    let forged = username.replace(&asha.user_id(), &ravi.user_id());
    let attempt = turn.relay(&forged, credential).await;
    assert!(!attempt.relayed, "a login whose username was changed is refused:\n{}", attempt.output);
    // Signed with another secret.
    let asha_id = asha.user_id().parse().unwrap();
    let in_ten_minutes = chrono::Utc::now() + chrono::Duration::minutes(10);
    let wrong = TurnRestCredentials::new(b"not-the-shared-secret").mint(asha_id, in_ten_minutes);
    let attempt = turn.relay(&wrong.username, &wrong.credential).await;
    assert!(!attempt.relayed, "a login signed with another secret is refused:\n{}", attempt.output);
    // Signed with the shared secret: works until its expiry, and not after.
    let minter = TurnRestCredentials::new(turn.secret().as_bytes());
    let fresh = minter.mint(asha_id, in_ten_minutes);
    assert!(turn.relay(&fresh.username, &fresh.credential).await.relayed, "the same login, not expired, relays");
    let expired = minter.mint(asha_id, chrono::Utc::now() - chrono::Duration::minutes(1));
    let attempt = turn.relay(&expired.username, &expired.credential).await;
    assert!(!attempt.relayed, "an expired login is refused:\n{}", attempt.output);

    let config = api.call(Method::GET, "/api/config", None, None).await;
    assert_eq!(config.body["turn"], true, "clients learn that calls may be relayed: {:?}", config.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_turn_only_stun_is_given_and_without_either_nothing() {
    let stun_only = [("STUN_URLS", "stun:stun.example.org:3478,stuns:stun.example.org:5349")];
    let server = support::start(TestBackend::Sqlite, &stun_only).await.expect("SQLite");
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await;
    let reply = api.get("/api/calls/ice-servers", &asha.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        reply.body["ice_servers"],
        json!([{"urls": ["stun:stun.example.org:3478", "stuns:stun.example.org:5349"]}]),
        "no TURN entry and no login without TURN_URLS"
    );
    let config = api.call(Method::GET, "/api/config", None, None).await;
    assert_eq!(config.body["turn"], false, "{:?}", config.body);

    let anonymous = api.call(Method::GET, "/api/calls/ice-servers", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error_code(), "missing_token", "{:?}", anonymous.body);
    drop(server);

    let bare = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = bare.client();
    let asha = api.login("9876543210", "Asha").await;
    let reply = api.get("/api/calls/ice-servers", &asha.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["ice_servers"], json!([]), "nothing configured: an empty list");
    assert_eq!(reply.body["ttl"], 3600, "TURN_TTL's default, an hour");
}
