//! Black-box: voice and video calls as people's devices signal them over real
//! WebSockets: ringing every device, answering on one, passing offers, answers
//! and ICE candidates only to the joined device, declining, missing, busy, a
//! dropped device coming back, group calls, and the record each call leaves in
//! its chat.

use crate::support;
use chitchat_testkit::{ApiClient, Login, TestServer, WsClient};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

// Short timers, so that tests see a ring or a drop run out without long waits;
// invitees ring long enough for the tests that answer to do so first.
on_both_backends!(
    env = [("CALL_RING_TIMEOUT", "4s"), ("CALL_DROP_TIMEOUT", "2s")];
    a_call_answered_on_one_device_stops_the_others_and_signals_reach_only_the_joined_device,
    a_declined_call_and_a_busy_one_are_recorded_as_such,
    an_unanswered_call_is_missed_when_the_ringing_runs_out_or_the_caller_gives_up,
    outsiders_blocked_people_and_bad_frames_are_refused_and_change_nothing,
    a_dropped_device_may_come_back_and_leaves_when_it_does_not,
    a_group_call_of_three_is_a_mesh_the_joiner_offers_to,
);

/// How long a device is watched to see that nothing reaches it.
const QUIET: Duration = Duration::from_millis(400);

/// Starts a call from `ws` and returns its id, after checking the `call_ringing`
/// answer echoes the frame's id.
async fn invite(ws: &mut WsClient, chat: &str, media: &str) -> (String, Value) {
    ws.send_json(json!({"id": "invite", "type": "call_invite", "room_id": chat, "payload": {"media": media}})).await;
    let ringing = next_reply(ws, "invite").await;
    assert_eq!(ringing["type"], "call_ringing", "{ringing}");
    assert_eq!(ringing["room_id"], chat);
    (ringing["payload"]["call_id"].as_str().unwrap().to_owned(), ringing)
}

/// The next frame answering the frame `id` (its echo), skipping the others.
async fn next_reply(ws: &mut WsClient, id: &str) -> Value {
    loop {
        let frame = ws.next_json().await;
        if frame["id"] == id {
            return frame;
        }
    }
}

/// Sends a call frame with an `id` and returns the answer to it (an `ack` or an `error`).
async fn act(ws: &mut WsClient, kind: &str, payload: Value) -> Value {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let id = format!("{kind}-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    ws.send_json(json!({"id": id, "type": kind, "payload": payload})).await;
    next_reply(ws, &id).await
}

async fn acted(ws: &mut WsClient, kind: &str, payload: Value) {
    let reply = act(ws, kind, payload).await;
    assert_eq!(reply["type"], "ack", "{kind}: {reply}");
}

async fn refused(ws: &mut WsClient, kind: &str, payload: Value) -> String {
    let reply = act(ws, kind, payload).await;
    assert_eq!(reply["type"], "error", "{kind}: {reply}");
    reply["payload"]["code"].as_str().unwrap().to_owned()
}

/// The next frame of `kind` about `call`.
async fn next_of_call(ws: &mut WsClient, kind: &str, call: &str) -> Value {
    ws.next_where(kind, |f| f["payload"]["call_id"] == call).await
}

/// The `call_ended` reason `ws` is told next for `call`.
async fn ended(ws: &mut WsClient, call: &str) -> Value {
    next_of_call(ws, "call_ended", call).await["payload"].clone()
}

/// True when no frame about a call reaches `ws` for a while.
async fn hears_no_call_frames(ws: &mut WsClient) -> bool {
    let deadline = tokio::time::Instant::now() + QUIET;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match ws.next_json_within(left).await {
            None => return true,
            Some(frame) if frame["type"].as_str().is_some_and(|t| t.starts_with("call_")) => return false,
            Some(_) => {}
        }
    }
}

/// The call record that reaches `ws` live, as a new message of the chat.
async fn live_record(ws: &mut WsClient, call: &str) -> Value {
    ws.next_where("message", |f| f["payload"]["system"]["call"]["call_id"] == call).await["payload"].clone()
}

/// The call records in the chat's history, as `login` reads it.
async fn records_in_history(api: &ApiClient, login: &Login, chat: &str) -> Vec<Value> {
    let reply = api.get(&format!("/api/messages?chat_id={chat}&limit=100"), &login.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["system"]["action"] == "call")
        .map(|m| m["system"]["call"].clone())
        .collect()
}

fn sdp(call: &str, to: &Login, text: &str) -> Value {
    json!({"call_id": call, "to_user_id": to.user_id(), "sdp": text})
}

async fn a_call_answered_on_one_device_stops_the_others_and_signals_reach_only_the_joined_device(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let ravi_laptop = api.login("9876543211", "Ravi").await;
    let chen = api.login("9876543212", "Chen").await;
    let mut asha_ws = api.ws(&asha.token).await;
    let mut phone_ws = api.ws(&ravi.token).await;
    let mut laptop_ws = api.ws(&ravi_laptop.token).await;
    let mut chen_ws = api.ws(&chen.token).await;

    let (call, ringing) = invite(&mut asha_ws, &chat, "video").await;
    assert_eq!(ringing["payload"]["media"], "video");
    assert_eq!(ringing["payload"]["user_ids"], json!([ravi.user_id()]));
    for ws in [&mut phone_ws, &mut laptop_ws] {
        let rings = next_of_call(ws, "call_invite", &call).await;
        assert_eq!(rings["room_id"], chat);
        assert_eq!(rings["payload"]["caller"]["id"], asha.user_id());
        assert_eq!(rings["payload"]["caller"]["display_name"], "Asha");
        assert_eq!(rings["payload"]["media"], "video");
    }

    acted(&mut laptop_ws, "call_accept", json!({"call_id": call})).await;
    for ws in [&mut asha_ws, &mut laptop_ws] {
        let accepted = next_of_call(ws, "call_accept", &call).await;
        assert_eq!(accepted["payload"]["user_id"], ravi.user_id());
        assert_eq!(accepted["payload"]["participants"], json!([asha.user_id(), ravi.user_id()]));
    }
    assert_eq!(ended(&mut phone_ws, &call).await["reason"], "answered_elsewhere");

    // Offer, answer and candidates pass between the two joined devices only.
    acted(&mut asha_ws, "call_offer", sdp(&call, &ravi, "v=0 offer")).await;
    let offer = next_of_call(&mut laptop_ws, "call_offer", &call).await;
    assert_eq!(offer["payload"], json!({"call_id": call, "from_user_id": asha.user_id(), "sdp": "v=0 offer"}));
    acted(&mut laptop_ws, "call_answer", sdp(&call, &asha, "v=0 answer")).await;
    let answer = next_of_call(&mut asha_ws, "call_answer", &call).await;
    assert_eq!(answer["payload"]["from_user_id"], ravi.user_id());
    let candidate = json!({"candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host", "sdpMid": "0"});
    let ice = json!({"call_id": call, "to_user_id": ravi.user_id(), "candidate": candidate});
    acted(&mut asha_ws, "call_ice", ice).await;
    assert_eq!(next_of_call(&mut laptop_ws, "call_ice", &call).await["payload"]["candidate"], candidate);
    acted(&mut asha_ws, "call_ice", json!({"call_id": call, "to_user_id": ravi.user_id(), "candidate": null})).await;
    assert!(
        next_of_call(&mut laptop_ws, "call_ice", &call).await["payload"]["candidate"].is_null(),
        "end of candidates"
    );
    assert!(hears_no_call_frames(&mut phone_ws).await, "Ravi's phone is out of the call");
    assert!(hears_no_call_frames(&mut chen_ws).await, "a stranger hears nothing");

    // The phone that did not join may not signal; the stranger does not learn of the call.
    assert_eq!(refused(&mut phone_ws, "call_offer", sdp(&call, &asha, "v=0")).await, "not_in_call");
    assert_eq!(refused(&mut chen_ws, "call_offer", sdp(&call, &asha, "v=0")).await, "call_not_found");
    assert!(hears_no_call_frames(&mut asha_ws).await);

    acted(&mut asha_ws, "call_hangup", json!({"call_id": call})).await;
    assert_eq!(next_of_call(&mut laptop_ws, "call_hangup", &call).await["payload"]["user_id"], asha.user_id());
    let end = ended(&mut laptop_ws, &call).await;
    assert_eq!(end["reason"], "hangup");
    assert!(end["duration_secs"].as_i64().is_some(), "{end}");

    // One record, for every member, live and in history, and replayed on resume.
    for ws in [&mut asha_ws, &mut phone_ws, &mut laptop_ws] {
        let record = live_record(ws, &call).await;
        assert_eq!(record["content_type"], "system");
        assert_eq!(record["system"]["call"]["outcome"], "answered");
        assert_eq!(record["system"]["call"]["media"], "video");
    }
    for login in [&asha, &ravi] {
        let records = records_in_history(&api, login, &chat).await;
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0]["outcome"], "answered");
        assert_eq!(records[0]["duration_secs"], end["duration_secs"]);
    }
    let mut later = api.ws(&ravi.token).await;
    let (replayed, _) = later.resume("r", json!({chat.clone(): 0})).await;
    assert!(replayed.iter().any(|f| f["payload"]["system"]["call"]["call_id"] == call), "{replayed:?}");
    assert!(hears_no_call_frames(&mut chen_ws).await);
}

async fn a_declined_call_and_a_busy_one_are_recorded_as_such(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let ravi_laptop = api.login("9876543211", "Ravi").await;
    let chen = api.login("9876543212", "Chen").await;
    let chen_and_ravi = api.direct_chat(&chen, &ravi.user_id()).await;
    let mut asha_ws = api.ws(&asha.token).await;
    let mut phone_ws = api.ws(&ravi.token).await;
    let mut laptop_ws = api.ws(&ravi_laptop.token).await;
    let mut chen_ws = api.ws(&chen.token).await;

    let (call, _) = invite(&mut asha_ws, &chat, "voice").await;
    next_of_call(&mut laptop_ws, "call_invite", &call).await;
    acted(&mut phone_ws, "call_decline", json!({"call_id": call})).await;
    assert_eq!(next_of_call(&mut asha_ws, "call_decline", &call).await["payload"]["user_id"], ravi.user_id());
    assert_eq!(ended(&mut asha_ws, &call).await["reason"], "declined");
    assert_eq!(ended(&mut laptop_ws, &call).await["reason"], "declined", "the other device stops ringing");
    assert_eq!(live_record(&mut asha_ws, &call).await["system"]["call"]["outcome"], "declined");
    assert_eq!(records_in_history(&api, &ravi, &chat).await[0]["outcome"], "declined");

    // Ravi takes Asha's next call; Chen calling him meanwhile finds him busy.
    let (call, _) = invite(&mut asha_ws, &chat, "voice").await;
    acted(&mut phone_ws, "call_accept", json!({"call_id": call})).await;
    next_of_call(&mut asha_ws, "call_accept", &call).await;
    let (busy_call, ringing) = invite(&mut chen_ws, &chen_and_ravi, "voice").await;
    assert_eq!(ringing["payload"]["user_ids"], json!([]), "nobody rings");
    assert_eq!(next_of_call(&mut chen_ws, "call_busy", &busy_call).await["payload"]["user_id"], ravi.user_id());
    assert_eq!(ended(&mut chen_ws, &busy_call).await["reason"], "busy");
    assert_eq!(live_record(&mut chen_ws, &busy_call).await["system"]["call"]["outcome"], "busy");
    // Someone in a call starts no other.
    phone_ws
        .send_json(
            json!({"id": "again", "type": "call_invite", "room_id": chen_and_ravi, "payload": {"media": "voice"}}),
        )
        .await;
    assert_eq!(next_reply(&mut phone_ws, "again").await["payload"]["code"], "already_in_call");
    acted(&mut phone_ws, "call_hangup", json!({"call_id": call})).await;
    assert_eq!(ended(&mut asha_ws, &call).await["reason"], "hangup");
}

async fn an_unanswered_call_is_missed_when_the_ringing_runs_out_or_the_caller_gives_up(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut asha_ws = api.ws(&asha.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;

    let (call, _) = invite(&mut asha_ws, &chat, "video").await;
    next_of_call(&mut ravi_ws, "call_invite", &call).await;
    // CALL_RING_TIMEOUT is 4 s here.
    assert_eq!(ended(&mut ravi_ws, &call).await["reason"], "missed");
    assert_eq!(ended(&mut asha_ws, &call).await["reason"], "missed");
    let record = live_record(&mut ravi_ws, &call).await;
    assert_eq!(record["system"]["call"], json!({"call_id": call, "media": "video", "outcome": "missed"}));
    assert_eq!(record["content"], "Missed video call");
    assert_eq!(refused(&mut ravi_ws, "call_accept", json!({"call_id": call})).await, "call_not_found", "it is over");

    let (call, _) = invite(&mut asha_ws, &chat, "voice").await;
    next_of_call(&mut ravi_ws, "call_invite", &call).await;
    acted(&mut asha_ws, "call_hangup", json!({"call_id": call})).await;
    assert_eq!(ended(&mut ravi_ws, &call).await["reason"], "missed");
    assert_eq!(live_record(&mut ravi_ws, &call).await["system"]["call"]["outcome"], "missed");
    let outcomes: Vec<Value> =
        records_in_history(&api, &asha, &chat).await.into_iter().map(|r| r["outcome"].clone()).collect();
    assert_eq!(outcomes, vec![json!("missed"), json!("missed")], "one record per call");
}

async fn outsiders_blocked_people_and_bad_frames_are_refused_and_change_nothing(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let chen = api.login("9876543212", "Chen").await;
    let chen_and_asha = api.direct_chat(&chen, &asha.user_id()).await;
    let mut asha_ws = api.ws(&asha.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut chen_ws = api.ws(&chen.token).await;

    // Not a member: the chat is not found, nobody rings.
    chen_ws.send_json(json!({"id": "in", "type": "call_invite", "room_id": chat, "payload": {"media": "voice"}})).await;
    assert_eq!(next_reply(&mut chen_ws, "in").await["payload"]["code"], "chat_not_found");
    // A block either way refuses calls in the direct chat.
    let blocked =
        api.call(Method::POST, &format!("/api/users/{}/block", chen.user_id()), Some(&asha.token), None).await;
    assert_eq!(blocked.status, StatusCode::NO_CONTENT);
    for (ws, id) in [(&mut chen_ws, "blocked"), (&mut asha_ws, "blocker")] {
        ws.send_json(json!({"id": id, "type": "call_invite", "room_id": chen_and_asha, "payload": {"media": "voice"}}))
            .await;
        assert_eq!(next_reply(ws, id).await["payload"]["code"], "blocked", "{id}");
    }
    assert!(hears_no_call_frames(&mut asha_ws).await && hears_no_call_frames(&mut ravi_ws).await);

    // A live call, and frames about it that must change nothing.
    let (call, _) = invite(&mut asha_ws, &chat, "voice").await;
    next_of_call(&mut ravi_ws, "call_invite", &call).await;
    let forged = chitchat_domain::CallId::new().to_string();
    assert_eq!(refused(&mut ravi_ws, "call_accept", json!({"call_id": forged})).await, "call_not_found");
    assert_eq!(refused(&mut ravi_ws, "call_accept", json!({"call_id": "not-a-call"})).await, "call_not_found");
    for kind in ["call_accept", "call_decline", "call_hangup"] {
        assert_eq!(refused(&mut chen_ws, kind, json!({"call_id": call})).await, "call_not_found", "{kind}");
    }
    assert_eq!(refused(&mut ravi_ws, "call_offer", json!({"call_id": call})).await, "invalid_payload");
    let media = json!({"call_id": call, "media": "hologram"});
    chen_ws.send_json(json!({"id": "odd", "type": "call_invite", "room_id": chen_and_asha, "payload": media})).await;
    assert_eq!(next_reply(&mut chen_ws, "odd").await["payload"]["code"], "invalid_payload");
    assert!(hears_no_call_frames(&mut asha_ws).await, "nothing changed for the caller");

    acted(&mut ravi_ws, "call_accept", json!({"call_id": call})).await;
    next_of_call(&mut asha_ws, "call_accept", &call).await;
    next_of_call(&mut ravi_ws, "call_accept", &call).await;
    let oversized = "a".repeat(64 * 1024 + 1);
    assert_eq!(refused(&mut asha_ws, "call_offer", sdp(&call, &ravi, &oversized)).await, "invalid_payload");
    let big_candidate =
        json!({"call_id": call, "to_user_id": ravi.user_id(), "candidate": {"candidate": "c".repeat(5000)}});
    assert_eq!(refused(&mut asha_ws, "call_ice", big_candidate).await, "invalid_payload");
    assert!(hears_no_call_frames(&mut ravi_ws).await, "nothing oversized was passed on");
    acted(&mut asha_ws, "call_offer", sdp(&call, &ravi, "v=0")).await;
    assert_eq!(next_of_call(&mut ravi_ws, "call_offer", &call).await["payload"]["sdp"], "v=0", "the call still works");
}

async fn a_dropped_device_may_come_back_and_leaves_when_it_does_not(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut asha_ws = api.ws(&asha.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let (call, _) = invite(&mut asha_ws, &chat, "voice").await;
    acted(&mut ravi_ws, "call_accept", json!({"call_id": call})).await;
    next_of_call(&mut asha_ws, "call_accept", &call).await;

    // The socket goes; a new one of Ravi's accepts again (CALL_DROP_TIMEOUT is 2 s).
    drop(ravi_ws);
    let mut back = api.ws(&ravi.token).await;
    acted(&mut back, "call_accept", json!({"call_id": call})).await;
    let rejoined = next_of_call(&mut asha_ws, "call_accept", &call).await;
    assert_eq!(rejoined["payload"]["user_id"], ravi.user_id(), "Asha offers to Ravi's new device");
    acted(&mut asha_ws, "call_offer", sdp(&call, &ravi, "v=0 again")).await;
    assert_eq!(next_of_call(&mut back, "call_offer", &call).await["payload"]["sdp"], "v=0 again");

    // Gone for good: after the drop timeout Ravi has left, and the call is over.
    drop(back);
    assert_eq!(next_of_call(&mut asha_ws, "call_hangup", &call).await["payload"]["user_id"], ravi.user_id());
    assert_eq!(ended(&mut asha_ws, &call).await["reason"], "hangup");
    assert_eq!(live_record(&mut asha_ws, &call).await["system"]["call"]["outcome"], "answered");
    let mut later = api.ws(&ravi.token).await;
    assert_eq!(refused(&mut later, "call_accept", json!({"call_id": call})).await, "call_not_found", "too late");
}

async fn a_group_call_of_three_is_a_mesh_the_joiner_offers_to(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await;
    let ravi = api.login("9876543211", "Ravi").await;
    let chen = api.login("9876543212", "Chen").await;
    let group = api.create_group(&asha, "Trip", &[&ravi, &chen]).await["id"].as_str().unwrap().to_owned();
    let mut asha_ws = api.ws(&asha.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut chen_ws = api.ws(&chen.token).await;

    let (call, ringing) = invite(&mut asha_ws, &group, "video").await;
    let ringing_ids: Vec<&str> =
        ringing["payload"]["user_ids"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(ringing_ids.len(), 2);
    assert!(ringing_ids.contains(&ravi.user_id().as_str()) && ringing_ids.contains(&chen.user_id().as_str()));
    for ws in [&mut ravi_ws, &mut chen_ws] {
        let rings = next_of_call(ws, "call_invite", &call).await;
        assert_eq!(rings["payload"]["participants"].as_array().unwrap().len(), 3);
    }
    acted(&mut ravi_ws, "call_accept", json!({"call_id": call})).await;
    next_of_call(&mut asha_ws, "call_accept", &call).await;
    acted(&mut chen_ws, "call_accept", json!({"call_id": call})).await;
    let mut everyone = vec![asha.user_id(), ravi.user_id(), chen.user_id()];
    everyone.sort();
    for ws in [&mut asha_ws, &mut ravi_ws, &mut chen_ws] {
        let accepted = ws.next_where("call_accept", |f| f["payload"]["user_id"] == chen.user_id()).await;
        let mut joined: Vec<String> = accepted["payload"]["participants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap().to_owned())
            .collect();
        joined.sort();
        assert_eq!(joined, everyone);
    }
    // The joiner offers to each of the others; each gets only their own.
    acted(&mut chen_ws, "call_offer", sdp(&call, &asha, "for asha")).await;
    acted(&mut chen_ws, "call_offer", sdp(&call, &ravi, "for ravi")).await;
    assert_eq!(next_of_call(&mut asha_ws, "call_offer", &call).await["payload"]["sdp"], "for asha");
    assert_eq!(next_of_call(&mut ravi_ws, "call_offer", &call).await["payload"]["sdp"], "for ravi");
    assert!(hears_no_call_frames(&mut asha_ws).await, "no one else's offer");

    acted(&mut ravi_ws, "call_hangup", json!({"call_id": call})).await;
    for ws in [&mut asha_ws, &mut chen_ws] {
        assert_eq!(next_of_call(ws, "call_hangup", &call).await["payload"]["user_id"], ravi.user_id());
    }
    assert!(hears_no_call_frames(&mut chen_ws).await, "two are still in the call");
    acted(&mut asha_ws, "call_hangup", json!({"call_id": call})).await;
    assert_eq!(ended(&mut chen_ws, &call).await["reason"], "hangup");
    let record = live_record(&mut ravi_ws, &call).await;
    assert_eq!(record["system"]["call"]["outcome"], "answered");
    assert_eq!(records_in_history(&api, &chen, &group).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_between_devices_on_two_instances_linked_by_redis() {
    let Some(servers) = support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let people = support::asha_and_ravi_across(&a, &b).await;
    let (asha, ravi, chat) = (&people.asha, &people.ravi_phone, &people.chat);
    let mut asha_ws = a.ws(&asha.token).await;
    let mut phone_ws = b.ws(&ravi.token).await;
    let mut laptop_ws = a.ws(&people.ravi_laptop.token).await;

    let (call, _) = invite(&mut asha_ws, chat, "voice").await;
    next_of_call(&mut phone_ws, "call_invite", &call).await;
    next_of_call(&mut laptop_ws, "call_invite", &call).await;
    acted(&mut phone_ws, "call_accept", json!({"call_id": call})).await;
    assert_eq!(next_of_call(&mut asha_ws, "call_accept", &call).await["payload"]["user_id"], ravi.user_id());
    assert_eq!(ended(&mut laptop_ws, &call).await["reason"], "answered_elsewhere");

    acted(&mut asha_ws, "call_offer", sdp(&call, ravi, "across")).await;
    assert_eq!(next_of_call(&mut phone_ws, "call_offer", &call).await["payload"]["sdp"], "across");
    acted(&mut phone_ws, "call_answer", sdp(&call, asha, "back")).await;
    assert_eq!(next_of_call(&mut asha_ws, "call_answer", &call).await["payload"]["sdp"], "back");
    assert!(hears_no_call_frames(&mut laptop_ws).await, "the laptop on Asha's instance is out of the call");

    // Either instance acts on the shared call: Ravi hangs up through B.
    acted(&mut phone_ws, "call_hangup", json!({"call_id": call})).await;
    assert_eq!(ended(&mut asha_ws, &call).await["reason"], "hangup");
    assert_eq!(live_record(&mut laptop_ws, &call).await["system"]["call"]["outcome"], "answered");
    let records = records_in_history(&b, ravi, chat).await;
    assert_eq!(records.len(), 1, "one record, whichever instance ended it: {records:?}");
}

/// A group larger than `CALL_MAX_PARTICIPANTS` cannot start a call, and the client
/// is told the limit before it offers one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_over_the_call_limit_is_refused_and_the_limit_is_in_the_config() {
    let Some(server) = support::start(chitchat_testkit::TestBackend::Sqlite, &[("CALL_MAX_PARTICIPANTS", "2")]).await
    else {
        return;
    };
    let api = server.client();
    let config = api.call(Method::GET, "/api/config", None, None).await;
    assert_eq!(config.body["call_max_participants"], 2, "{}", config.body);
    let (asha, ravi, direct) = api.asha_and_ravi_in_a_chat().await;
    let chen = api.login("9876543212", "Chen").await;
    let group = api.create_group(&asha, "Trip", &[&ravi, &chen]).await["id"].as_str().unwrap().to_owned();
    let mut asha_ws = api.ws(&asha.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    asha_ws
        .send_json(json!({"id": "big", "type": "call_invite", "room_id": group, "payload": {"media": "video"}}))
        .await;
    assert_eq!(next_reply(&mut asha_ws, "big").await["payload"]["code"], "call_too_large");
    assert!(hears_no_call_frames(&mut ravi_ws).await, "nobody rings for a refused call");
    let (call, _) = invite(&mut asha_ws, &direct, "voice").await;
    next_of_call(&mut ravi_ws, "call_invite", &call).await;
}

/// The instance that holds Ravi's only socket is killed in the middle of a call:
/// no socket closes, yet once the instance counts as dead (its presence expires
/// after `WS_PONG_WAIT`) Ravi's drop timeout runs out and Asha's call ends as a
/// call that was answered, recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_ends_for_the_others_when_the_instance_of_a_participant_is_killed() {
    let env = [
        ("PRESENCE_GRACE_PERIOD", support::PRESENCE_GRACE),
        ("WS_PING_PERIOD", "500ms"),
        ("WS_PONG_WAIT", "2s"),
        ("CALL_DROP_TIMEOUT", "2s"),
    ];
    let Some(mut servers) = TestServer::start_cluster(support::BINARY, 2, &env).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let asha = a.login("9876543210", "Asha").await;
    let ravi = b.login("9876543211", "Ravi").await;
    let chat = a.direct_chat(&asha, &ravi.user_id()).await;
    let mut asha_ws = a.ws(&asha.token).await;
    let mut ravi_ws = b.ws(&ravi.token).await;
    let (call, _) = invite(&mut asha_ws, &chat, "video").await;
    acted(&mut ravi_ws, "call_accept", json!({"call_id": call})).await;
    next_of_call(&mut asha_ws, "call_accept", &call).await;

    servers[1].stop().await; // SIGKILL: Ravi's socket closes nowhere.
                             // The call's frames, and its record as a message, whichever comes first.
    let (mut seen, mut record) = (Vec::new(), None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while record.is_none() || !seen.iter().any(|f: &Value| f["type"] == "call_ended") {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(frame) = asha_ws.next_json_within(left).await else {
            panic!("Asha's call did not end after Ravi's instance died; frames: {seen:?}")
        };
        if frame["payload"]["call_id"] == call.as_str() {
            seen.push(frame);
        } else if frame["type"] == "message" && frame["payload"]["system"]["call"]["call_id"] == call.as_str() {
            record = Some(frame["payload"]["system"]["call"].clone());
        }
    }
    let hangup = seen.iter().find(|f| f["type"] == "call_hangup").expect("Ravi is said to have left");
    assert_eq!(hangup["payload"]["user_id"], ravi.user_id());
    assert_eq!(seen.last().unwrap()["payload"]["reason"], "hangup");
    assert_eq!(record.unwrap()["outcome"], "answered");
    assert_eq!(records_in_history(&a, &asha, &chat).await.len(), 1, "recorded once");
    // Asha is free again: she can call Ravi, who is back on the surviving instance.
    let mut ravi_again = a.ws(&ravi.token).await;
    let (next_call, _) = invite(&mut asha_ws, &chat, "voice").await;
    next_of_call(&mut ravi_again, "call_invite", &next_call).await;
}
