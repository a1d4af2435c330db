//! One device's socket: client frames in, events out, heartbeats.

use crate::frames::{self, ClientFrame, SendPayload};
use crate::GatewaySettings;
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use chitchat_domain::auth::Caller;
use chitchat_domain::ports::Subscription;
use chitchat_domain::services::SendMessage;
use chitchat_domain::{DomainError, Services};
use futures_util::StreamExt;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

pub(crate) struct Connection {
    pub caller: Caller,
    pub services: Arc<Services>,
    pub settings: GatewaySettings,
}

/// Why the loop ended, for the close frame and the log.
enum Exit {
    ClientClosed,
    Reason(CloseReason),
}

fn close(code: CloseCode, description: &str) -> Exit {
    Exit::Reason(CloseReason { code, description: Some(description.to_owned()) })
}

pub(crate) async fn run(
    conn: Connection,
    mut session: Session,
    mut stream: AggregatedMessageStream,
    mut subscription: Box<dyn Subscription>,
) {
    let mut heartbeat = tokio::time::interval(conn.settings.ping_period);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();

    let exit = loop {
        tokio::select! {
            frame = subscription.next() => match frame {
                Some(frame) => {
                    if session.text(frame.to_string()).await.is_err() {
                        break Exit::ClientClosed;
                    }
                }
                // The bus dropped this device (it fell too far behind): reconnect and catch up.
                None => break close(CloseCode::Again, "resume: reconnect and reload history"),
            },
            incoming = stream.next() => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        let reply = handle_text(&conn, &text).await;
                        if session.text(reply).await.is_err() {
                            break Exit::ClientClosed;
                        }
                    }
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        let reply = frames::error(None, "invalid_frame", "send JSON text frames");
                        if session.text(reply).await.is_err() {
                            break Exit::ClientClosed;
                        }
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            break Exit::ClientClosed;
                        }
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => {}
                    Some(Ok(AggregatedMessage::Close(_))) | None => break Exit::ClientClosed,
                    Some(Err(error)) => {
                        tracing::info!(user = %conn.caller.user_id, %error, "websocket protocol error");
                        break close(CloseCode::Size, "frame too large or malformed");
                    }
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > conn.settings.pong_wait {
                    break close(CloseCode::Normal, "no pong in time");
                }
                if session.ping(b"").await.is_err() {
                    break Exit::ClientClosed;
                }
            }
        }
    };

    drop(subscription);
    tracing::info!(user = %conn.caller.user_id, session = %conn.caller.session_id, "websocket disconnected");
    if let Exit::Reason(reason) = exit {
        let _ = session.close(Some(reason)).await;
    }
}

/// Answers one client text frame with an `ack` or an `error` frame.
async fn handle_text(conn: &Connection, text: &str) -> String {
    let frame: ClientFrame = match serde_json::from_str(text) {
        Ok(frame) => frame,
        Err(_) => {
            return frames::error(None, "invalid_frame", "frames are JSON objects with a \"type\"");
        }
    };
    let id = frame.id.as_ref();
    match frame.kind.as_str() {
        "message" => match send(conn, frame.room_id.as_deref(), frame.payload).await {
            Ok(message) => frames::ack(id, &message),
            Err(error) => frames::domain_error(id, &error),
        },
        other => frames::error(id, "unknown_type", &format!("unknown frame type {other:?}")),
    }
}

async fn send(
    conn: &Connection,
    room_id: Option<&str>,
    payload: Value,
) -> Result<chitchat_domain::message::Message, DomainError> {
    let chat_id = room_id.and_then(|r| r.trim().parse().ok()).ok_or_else(DomainError::chat_not_found)?;
    let payload: SendPayload = serde_json::from_value(payload)
        .map_err(|e| DomainError::invalid("invalid_payload", format!("invalid message payload: {e}")))?;
    let appended = conn
        .services
        .messages
        .send(
            conn.caller,
            SendMessage {
                chat_id,
                content: payload.content,
                content_type: payload.content_type,
                client_msg_id: payload.client_msg_id,
            },
        )
        .await?;
    Ok(appended.message)
}
