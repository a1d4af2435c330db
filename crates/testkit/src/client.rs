//! Typed clients that speak to a running server as a real client would.

use crate::server::TEST_OTP_CODE;
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long a test waits for a frame that should come.
pub const FRAME_WAIT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct ApiClient {
    pub base: String,
    pub ws_base: String,
    http: reqwest::Client,
}

/// A logged-in device.
#[derive(Debug, Clone)]
pub struct Login {
    pub token: String,
    pub user: Value,
}

impl Login {
    pub fn user_id(&self) -> String {
        self.user["id"].as_str().expect("user id").to_owned()
    }
}

/// A response: status and JSON body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The `error.code` of an error body.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl ApiClient {
    pub fn new(base: &str, ws_base: &str) -> Self {
        Self { base: base.to_owned(), ws_base: ws_base.to_owned(), http: reqwest::Client::new() }
    }

    /// Sends a request; `body` as JSON when given.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.finish(request).await
    }

    /// Sends raw bytes as `application/json` (for malformed bodies).
    pub async fn post_raw(&self, path: &str, token: Option<&str>, raw: &str) -> Reply {
        let mut request = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/json")
            .body(raw.to_owned());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.finish(request).await
    }

    async fn finish(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("server answers");
        let status = response.status();
        let text = response.text().await.expect("response body");
        Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Requests a code and logs in with the test code; a new device session each time.
    pub async fn login(&self, phone: &str, name: &str) -> Login {
        let otp = self.call(Method::POST, "/api/auth/otp", None, Some(json!({ "phone": phone }))).await;
        assert_eq!(otp.status, StatusCode::ACCEPTED, "otp: {:?}", otp.body);
        let reply = self
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({ "phone": phone, "name": name, "code": TEST_OTP_CODE })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "register: {:?}", reply.body);
        Login { token: reply.body["token"].as_str().expect("token").to_owned(), user: reply.body["user"].clone() }
    }

    /// The two people most tests start with, Asha and Ravi, each logged in on one device.
    pub async fn asha_and_ravi(&self) -> (Login, Login) {
        (self.login("9876543210", "Asha").await, self.login("9876543211", "Ravi").await)
    }

    /// Asha and Ravi logged in, and their direct chat opened by Asha; the third value is its id.
    pub async fn asha_and_ravi_in_a_chat(&self) -> (Login, Login, String) {
        let (asha, ravi) = self.asha_and_ravi().await;
        let chat = self.direct_chat(&asha, &ravi.user_id()).await;
        (asha, ravi, chat)
    }

    /// Opens (or finds) the direct chat of `login` with `other_user_id`; returns the chat id.
    pub async fn direct_chat(&self, login: &Login, other_user_id: &str) -> String {
        let reply =
            self.post("/api/chats", &login.token, json!({ "type": "direct", "user_ids": [other_user_id] })).await;
        assert!(reply.status.is_success(), "create chat: {} {:?}", reply.status, reply.body);
        reply.body["id"].as_str().expect("chat id").to_owned()
    }

    /// Opens the direct chat of `a` and `b`, and each writes in it once: they have
    /// exchanged messages, so each sees the other's presence. Returns the chat id.
    pub async fn exchange_messages(&self, a: &Login, b: &Login) -> String {
        let chat = self.direct_chat(a, &b.user_id()).await;
        for (who, text) in [(a, "hi"), (b, "hello")] {
            let sent = self.send_text(who, &chat, text, None).await;
            assert!(sent.status.is_success(), "exchange: {} {:?}", sent.status, sent.body);
        }
        chat
    }

    /// Creates a group of `owner` with `members`; returns its ChatView.
    pub async fn create_group(&self, owner: &Login, name: &str, members: &[&Login]) -> Value {
        let ids: Vec<String> = members.iter().map(|m| m.user_id()).collect();
        let reply =
            self.post("/api/chats", &owner.token, json!({ "type": "group", "name": name, "user_ids": ids })).await;
        assert_eq!(reply.status, StatusCode::CREATED, "create group: {:?}", reply.body);
        reply.body
    }

    /// Sends a text message over REST.
    pub async fn send_text(&self, login: &Login, chat_id: &str, content: &str, client_msg_id: Option<&str>) -> Reply {
        let mut body = json!({ "chat_id": chat_id, "content": content, "content_type": "text" });
        if let Some(id) = client_msg_id {
            body["client_msg_id"] = json!(id);
        }
        self.post("/api/messages", &login.token, body).await
    }

    /// Uploads `bytes` as the multipart field `file` named `file_name` to
    /// `POST /api/attachments`.
    pub async fn upload(&self, token: &str, file_name: &str, bytes: Vec<u8>) -> Reply {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned());
        let form = reqwest::multipart::Form::new().text("note", "ignored").part("file", part);
        let request = self.http.post(format!("{}/api/attachments", self.base)).bearer_auth(token).multipart(form);
        self.finish(request).await
    }

    /// `GET path` with the token and extra headers; the raw response, for bodies
    /// that are not JSON (attachments).
    pub async fn get_raw(&self, path: &str, token: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        self.get_raw_as(path, Some(token), headers).await
    }

    /// `get_raw`, with a token or without one (as a media element asks for a signed URL).
    pub async fn get_raw_as(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("server answers")
    }

    /// Opens a WebSocket for the device; panics when refused.
    pub async fn ws(&self, token: &str) -> WsClient {
        self.ws_with(token, "").await
    }

    /// Opens a WebSocket that will `resume` first (`?resume=1`): live events wait until then.
    pub async fn ws_resuming(&self, token: &str) -> WsClient {
        self.ws_with(token, "&resume=1").await
    }

    /// Opens a WebSocket whose receive buffer in the kernel is about `bytes` and
    /// stays so (it does not grow with the traffic): a client that stops reading
    /// then holds up the server's sends after little data.
    pub async fn ws_with_receive_buffer(&self, token: &str, bytes: u32) -> WsClient {
        let address = self.ws_base.trim_start_matches("ws://");
        let tcp = tokio::net::TcpSocket::new_v4().expect("tcp socket");
        tcp.set_recv_buffer_size(bytes).expect("SO_RCVBUF");
        let stream = tcp.connect(address.parse().expect("ip:port")).await.expect("tcp connect");
        let url = format!("{}/ws?token={}", self.ws_base, token);
        let (socket, _) = tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .expect("websocket upgrade");
        WsClient { socket }
    }

    /// Opens a WebSocket with the `Accept-Encoding` browsers send on every request,
    /// the upgrade included.
    pub async fn ws_accepting_compression(&self, token: &str) -> WsClient {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("{}/ws?token={}", self.ws_base, token).into_client_request().expect("ws request");
        request.headers_mut().insert("accept-encoding", "gzip, deflate, br, zstd".parse().expect("header value"));
        let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket upgrade");
        WsClient { socket }
    }

    async fn ws_with(&self, token: &str, extra_query: &str) -> WsClient {
        self.try_ws_with(token, extra_query).await.expect("websocket upgrade")
    }

    /// Like `ws_resuming`, but a refused or failed connection is returned, not a
    /// panic: a client moving between instances tries another one.
    pub async fn try_ws_resuming(&self, token: &str) -> Result<WsClient, tokio_tungstenite::tungstenite::Error> {
        self.try_ws_with(token, "&resume=1").await
    }

    async fn try_ws_with(
        &self,
        token: &str,
        extra_query: &str,
    ) -> Result<WsClient, tokio_tungstenite::tungstenite::Error> {
        let url = format!("{}/ws?token={}{}", self.ws_base, token, extra_query);
        let (socket, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(WsClient { socket })
    }

    /// Tries a WebSocket upgrade and returns the HTTP status of a refusal.
    pub async fn ws_refusal(&self, query: &str) -> u16 {
        let url = format!("{}/ws{}", self.ws_base, query);
        match tokio_tungstenite::connect_async(url).await {
            Ok(_) => 101,
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
            Err(other) => panic!("unexpected websocket error: {other}"),
        }
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a socket ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketEnd {
    /// The server sent a close frame (with this code).
    Closed(Option<u16>),
    /// The connection ended without a close frame.
    Dropped,
    /// It did not end in the time given.
    StillOpen,
}

/// One device's WebSocket.
pub struct WsClient {
    socket: Socket,
}

impl WsClient {
    pub async fn send_json(&mut self, frame: Value) {
        self.socket.send(WsMessage::text(frame.to_string())).await.expect("websocket send");
    }

    /// Sends a frame; false when the connection has ended.
    pub async fn try_send_json(&mut self, frame: Value) -> bool {
        self.socket.send(WsMessage::text(frame.to_string())).await.is_ok()
    }

    /// The next JSON text frame within `wait`, of any type, or how the socket
    /// ended (`StillOpen` when nothing came in time).
    pub async fn next_frame_or_end(&mut self, wait: Duration) -> Result<Value, SocketEnd> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return Err(SocketEnd::StillOpen),
                Ok(None) | Ok(Some(Err(_))) => return Err(SocketEnd::Dropped),
                Ok(Some(Ok(WsMessage::Close(frame)))) => {
                    return Err(SocketEnd::Closed(frame.map(|f| u16::from(f.code))))
                }
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    return Ok(serde_json::from_str(text.as_str()).expect("JSON frame"))
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn send_text(&mut self, raw: &str) {
        self.socket.send(WsMessage::text(raw.to_owned())).await.expect("websocket send");
    }

    /// Sends one WebSocket frame as built (masked, as a client must), for frames
    /// that no well-behaved client would send: binary, fragments out of order,
    /// invalid UTF-8, reserved opcodes.
    pub async fn send_frame(&mut self, frame: Frame) {
        self.socket.send(WsMessage::Frame(frame)).await.expect("websocket send");
    }

    /// Writes `bytes` straight to the TCP connection, past the WebSocket framing
    /// (for example an unmasked frame, which the library would never write).
    pub async fn send_raw_bytes(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        let stream = self.socket.get_mut();
        stream.write_all(bytes).await.expect("tcp write");
        stream.flush().await.expect("tcp flush");
    }

    /// The next JSON text frame within `wait`, of any type; None on timeout or close.
    async fn next_any_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next()).await.ok()??.ok()?;
            match message {
                WsMessage::Text(text) => return Some(serde_json::from_str(text.as_str()).expect("JSON frame")),
                WsMessage::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The next JSON text frame within `wait`, passing over `presence` frames (who
    /// comes and goes is asynchronous to everything else; presence tests ask for
    /// them by type); None on timeout or close.
    pub async fn next_json_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_any_within(left).await?;
            if frame["type"] != "presence" {
                return Some(frame);
            }
        }
    }

    /// Reads (and discards) frames until the socket ends, for at most `wait`.
    pub async fn wait_for_end(&mut self, wait: Duration) -> SocketEnd {
        self.frames_until_end(wait).await.1
    }

    /// Reads frames until the socket ends, for at most `wait`; returns the JSON text
    /// frames read (presence included) and how the socket ended.
    pub async fn frames_until_end(&mut self, wait: Duration) -> (Vec<Value>, SocketEnd) {
        let deadline = tokio::time::Instant::now() + wait;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame_or_end(left).await {
                Ok(frame) => frames.push(frame),
                Err(end) => return (frames, end),
            }
        }
    }

    /// The next JSON frame; panics when none comes in time.
    pub async fn next_json(&mut self) -> Value {
        self.next_json_within(FRAME_WAIT).await.expect("a frame within the wait")
    }

    /// The next frame of `kind`, skipping others; panics when none comes in time.
    pub async fn next_of_type(&mut self, kind: &str) -> Value {
        self.next_where(kind, |_| true).await
    }

    /// The next frame of `kind` for which `wanted` holds, skipping others; panics
    /// when none comes in time.
    pub async fn next_where(&mut self, kind: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + FRAME_WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_any_within(left).await.unwrap_or_else(|| panic!("no matching {kind} frame in time"));
            if frame["type"] == kind && wanted(&frame) {
                return frame;
            }
        }
    }

    /// Sends `resume` with `positions` (chat id to `event_seq`) and reads up to its
    /// answer; returns the durable frames replayed before it (those with an
    /// `event_seq`) and the answer.
    pub async fn resume(&mut self, frame_id: &str, positions: Value) -> (Vec<Value>, Value) {
        self.send_json(json!({ "id": frame_id, "type": "resume", "payload": { "chats": positions } })).await;
        let mut replayed = Vec::new();
        loop {
            let frame = self.next_json().await;
            if frame["id"] == frame_id {
                return (replayed, frame);
            }
            if frame.get("event_seq").is_some() {
                replayed.push(frame);
            }
        }
    }

    /// True when no frame arrives within `wait`, apart from `presence` frames
    /// (people coming and going is not what these checks are about).
    pub async fn silent_for(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_any_within(left).await {
                None => return true,
                Some(frame) if frame["type"] == "presence" => continue,
                Some(_) => return false,
            }
        }
    }

    /// All frames of `kind` that arrive within `wait`.
    pub async fn collect_of_type(&mut self, kind: &str, wait: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut found = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_any_within(left).await {
                None => return found,
                Some(frame) if frame["type"] == kind => found.push(frame),
                Some(_) => {}
            }
        }
    }

    /// Sends a message frame and returns the server's reply to it (ack or error).
    pub async fn send_message(&mut self, frame_id: &str, chat_id: &str, content: &str, client_msg_id: &str) -> Value {
        self.send_json(serde_json::json!({
            "id": frame_id,
            "type": "message",
            "room_id": chat_id,
            "payload": { "content": content, "content_type": "text", "client_msg_id": client_msg_id }
        }))
        .await;
        loop {
            let frame = self.next_json().await;
            if frame["id"] == frame_id {
                return frame;
            }
        }
    }
}
