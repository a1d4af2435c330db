//! Black-box: signed attachment links, for media elements that cannot send a
//! token. A link works without `Authorization`, with byte ranges, and is kept by
//! no shared cache; a tampered link, or one moved to another user, is refused;
//! the access of its user is checked at every request, so deleting the message
//! for everyone ends it; and it expires after `ATTACHMENT_LINK_TTL`.

use chitchat_testkit::client::Reply;
use chitchat_testkit::{ApiClient, Login, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_backends!(
    a_link_streams_the_file_without_a_token_with_ranges_and_private_caching,
    tampered_moved_and_unsigned_links_are_refused,
    a_link_ends_when_its_user_can_no_longer_read_the_file,
);

/// A voice note: Ogg's magic bytes, then enough for several ranges.
fn voice_note() -> Vec<u8> {
    let mut bytes = b"OggS\0\x02".to_vec();
    bytes.extend((0..200_000u32).map(|i| (i * 13 % 251) as u8));
    bytes
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

/// Uploads `bytes` as Asha and sends it in each of `chats`.
async fn share(api: &ApiClient, asha: &Login, bytes: Vec<u8>, chats: &[&str]) -> (String, Vec<Value>) {
    let uploaded = api.upload(&asha.token, "note.ogg", bytes).await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{:?}", uploaded.body);
    let file = id(&uploaded.body);
    let mut sent = Vec::new();
    for chat in chats {
        let body = json!({"chat_id": chat, "content_type": "audio", "attachment_ids": [file]});
        let reply = api.post("/api/messages", &asha.token, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        sent.push(reply.body);
    }
    (file, sent)
}

async fn link(api: &ApiClient, who: &Login, file: &str) -> Reply {
    api.call(Method::POST, &format!("/api/attachments/{file}/link"), Some(&who.token), None).await
}

async fn link_url(api: &ApiClient, who: &Login, file: &str) -> String {
    let reply = link(api, who, file).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["url"].as_str().unwrap().to_owned()
}

/// Status and error code of a request through a link, without a token.
async fn through(api: &ApiClient, url: &str) -> (StatusCode, String) {
    let response = api.get_raw_as(url, None, &[]).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().unwrap_or("").to_owned())
}

async fn a_link_streams_the_file_without_a_token_with_ranges_and_private_caching(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876510001", "Asha").await;
    let bilal = api.login("9876510002", "Bilal").await;
    let chat = api.direct_chat(&asha, &bilal.user_id()).await;
    let bytes = voice_note();
    let (file, _) = share(&api, &asha, bytes.clone(), &[&chat]).await;

    let issued = link(&api, &bilal, &file).await;
    assert_eq!(issued.status, StatusCode::OK, "{:?}", issued.body);
    let url = issued.body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("/api/attachments/{file}?")), "{url}");
    assert_eq!(issued.body["thumbnail_url"], Value::Null, "a voice note has no thumbnail");
    let expires_at: chrono::DateTime<chrono::Utc> = issued.body["expires_at"].as_str().unwrap().parse().unwrap();
    let left = expires_at - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(14) && left <= chrono::Duration::minutes(16), "15 minutes: {left}");
    let raw = api.get_raw(&format!("/api/attachments/{file}"), &bilal.token, &[]).await;
    assert_eq!(raw.status(), StatusCode::OK, "the token still works as before");

    let whole = api.get_raw_as(&url, None, &[]).await;
    assert_eq!(whole.status(), StatusCode::OK);
    let header = |response: &reqwest::Response, name: &str| {
        response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    };
    let cache = header(&whole, "cache-control");
    assert!(cache.starts_with("private") && !cache.contains("immutable"), "kept by no shared cache: {cache}");
    assert_eq!(header(&whole, "content-type"), "audio/ogg");
    assert_eq!(header(&whole, "x-content-type-options"), "nosniff");
    assert!(header(&whole, "content-security-policy").contains("sandbox"));
    assert!(header(&whole, "content-disposition").starts_with("inline"));
    assert_eq!(header(&whole, "referrer-policy"), "no-referrer", "the link does not leave in a Referer");
    assert_eq!(whole.bytes().await.unwrap().to_vec(), bytes);

    // A media element seeking: a range, answered 206.
    let part = api.get_raw_as(&url, None, &[("range", "bytes=150000-")]).await;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&part, "content-range"), format!("bytes 150000-{}/{}", bytes.len() - 1, bytes.len()));
    assert_eq!(part.bytes().await.unwrap().to_vec(), bytes[150_000..]);

    // A photo's link also opens its thumbnail.
    let image = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 7]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let photo = api.upload(&asha.token, "view.png", png).await;
    let photo = id(&photo.body);
    let body = json!({"chat_id": chat, "content_type": "image", "attachment_ids": [photo]});
    assert_eq!(api.post("/api/messages", &asha.token, body).await.status, StatusCode::CREATED);
    let issued = link(&api, &bilal, &photo).await;
    let thumbnail = issued.body["thumbnail_url"].as_str().expect("a thumbnail link").to_owned();
    assert!(thumbnail.starts_with(&format!("/api/attachments/{photo}/thumbnail?")), "{thumbnail}");
    let small = api.get_raw_as(&thumbnail, None, &[]).await;
    assert_eq!(small.status(), StatusCode::OK);
    assert!(image::load_from_memory(&small.bytes().await.unwrap()).unwrap().width() <= 320);
}

/// `url` with the query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (path, query) = url.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|pair| if pair.starts_with(&format!("{name}=")) { format!("{name}={value}") } else { pair.to_owned() })
        .collect();
    format!("{path}?{}", query.join("&"))
}

fn param(url: &str, name: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    query.split('&').find_map(|pair| pair.strip_prefix(&format!("{name}="))).unwrap().to_owned()
}

async fn tampered_moved_and_unsigned_links_are_refused(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876510011", "Asha").await;
    let bilal = api.login("9876510012", "Bilal").await;
    let chen = api.login("9876510013", "Chen").await;
    let chat = api.direct_chat(&asha, &bilal.user_id()).await;
    let (file, _) = share(&api, &asha, voice_note(), &[&chat]).await;
    let url = link_url(&api, &bilal, &file).await;
    assert_eq!(through(&api, &url).await.0, StatusCode::OK);
    let not_found = (StatusCode::NOT_FOUND, "attachment_not_found".to_owned());

    let sig = param(&url, "sig");
    let flipped = format!("{}{}", &sig[..sig.len() - 1], if sig.ends_with('0') { '1' } else { '0' });
    assert_eq!(through(&api, &with_param(&url, "sig", &flipped)).await, not_found, "a changed signature");
    let later = (param(&url, "exp").parse::<i64>().unwrap() + 3600).to_string();
    assert_eq!(through(&api, &with_param(&url, "exp", &later)).await, not_found, "a prolonged link");
    assert_eq!(through(&api, &with_param(&url, "user", &chen.user_id())).await, not_found, "moved to another user");
    let other_file = with_param(&url, "user", &bilal.user_id()).replace(&file, "0193a1f3-1d7e-7f00-b2c4-5e6f7a8b9c0d");
    assert_eq!(through(&api, &other_file).await, not_found, "moved to another file");
    assert_eq!(through(&api, &with_param(&url, "sig", "")).await, not_found, "no signature");
    assert_eq!(through(&api, &with_param(&url, "user", "someone")).await, not_found, "a malformed user");
    let thumbnail = url.replacen('?', "/thumbnail?", 1);
    assert_eq!(through(&api, &thumbnail).await.0, StatusCode::NOT_FOUND, "no thumbnail, whoever asks");

    // Links are given to those who may read the file, and to nobody without a token.
    let stranger = link(&api, &chen, &file).await;
    assert_eq!((stranger.status, stranger.error_code()), (StatusCode::NOT_FOUND, "attachment_not_found"));
    let anonymous = api.call(Method::POST, &format!("/api/attachments/{file}/link"), None, None).await;
    assert_eq!((anonymous.status, anonymous.error_code()), (StatusCode::UNAUTHORIZED, "missing_token"));
    let malformed = link(&api, &bilal, "not-an-id").await;
    assert_eq!((malformed.status, malformed.error_code()), (StatusCode::NOT_FOUND, "attachment_not_found"));
    // Without link parameters, the token is needed as before.
    let bare = url.split('?').next().unwrap().to_owned();
    assert_eq!(through(&api, &bare).await, (StatusCode::UNAUTHORIZED, "missing_token".to_owned()));
}

async fn a_link_ends_when_its_user_can_no_longer_read_the_file(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876510021", "Asha").await;
    let bilal = api.login("9876510022", "Bilal").await;
    let chen = api.login("9876510023", "Chen").await;
    let with_bilal = api.direct_chat(&asha, &bilal.user_id()).await;
    let with_chen = api.direct_chat(&asha, &chen.user_id()).await;
    // One file in two chats: deleting one message leaves the file stored.
    let (file, sent) = share(&api, &asha, voice_note(), &[&with_bilal, &with_chen]).await;
    let bilals = link_url(&api, &bilal, &file).await;
    let chens = link_url(&api, &chen, &file).await;
    assert_eq!(through(&api, &bilals).await.0, StatusCode::OK);

    let delete = format!("/api/messages/{}?for=everyone", id(&sent[0]));
    assert_eq!(api.call(Method::DELETE, &delete, Some(&asha.token), None).await.status, StatusCode::NO_CONTENT);
    let expected = (StatusCode::NOT_FOUND, "attachment_not_found".to_owned());
    assert_eq!(through(&api, &bilals).await, expected, "Bilal's message is gone, and his link with it");
    assert_eq!(through(&api, &chens).await.0, StatusCode::OK, "Chen still has the file in his chat");

    // A group: a link follows the rule of the token, also after its user leaves.
    let group = api.create_group(&asha, "Band", &[&bilal, &chen]).await;
    let group = id(&group);
    let (before, _) = share(&api, &asha, voice_note(), &[&group]).await;
    let chens = link_url(&api, &chen, &before).await;
    let leave = format!("/api/chats/{group}/members/{}", chen.user_id());
    assert!(api.call(Method::DELETE, &leave, Some(&chen.token), None).await.status.is_success());
    let (after, _) = share(&api, &asha, voice_note(), &[&group]).await;
    let by_token = |file: String| {
        let (api, token) = (api.clone(), chen.token.clone());
        async move { api.get_raw(&format!("/api/attachments/{file}"), &token, &[]).await.status() }
    };
    assert_eq!(through(&api, &chens).await.0, by_token(before.clone()).await, "as the token: history kept");
    assert_eq!(by_token(after.clone()).await, StatusCode::NOT_FOUND);
    let refused = link(&api, &chen, &after).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "no link to what was sent after leaving");
    // Removed by an admin: the same.
    let (kept, _) = share(&api, &asha, voice_note(), &[&group]).await;
    let bilals = link_url(&api, &bilal, &kept).await;
    let remove = format!("/api/chats/{group}/members/{}", bilal.user_id());
    assert!(api.call(Method::DELETE, &remove, Some(&asha.token), None).await.status.is_success());
    assert_eq!(through(&api, &bilals).await.0, StatusCode::OK, "his history up to his removal stays");
}

/// Links that last two seconds.
mod expiry {
    use super::*;

    on_both_backends!(env = [("ATTACHMENT_LINK_TTL", "2s")]; an_expired_link_is_refused_and_a_fresh_one_works,);

    async fn an_expired_link_is_refused_and_a_fresh_one_works(server: TestServer) {
        let api = server.client();
        let asha = api.login("9876510031", "Asha").await;
        let bilal = api.login("9876510032", "Bilal").await;
        let chat = api.direct_chat(&asha, &bilal.user_id()).await;
        let (file, _) = share(&api, &asha, voice_note(), &[&chat]).await;
        let issued = link(&api, &bilal, &file).await;
        let url = issued.body["url"].as_str().unwrap().to_owned();
        let expires_at: chrono::DateTime<chrono::Utc> = issued.body["expires_at"].as_str().unwrap().parse().unwrap();
        // Waiting is the point: the link must outlive nothing but its time.
        let left = (expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(left + std::time::Duration::from_millis(50)).await;
        assert_eq!(through(&api, &url).await, (StatusCode::FORBIDDEN, "link_expired".to_owned()));
        let range = api.get_raw_as(&url, None, &[("range", "bytes=100-")]).await;
        assert_eq!(range.status(), StatusCode::FORBIDDEN, "a seek with an old link too");
        let fresh = link_url(&api, &bilal, &file).await;
        assert_eq!(through(&api, &fresh).await.0, StatusCode::OK, "a fresh link works again");
    }
}
