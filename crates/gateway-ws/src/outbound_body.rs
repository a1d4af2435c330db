//! The body of the socket's upgrade response: the device's outbox, written as
//! WebSocket frames (RFC 6455, unmasked from a server) as the connection can take
//! them.

use crate::outbox::{Outbox, Outgoing};
use actix_http::ws::{OpCode, Parser};
use actix_web::web::{Bytes, BytesMut};
use actix_ws::Message;
use futures_util::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Bytes written per poll at most: the connection flushes them before it asks
/// for more, so a long queue goes out in pieces and stays counted as waiting.
const WRITE_BUDGET: usize = 64 * 1024;

/// Control frames carry at most 125 bytes (RFC 6455 §5.5): a close frame, a
/// 2-byte code and a reason of at most 123.
const MAX_CLOSE_REASON_BYTES: usize = 123;

pub(crate) struct OutboundBody {
    outbox: Arc<Outbox>,
}

impl OutboundBody {
    pub(crate) fn new(outbox: Arc<Outbox>) -> Self {
        Self { outbox }
    }
}

fn encode(frame: Outgoing, buf: &mut BytesMut) {
    let message = match frame {
        Outgoing::Shared(text) => return Parser::write_message(buf, text.as_bytes(), OpCode::Text, true, false),
        Outgoing::Own(message) => message,
    };
    match message {
        Message::Text(text) => Parser::write_message(buf, text.as_bytes(), OpCode::Text, true, false),
        Message::Binary(bytes) => Parser::write_message(buf, bytes, OpCode::Binary, true, false),
        Message::Ping(bytes) => Parser::write_message(buf, bytes, OpCode::Ping, true, false),
        Message::Pong(bytes) => Parser::write_message(buf, bytes, OpCode::Pong, true, false),
        Message::Close(mut reason) => {
            if let Some(description) = reason.as_mut().and_then(|reason| reason.description.as_mut()) {
                let mut end = description.len().min(MAX_CLOSE_REASON_BYTES);
                while !description.is_char_boundary(end) {
                    end -= 1;
                }
                description.truncate(end);
            }
            Parser::write_close(buf, reason, false);
        }
        // The gateway sends whole messages only.
        Message::Continuation(_) | Message::Nop => {}
    }
}

impl Stream for OutboundBody {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut buf = BytesMut::new();
        self.outbox
            .write_waiting(cx, |frame| {
                encode(frame, &mut buf);
                buf.len() < WRITE_BUDGET
            })
            .map(|written| written.map(|()| Ok(buf.freeze())))
    }
}

impl Drop for OutboundBody {
    fn drop(&mut self) {
        self.outbox.writer_gone();
    }
}
