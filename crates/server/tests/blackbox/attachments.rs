//! Black-box: photos, videos, voice notes and documents. An upload is streamed to
//! storage, typed by its bytes, thumbnailed when it is an image, sent by id and
//! downloaded (with ranges) by the chat's members only; an upload over
//! `MAX_UPLOAD_SIZE` leaves nothing behind, and deleting the last message that
//! carries a file removes it.

use chitchat_domain::ports::AttachmentRepo;
use chitchat_store_sql::{Store, StoreConfig};
use chitchat_testkit::client::Reply;
use chitchat_testkit::files::files_under;
use chitchat_testkit::{ApiClient, Login, TestServer};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::Cursor;

/// Small enough that the oversized test stays quick.
const LIMIT: &str = "1048576";

on_both_backends!(env = [("MAX_UPLOAD_SIZE", crate::attachments::LIMIT)];
    a_photo_goes_from_upload_to_the_other_members_download_with_its_thumbnail,
    strangers_are_told_an_attachment_does_not_exist,
    an_oversized_upload_is_refused_and_leaves_nothing_behind,
    the_type_is_taken_from_the_bytes_not_the_name,
    byte_ranges_are_served_and_out_of_range_is_416,
    deleting_the_last_message_that_carries_a_file_removes_it,
    a_file_sent_over_the_websocket_arrives_live_with_its_attachments,
);

struct People {
    api: ApiClient,
    asha: Login,
    bilal: Login,
    chen: Login,
    chat: String,
}

/// Asha and Bilal share a direct chat; Chen is a stranger to it.
async fn people(server: &TestServer) -> People {
    let api = server.client();
    let asha = api.login("9876500001", "Asha").await;
    let bilal = api.login("9876500002", "Bilal").await;
    let chen = api.login("9876500003", "Chen").await;
    let chat = api.direct_chat(&asha, &bilal.user_id()).await;
    People { api, asha, bilal, chen, chat }
}

fn photo(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(image).write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
    bytes
}

fn created(reply: &Reply) -> Value {
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body.clone()
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

async fn send_files(
    api: &ApiClient,
    who: &Login,
    chat: &str,
    content_type: &str,
    ids: &[&str],
    caption: &str,
) -> Reply {
    let body = json!({ "chat_id": chat, "content_type": content_type, "content": caption, "attachment_ids": ids });
    api.post("/api/messages", &who.token, body).await
}

/// Status and body of a download.
async fn download(api: &ApiClient, who: &Login, path: &str, headers: &[(&str, &str)]) -> (StatusCode, Vec<u8>) {
    let response = api.get_raw(path, &who.token, headers).await;
    (response.status(), response.bytes().await.unwrap().to_vec())
}

async fn a_photo_goes_from_upload_to_the_other_members_download_with_its_thumbnail(server: TestServer) {
    let People { api, asha, bilal, chat, .. } = people(&server).await;
    let bytes = photo(800, 600);
    let uploaded = created(&api.upload(&asha.token, "beach.png", bytes.clone()).await);
    assert_eq!(uploaded["kind"], "image");
    assert_eq!(uploaded["mime_type"], "image/png");
    assert_eq!(uploaded["name"], "beach.png");
    assert_eq!((uploaded["width"].as_i64(), uploaded["height"].as_i64()), (Some(800), Some(600)));
    assert_eq!(uploaded["size"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(uploaded["has_thumbnail"], true);

    let sent = created(&send_files(&api, &asha, &chat, "image", &[&id(&uploaded)], "").await);
    assert_eq!(sent["content_type"], "image");
    assert_eq!(sent["content"], "", "the caption is optional");
    assert_eq!(sent["attachments"], json!([uploaded.clone()]));

    let history = api.get(&format!("/api/messages?chat_id={chat}"), &bilal.token).await;
    let received = &history.body["messages"][0];
    assert_eq!(received["attachments"][0]["id"], uploaded["id"], "Bilal's history carries it");

    let path = format!("/api/attachments/{}", id(&uploaded));
    let response = api.get_raw(&path, &bilal.token, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header("content-type").as_deref(), Some("image/png"));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(header("content-disposition").unwrap().starts_with("inline"), "{:?}", header("content-disposition"));
    assert!(header("cache-control").unwrap().starts_with("private"));
    let etag = header("etag").expect("an ETag");
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes, "the very bytes uploaded");
    let (status, _) = download(&api, &bilal, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    let (status, thumbnail) = download(&api, &bilal, &format!("{path}/thumbnail"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let small = image::load_from_memory(&thumbnail).expect("the thumbnail is an image");
    assert!(small.width() <= 320 && small.height() <= 320, "{}x{}", small.width(), small.height());
    assert_eq!((small.width(), small.height()), (320, 240), "aspect kept");
}

async fn strangers_are_told_an_attachment_does_not_exist(server: TestServer) {
    let People { api, asha, bilal, chen, chat } = people(&server).await;
    let uploaded = created(&api.upload(&asha.token, "plan.pdf", b"%PDF-1.4 secret plan".to_vec()).await);
    let path = format!("/api/attachments/{}", id(&uploaded));
    let (status, _) = download(&api, &bilal, &path, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not before it is sent, even to the other member");
    let (status, _) = download(&api, &asha, &path, &[]).await;
    assert_eq!(status, StatusCode::OK, "the uploader may");

    created(&send_files(&api, &asha, &chat, "document", &[&id(&uploaded)], "the plan").await);
    assert_eq!(download(&api, &bilal, &path, &[]).await.0, StatusCode::OK);
    let stranger = api.get(&path, &chen.token).await;
    assert_eq!((stranger.status, stranger.error_code()), (StatusCode::NOT_FOUND, "attachment_not_found"));
    let unknown = api.get("/api/attachments/not-an-id", &chen.token).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let anonymous = api.call(Method::GET, &path, None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // Nor may anyone send someone else's upload.
    let chen_and_bilal = api.direct_chat(&chen, &bilal.user_id()).await;
    let stolen = send_files(&api, &chen, &chen_and_bilal, "document", &[&id(&uploaded)], "").await;
    assert_eq!((stolen.status, stolen.error_code()), (StatusCode::NOT_FOUND, "attachment_not_found"));
}

async fn an_oversized_upload_is_refused_and_leaves_nothing_behind(server: TestServer) {
    let People { api, asha, .. } = people(&server).await;
    let limit: usize = LIMIT.parse().unwrap();
    let reply = api.upload(&asha.token, "film.mp4", vec![0x42; limit * 3]).await;
    assert_eq!((reply.status, reply.error_code()), (StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large"));
    let just_fits = created(&api.upload(&asha.token, "fits.bin", vec![0x42; limit]).await);
    assert_eq!(just_fits["size"].as_u64(), Some(limit as u64));

    // Only the file that fitted is on disk, and only it is in the database.
    let on_disk = files_under(&server.data_dir().join("attachments"));
    assert_eq!(on_disk.len(), 1, "{on_disk:?}");
    assert!(on_disk[0].ends_with(&id(&just_fits)), "{on_disk:?}");
    let store = Store::connect(&StoreConfig { url: server.database_url.clone(), max_connections: 1 }).await.unwrap();
    let everything = store.remove_orphans(chrono::Utc::now() + chrono::Duration::days(1), 100).await.unwrap();
    let ids: Vec<String> = everything.iter().map(|a| a.id().to_string()).collect();
    assert_eq!(ids, vec![id(&just_fits)], "no row of the refused upload");
}

async fn the_type_is_taken_from_the_bytes_not_the_name(server: TestServer) {
    let People { api, asha, bilal, chat, .. } = people(&server).await;
    let pdf = created(&api.upload(&asha.token, "cat.png", b"%PDF-1.7\n1 0 obj << >> endobj".to_vec()).await);
    assert_eq!((pdf["kind"].as_str(), pdf["mime_type"].as_str()), (Some("document"), Some("application/pdf")));
    assert_eq!((pdf["width"].clone(), pdf["has_thumbnail"].clone()), (Value::Null, json!(false)));
    let text = created(&api.upload(&asha.token, "dog.png", "just some notes, नमस्ते".as_bytes().to_vec()).await);
    assert_eq!((text["kind"].as_str(), text["mime_type"].as_str()), (Some("document"), Some("text/plain")));
    let page = created(&api.upload(&asha.token, "x.jpg", b"<html><script>alert(1)</script></html>".to_vec()).await);
    assert_eq!((page["kind"].as_str(), page["mime_type"].as_str()), (Some("document"), Some("text/html")));

    let as_photo = send_files(&api, &asha, &chat, "image", &[&id(&pdf)], "").await;
    assert_eq!(
        (as_photo.status, as_photo.error_code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "attachment_kind_mismatch")
    );
    created(&send_files(&api, &asha, &chat, "document", &[&id(&pdf), &id(&text), &id(&page)], "").await);

    let response = api.get_raw(&format!("/api/attachments/{}", id(&text)), &bilal.token, &[]).await;
    let header = |name: &str| response.headers().get(name).unwrap().to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "text/plain");
    assert!(header("content-disposition").starts_with("attachment"), "documents are only downloaded");
    assert!(header("content-disposition").contains("filename*=UTF-8''dog.png"), "{}", header("content-disposition"));
    let response = api.get_raw(&format!("/api/attachments/{}", id(&page)), &bilal.token, &[]).await;
    let header = |name: &str| response.headers().get(name).unwrap().to_str().unwrap().to_owned();
    assert!(header("content-disposition").starts_with("attachment"), "an HTML file is downloaded, never shown");
    assert!(header("content-security-policy").contains("sandbox"));
    let thumbnail = api.get(&format!("/api/attachments/{}/thumbnail", id(&pdf)), &bilal.token).await;
    assert_eq!(thumbnail.status, StatusCode::NOT_FOUND);
}

async fn byte_ranges_are_served_and_out_of_range_is_416(server: TestServer) {
    let People { api, asha, .. } = people(&server).await;
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let uploaded = created(&api.upload(&asha.token, "clip.bin", bytes.clone()).await);
    let path = format!("/api/attachments/{}", id(&uploaded));

    let response = api.get_raw(&path, &asha.token, &[("range", "bytes=1000-1999")]).await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    let content_range = response.headers().get("content-range").unwrap().to_str().unwrap().to_owned();
    assert_eq!(content_range, "bytes 1000-1999/100000");
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes[1000..2000]);

    let (status, tail) = download(&api, &asha, &path, &[("range", "bytes=-10")]).await;
    assert_eq!((status, tail), (StatusCode::PARTIAL_CONTENT, bytes[99_990..].to_vec()));
    let (status, rest) = download(&api, &asha, &path, &[("range", "bytes=99000-")]).await;
    assert_eq!((status, rest.len()), (StatusCode::PARTIAL_CONTENT, 1000));

    let response = api.get_raw(&path, &asha.token, &[("range", "bytes=100000-100010")]).await;
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(response.headers().get("content-range").unwrap(), "bytes */100000");
    let (status, whole) = download(&api, &asha, &path, &[("range", "lines=1-2")]).await;
    assert_eq!((status, whole.len()), (StatusCode::OK, bytes.len()), "an unknown unit gets the whole file");
}

async fn deleting_the_last_message_that_carries_a_file_removes_it(server: TestServer) {
    let People { api, asha, bilal, chen, chat } = people(&server).await;
    let uploaded = created(&api.upload(&asha.token, "song.ogg", b"OggS\0\x02 a voice note".to_vec()).await);
    assert_eq!(uploaded["kind"], "audio");
    let path = format!("/api/attachments/{}", id(&uploaded));
    let sent = created(&send_files(&api, &asha, &chat, "audio", &[&id(&uploaded)], "").await);
    // Bilal forwards it to Chen: the copy carries the same stored file.
    let bilal_and_chen = api.direct_chat(&bilal, &chen.user_id()).await;
    let forward = json!({ "chat_ids": [bilal_and_chen] });
    let copies = api.post(&format!("/api/messages/{}/forward", id(&sent)), &bilal.token, forward).await;
    assert_eq!(copies.status, StatusCode::CREATED, "{:?}", copies.body);
    let copy = copies.body["messages"][0].clone();
    assert_eq!(copy["attachments"][0]["id"], uploaded["id"]);
    assert_eq!(download(&api, &chen, &path, &[]).await.0, StatusCode::OK);

    let delete = |who: &Login, message: &Value| {
        let path = format!("/api/messages/{}?for=everyone", id(message));
        let token = who.token.clone();
        let api = api.clone();
        async move { api.call(Method::DELETE, &path, Some(&token), None).await }
    };
    assert_eq!(delete(&asha, &sent).await.status, StatusCode::NO_CONTENT);
    assert_eq!(download(&api, &chen, &path, &[]).await.0, StatusCode::OK, "the forwarded copy keeps the file");
    assert_eq!(download(&api, &bilal, &path, &[]).await.0, StatusCode::OK, "so does Bilal, who forwarded it");
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &bilal.token).await;
    assert_eq!(history.body["messages"][0]["attachments"], json!([]), "the deleted message carries nothing");

    assert_eq!(delete(&bilal, &copy).await.status, StatusCode::NO_CONTENT);
    assert_eq!(download(&api, &chen, &path, &[]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(download(&api, &asha, &path, &[]).await.0, StatusCode::NOT_FOUND, "gone for its uploader too");
    assert_eq!(files_under(&server.data_dir().join("attachments")), Vec::<String>::new(), "the file is removed");
}

async fn a_file_sent_over_the_websocket_arrives_live_with_its_attachments(server: TestServer) {
    let People { api, asha, bilal, chat, .. } = people(&server).await;
    let uploaded = created(&api.upload(&asha.token, "photo.png", photo(40, 30)).await);
    let mut bilal_ws = api.ws(&bilal.token).await;
    let mut asha_ws = api.ws(&asha.token).await;
    let payload = json!({ "content_type": "image", "attachment_ids": [id(&uploaded)], "client_msg_id": "p-1" });
    asha_ws.send_json(json!({ "id": "f1", "type": "message", "room_id": chat, "payload": payload })).await;
    let ack = asha_ws.next_of_type("ack").await;
    assert_eq!(ack["payload"]["attachments"][0]["id"], uploaded["id"], "{ack}");
    let frame = bilal_ws.next_of_type("message").await;
    assert_eq!(frame["payload"]["content_type"], "image");
    assert_eq!(frame["payload"]["attachments"], json!([uploaded]));
}
