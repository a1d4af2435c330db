//! Test support shared by every crate's tests: contract suites that each adapter
//! runs against itself, access to the PostgreSQL and Redis test services, a
//! spawner for the real `chitchat` binary, typed HTTP/WebSocket clients, and
//! real mail, push and TURN servers to talk to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod client;
pub mod contracts;
pub mod files;
pub mod mail_server;
pub mod postgres;
pub mod push_service;
pub mod redis;
pub mod server;
pub mod services;
pub mod turn_server;

pub use client::{ApiClient, Login, Reply, SocketEnd, WsClient};
pub use mail_server::{MailServer, ReceivedMail};
pub use push_service::{Answer, BrowserSubscription, PushService, ReceivedPush};
pub use server::{TestBackend, TestServer};
/// WebSocket frames as the client library builds them, for `WsClient::send_frame`.
pub use tokio_tungstenite::tungstenite::protocol::frame as ws_frame;
pub use turn_server::{RelayAttempt, TurnServer};
