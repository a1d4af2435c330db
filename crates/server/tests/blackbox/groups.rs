//! Black-box: group chats. Admins create and run groups, every change is recorded
//! as a system message delivered live with the messages, and a member who leaves
//! or is removed keeps the history up to then and gets nothing after.

use chitchat_testkit::client::Reply;
use chitchat_testkit::{ApiClient, Login, TestServer, WsClient};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

// GROUP_MAX_MEMBERS=4: a small limit, so that "too many members" is quick to reach.
on_both_backends!(
    env = [("GROUP_MAX_MEMBERS", "4")];
    a_group_of_three_talks_live_and_an_added_fourth_joins_in,
    members_cannot_administer_and_outsiders_learn_nothing,
    a_removed_member_sees_the_removal_then_nothing_more,
    the_last_admin_leaving_promotes_the_longest_standing_member,
    bad_group_input_gets_clear_errors,
);

async fn people(api: &ApiClient, names: &[&str]) -> Vec<Login> {
    let mut logins = Vec::new();
    for (i, name) in names.iter().enumerate() {
        logins.push(api.login(&format!("98765432{i:02}"), name).await);
    }
    logins
}

/// Creates a group of `owner` with `members`; returns its ChatView.
async fn create_group(api: &ApiClient, owner: &Login, name: &str, members: &[&Login]) -> Value {
    let ids: Vec<String> = members.iter().map(|m| m.user_id()).collect();
    let reply = api.post("/api/chats", &owner.token, json!({"type": "group", "name": name, "user_ids": ids})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body
}

async fn patch(api: &ApiClient, path: &str, who: &Login, body: Value) -> Reply {
    api.call(Method::PATCH, path, Some(&who.token), Some(body)).await
}

async fn delete(api: &ApiClient, path: &str, who: &Login) -> Reply {
    api.call(Method::DELETE, path, Some(&who.token), None).await
}

fn role_of(view: &Value, who: &Login) -> Option<String> {
    let members = view["members"].as_array()?;
    let member = members.iter().find(|m| m["user_id"] == who.user_id())?;
    member["role"].as_str().map(str::to_owned)
}

fn ids(logins: &[&Login]) -> Vec<String> {
    logins.iter().map(|l| l.user_id()).collect()
}

/// The next `message` frame that is a system message, skipping others.
async fn next_system(ws: &mut WsClient) -> Value {
    loop {
        let frame = ws.next_of_type("message").await;
        if frame["payload"]["content_type"] == "system" {
            return frame;
        }
    }
}

async fn history(api: &ApiClient, chat: &str, who: &Login) -> Vec<String> {
    let reply = api.get(&format!("/api/messages?chat_id={chat}"), &who.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap().to_owned()).collect()
}

fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!((reply.status, reply.error_code()), (status, code), "{:?}", reply.body);
}

async fn a_group_of_three_talks_live_and_an_added_fourth_joins_in(server: TestServer) {
    let api = server.client();
    let [asha, ravi, chen, dev] = <[Login; 4]>::try_from(people(&api, &["Asha", "Ravi", "Chen", "Dev"]).await).unwrap();
    let mut sockets = Vec::new();
    for who in [&asha, &ravi, &chen] {
        sockets.push(api.ws(&who.token).await);
    }
    let mut dev_ws = api.ws(&dev.token).await;

    let group = create_group(&api, &asha, "  Trip ", &[&ravi, &chen, &ravi]).await;
    let chat = group["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (group["type"].as_str(), group["name"].as_str(), group["description"].as_str()),
        (Some("group"), Some("Trip"), Some(""))
    );
    assert_eq!(group["members"].as_array().unwrap().len(), 3, "duplicates are ignored");
    assert_eq!(role_of(&group, &asha).as_deref(), Some("admin"));
    assert_eq!(role_of(&group, &ravi).as_deref(), Some("member"));
    assert_eq!(
        (group["membership"]["status"].as_str(), group["membership"]["role"].as_str()),
        (Some("active"), Some("admin"))
    );

    for ws in &mut sockets {
        let created = ws.next_of_type("message").await;
        assert_eq!((created["room_id"].as_str(), created["event_seq"].as_i64()), (Some(chat.as_str()), Some(1)));
        assert_eq!(created["sender"], asha.user_id());
        assert_eq!(created["payload"]["content_type"], "system");
        assert_eq!(created["payload"]["content"], "Asha created the group \"Trip\"");
        assert_eq!(created["payload"]["system"]["action"], "group_created");
        assert_eq!(created["payload"]["system"]["actor_id"], asha.user_id());
        assert_eq!(created["payload"]["system"]["user_ids"], json!(ids(&[&ravi, &chen])));
        let update = ws.next_of_type("chat_update").await;
        assert_eq!(
            (update["room_id"].as_str(), update["sender"].clone()),
            (Some(chat.as_str()), json!(asha.user_id()))
        );
        assert_eq!(update["payload"]["members"].as_array().unwrap().len(), 3);
        assert!(update.get("event_seq").is_none(), "chat_update is not logged");
    }
    assert!(dev_ws.silent_for(Duration::from_millis(300)).await, "outsiders hear nothing");

    for (sender, text) in [(&ravi, "hi all"), (&chen, "hello")] {
        assert_eq!(api.send_text(sender, &chat, text, None).await.status, StatusCode::CREATED);
        for ws in &mut sockets {
            let frame = ws.next_of_type("message").await;
            assert_eq!(
                (frame["payload"]["content"].as_str(), frame["sender"].clone()),
                (Some(text), json!(sender.user_id()))
            );
        }
    }

    // Ravi is a member already: only Dev is added.
    let added =
        api.post(&format!("/api/chats/{chat}/members"), &asha.token, json!({"user_ids": ids(&[&dev, &ravi])})).await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.body);
    assert_eq!(added.body["members"].as_array().unwrap().len(), 4);
    sockets.push(dev_ws);
    for ws in &mut sockets {
        let frame = next_system(ws).await;
        assert_eq!(frame["payload"]["system"]["action"], "member_added");
        assert_eq!(frame["payload"]["system"]["user_ids"], json!(ids(&[&dev])));
        assert_eq!(frame["payload"]["content"], "Asha added Dev");
        let update = ws.next_of_type("chat_update").await;
        assert_eq!(update["payload"]["members"].as_array().unwrap().len(), 4);
    }
    api.send_text(&chen, &chat, "welcome Dev", None).await;
    for ws in &mut sockets {
        assert_eq!(ws.next_of_type("message").await["payload"]["content"], "welcome Dev");
    }
    // A new member reads the whole history (docs/api.md).
    assert_eq!(
        history(&api, &chat, &dev).await,
        vec!["welcome Dev", "Asha added Dev", "hello", "hi all", "Asha created the group \"Trip\""]
    );
    let list = api.get("/api/chats", &dev.token).await;
    assert_eq!(list.body["chats"][0]["id"], chat.as_str());
    assert_eq!(list.body["chats"][0]["name"], "Trip");
    assert_eq!(list.body["chats"][0]["last_message"]["content"], "welcome Dev");
}

async fn members_cannot_administer_and_outsiders_learn_nothing(server: TestServer) {
    let api = server.client();
    let [asha, ravi, chen, dev] = <[Login; 4]>::try_from(people(&api, &["Asha", "Ravi", "Chen", "Dev"]).await).unwrap();
    let group = create_group(&api, &asha, "Trip", &[&ravi, &chen]).await;
    let chat = group["id"].as_str().unwrap().to_owned();
    let base = format!("/api/chats/{chat}");
    let (asha_id, ravi_id, chen_id, dev_id) = (asha.user_id(), ravi.user_id(), chen.user_id(), dev.user_id());

    let refused = [
        patch(&api, &base, &ravi, json!({"name": "Ravi's"})).await,
        api.post(&format!("{base}/members"), &ravi.token, json!({"user_ids": [dev_id]})).await,
        delete(&api, &format!("{base}/members/{chen_id}"), &ravi).await,
        patch(&api, &format!("{base}/members/{ravi_id}"), &ravi, json!({"role": "admin"})).await,
        patch(&api, &format!("{base}/members/{asha_id}"), &ravi, json!({"role": "member"})).await,
    ];
    for reply in &refused {
        assert_error(reply, StatusCode::FORBIDDEN, "not_admin");
    }
    let hidden = [
        api.get(&base, &dev.token).await,
        patch(&api, &base, &dev, json!({"name": "Mine"})).await,
        delete(&api, &format!("{base}/members/{dev_id}"), &dev).await,
        api.get(&format!("/api/messages?chat_id={chat}"), &dev.token).await,
        api.send_text(&dev, &chat, "let me in", None).await,
    ];
    for reply in &hidden {
        assert_error(reply, StatusCode::NOT_FOUND, "chat_not_found");
    }
    let direct = api.direct_chat(&asha, &ravi_id).await;
    assert_error(
        &patch(&api, &format!("/api/chats/{direct}"), &asha, json!({"name": "Us"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_a_group",
    );
    let add_to_direct =
        api.post(&format!("/api/chats/{direct}/members"), &asha.token, json!({"user_ids": [chen_id]})).await;
    assert_error(&add_to_direct, StatusCode::UNPROCESSABLE_ENTITY, "not_a_group");

    let unchanged = api.get(&base, &asha.token).await.body;
    assert_eq!((unchanged["name"].as_str(), unchanged["members"].as_array().unwrap().len()), (Some("Trip"), 3));
    assert_eq!(history(&api, &chat, &chen).await.len(), 1, "refusals record nothing");

    // What admins may do.
    let renamed = patch(&api, &base, &asha, json!({"name": "Goa trip", "description": "Flights on Friday"})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(
        (renamed.body["name"].as_str(), renamed.body["description"].as_str()),
        (Some("Goa trip"), Some("Flights on Friday"))
    );
    assert_eq!(history(&api, &chat, &ravi).await[0], "Asha changed the group name to \"Goa trip\" and the description");
    let promoted = patch(&api, &format!("{base}/members/{ravi_id}"), &asha, json!({"role": "admin"})).await;
    assert_eq!(role_of(&promoted.body, &ravi).as_deref(), Some("admin"));
    assert_eq!(history(&api, &chat, &chen).await[0], "Ravi is now an admin");
    let by_ravi = patch(&api, &base, &ravi, json!({"description": ""})).await;
    assert_eq!((by_ravi.status, by_ravi.body["description"].as_str()), (StatusCode::OK, Some("")));
}

async fn a_removed_member_sees_the_removal_then_nothing_more(server: TestServer) {
    let api = server.client();
    let [asha, ravi, chen] = <[Login; 3]>::try_from(people(&api, &["Asha", "Ravi", "Chen"]).await).unwrap();
    let group = create_group(&api, &asha, "Trip", &[&ravi, &chen]).await;
    let chat = group["id"].as_str().unwrap().to_owned();
    let mut chen_ws = api.ws(&chen.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    api.send_text(&ravi, &chat, "before", None).await;
    assert_eq!(chen_ws.next_of_type("message").await["payload"]["content"], "before");
    assert_eq!(ravi_ws.next_of_type("message").await["payload"]["content"], "before");

    let removed = delete(&api, &format!("/api/chats/{chat}/members/{}", chen.user_id()), &asha).await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    assert_eq!(removed.body["members"].as_array().unwrap().len(), 2);

    let frame = chen_ws.next_json().await;
    assert_eq!((frame["type"].as_str(), frame["event_seq"].as_i64()), (Some("message"), Some(3)));
    assert_eq!(frame["payload"]["system"]["action"], "member_removed");
    assert_eq!(frame["payload"]["system"]["user_ids"], json!([chen.user_id()]));
    assert_eq!(frame["payload"]["content"], "Asha removed Chen");
    assert_eq!(next_system(&mut ravi_ws).await["payload"]["system"]["action"], "member_removed");
    let update = ravi_ws.next_of_type("chat_update").await;
    assert_eq!(update["payload"]["members"].as_array().unwrap().len(), 2);

    api.send_text(&asha, &chat, "after", None).await;
    assert_eq!(ravi_ws.next_of_type("message").await["payload"]["content"], "after");
    assert!(chen_ws.silent_for(Duration::from_millis(500)).await, "nothing after the removal, not even chat_update");

    assert_eq!(
        history(&api, &chat, &chen).await,
        vec!["Asha removed Chen", "before", "Asha created the group \"Trip\""]
    );
    let seen = api.get(&format!("/api/chats/{chat}"), &chen.token).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(
        (seen.body["membership"]["status"].as_str(), seen.body["membership"]["left_at_seq"].as_i64()),
        (Some("left"), Some(3))
    );
    assert_eq!(seen.body["members"], json!([]));
    assert_eq!(seen.body["last_message"]["content"], "Asha removed Chen");
    assert_eq!(seen.body["last_event_seq"], 3);
    let list = api.get("/api/chats", &chen.token).await;
    assert_eq!(list.body["chats"][0]["id"], chat.as_str());
    assert_eq!(list.body["chats"][0]["last_message"]["content"], "Asha removed Chen");

    assert_error(&api.send_text(&chen, &chat, "still here?", None).await, StatusCode::NOT_FOUND, "chat_not_found");
    let over_ws = chen_ws.send_message("m1", &chat, "still here?", "c-1").await;
    assert_eq!(
        (over_ws["type"].as_str(), over_ws["payload"]["code"].as_str()),
        (Some("error"), Some("chat_not_found"))
    );
    let leave_again = delete(&api, &format!("/api/chats/{chat}/members/{}", chen.user_id()), &chen).await;
    assert_error(&leave_again, StatusCode::NOT_FOUND, "chat_not_found");

    // A device of Chen's that was away catches up to the removal, and no further.
    let mut chen_phone = api.ws_resuming(&chen.token).await;
    chen_phone.send_json(json!({"id": "r1", "type": "resume", "payload": {"chats": {chat.clone(): 0}}})).await;
    let mut replayed = Vec::new();
    let ack = loop {
        let frame = chen_phone.next_json().await;
        if frame["id"] == "r1" {
            break frame;
        }
        replayed.push(frame["payload"]["content"].as_str().unwrap().to_owned());
    };
    assert_eq!(replayed, vec!["Asha created the group \"Trip\"", "before", "Asha removed Chen"]);
    assert_eq!(ack["payload"]["chats"][&chat], 3);

    // Added again, Chen is a member once more and reads the whole history (docs/api.md).
    let back =
        api.post(&format!("/api/chats/{chat}/members"), &asha.token, json!({"user_ids": [chen.user_id()]})).await;
    assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
    assert_eq!(next_system(&mut chen_ws).await["payload"]["system"]["action"], "member_added");
    assert_eq!(history(&api, &chat, &chen).await[..3], ["Asha added Chen", "after", "Asha removed Chen"]);
    assert_eq!(api.send_text(&chen, &chat, "back", None).await.status, StatusCode::CREATED);
}

async fn the_last_admin_leaving_promotes_the_longest_standing_member(server: TestServer) {
    let api = server.client();
    let [asha, ravi, chen] = <[Login; 3]>::try_from(people(&api, &["Asha", "Ravi", "Chen"]).await).unwrap();
    let group = create_group(&api, &asha, "Trip", &[&ravi]).await;
    let chat = group["id"].as_str().unwrap().to_owned();
    let base = format!("/api/chats/{chat}");
    // Chen joins after Ravi, so Ravi is the longest-standing after Asha.
    api.post(&format!("{base}/members"), &asha.token, json!({"user_ids": [chen.user_id()]})).await;

    let demote = patch(&api, &format!("{base}/members/{}", asha.user_id()), &asha, json!({"role": "member"})).await;
    assert_error(&demote, StatusCode::CONFLICT, "last_admin");

    let mut ravi_ws = api.ws(&ravi.token).await;
    let left = delete(&api, &format!("{base}/members/{}", asha.user_id()), &asha).await;
    assert_eq!(left.status, StatusCode::OK, "{:?}", left.body);
    assert_eq!((left.body["membership"]["status"].as_str(), left.body["members"].clone()), (Some("left"), json!([])));

    let gone = next_system(&mut ravi_ws).await;
    assert_eq!(
        (gone["payload"]["system"]["action"].as_str(), gone["payload"]["content"].as_str()),
        (Some("member_left"), Some("Asha left"))
    );
    let promoted = next_system(&mut ravi_ws).await;
    assert_eq!(promoted["payload"]["system"]["action"], "role_changed");
    assert_eq!(promoted["payload"]["system"]["user_ids"], json!([ravi.user_id()]));
    assert_eq!(promoted["payload"]["system"]["role"], "admin");
    assert_eq!(promoted["payload"]["content"], "Ravi is now an admin");
    let update = ravi_ws.next_of_type("chat_update").await;
    assert_eq!(update["payload"]["members"].as_array().unwrap().len(), 2);

    let now = api.get(&base, &chen.token).await.body;
    assert_eq!((role_of(&now, &ravi).as_deref(), role_of(&now, &chen).as_deref()), (Some("admin"), Some("member")));
    assert_eq!(role_of(&now, &asha), None);
    assert_eq!(patch(&api, &base, &ravi, json!({"name": "Ravi's trip"})).await.status, StatusCode::OK);
    // Asha keeps her history up to her leaving, without the promotion after it.
    assert_eq!(history(&api, &chat, &asha).await[0], "Asha left");

    // The last member leaving leaves an empty group behind.
    assert_eq!(delete(&api, &format!("{base}/members/{}", chen.user_id()), &chen).await.status, StatusCode::OK);
    let last = delete(&api, &format!("{base}/members/{}", ravi.user_id()), &ravi).await;
    assert_eq!(last.status, StatusCode::OK, "{:?}", last.body);
    assert_eq!(history(&api, &chat, &ravi).await[..2], ["Ravi left", "Chen left"]);
    assert_eq!(api.get(&base, &ravi.token).await.body["membership"]["status"], "left");
}

async fn bad_group_input_gets_clear_errors(server: TestServer) {
    let api = server.client();
    let everyone = people(&api, &["Asha", "Ravi", "Chen", "Dev", "Eve"]).await;
    let [asha, ravi, chen, dev, eve] = <[Login; 5]>::try_from(everyone).unwrap();
    let create = |body: Value| {
        let api = api.clone();
        let token = asha.token.clone();
        async move { api.post("/api/chats", &token, body).await }
    };
    let ravi_id = ravi.user_id();
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = [
        (json!({"type": "group", "name": "", "user_ids": [ravi_id]}), invalid, "invalid_group_name"),
        (json!({"type": "group", "name": "   ", "user_ids": [ravi_id]}), invalid, "invalid_group_name"),
        (json!({"type": "group", "user_ids": [ravi_id]}), invalid, "invalid_group_name"),
        (json!({"type": "group", "name": "x".repeat(101), "user_ids": [ravi_id]}), invalid, "invalid_group_name"),
        (
            json!({"type": "group", "name": "Trip", "description": "d".repeat(501), "user_ids": [ravi_id]}),
            invalid,
            "invalid_description",
        ),
        (
            json!({"type": "group", "name": "Trip", "user_ids": [ravi_id, "00000000-0000-4000-8000-000000000000"]}),
            StatusCode::NOT_FOUND,
            "user_not_found",
        ),
        (json!({"type": "group", "name": "Trip", "user_ids": ["not-an-id"]}), StatusCode::NOT_FOUND, "user_not_found"),
        (
            json!({"type": "group", "name": "Trip", "user_ids": ids(&[&ravi, &chen, &dev, &eve])}),
            invalid,
            "too_many_members",
        ),
        (json!({"type": "group", "name": "Trip", "user_ids": "everyone"}), invalid, "invalid_body"),
    ];
    for (body, status, code) in cases {
        let reply = create(body).await;
        assert_error(&reply, status, code);
        assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(api.get("/api/chats", &ravi.token).await.body["chats"], json!([]), "nothing was created");

    let longest = create(json!({"type": "group", "name": "x".repeat(100), "user_ids": [ravi_id]})).await;
    assert_eq!(longest.status, StatusCode::CREATED, "100 characters is fine: {:?}", longest.body);
    let chat = longest.body["id"].as_str().unwrap().to_owned();
    let base = format!("/api/chats/{chat}");
    let members = format!("{base}/members");
    assert_eq!(api.post(&members, &asha.token, json!({"user_ids": ids(&[&chen, &dev])})).await.status, StatusCode::OK);
    assert_error(
        &api.post(&members, &asha.token, json!({"user_ids": [eve.user_id()]})).await,
        invalid,
        "too_many_members",
    );
    assert_error(&api.post(&members, &asha.token, json!({"user_ids": []})).await, invalid, "invalid_members");
    assert_error(&api.post(&members, &asha.token, json!({})).await, invalid, "invalid_body");
    assert_error(&patch(&api, &base, &asha, json!({"name": "y".repeat(101)})).await, invalid, "invalid_group_name");
    assert_error(
        &patch(&api, &format!("{members}/{ravi_id}"), &asha, json!({"role": "owner"})).await,
        invalid,
        "invalid_role",
    );
    assert_error(
        &delete(&api, &format!("{members}/{}", eve.user_id()), &asha).await,
        StatusCode::NOT_FOUND,
        "member_not_found",
    );
    assert_error(
        &delete(&api, &format!("{members}/not-an-id"), &asha).await,
        StatusCode::NOT_FOUND,
        "member_not_found",
    );
    let system = api
        .post(
            "/api/messages",
            &ravi.token,
            json!({"chat_id": chat, "content": "Ravi is now an admin", "content_type": "system"}),
        )
        .await;
    assert_error(&system, invalid, "unsupported_content_type");
    assert_eq!(history(&api, &chat, &ravi).await.len(), 2, "only the creation and the one addition are recorded");
}
