//! The client's messages, read from the upgraded connection with actix-http's
//! WebSocket codec: frames over the limit are refused on their header, and a
//! message in fragments is put together up to the same limit.
//!
//! The gateway reads them itself rather than through actix-ws's `handle`, which
//! builds its stream only together with a session channel and a response body
//! that the gateway never uses (it writes from the outbox, see `outbound_body`):
//! about 2 KiB per socket, idle or not.

use crate::frame_scanner::{FrameScanner, TooLong};
use actix_codec::Decoder;
use actix_http::ws::{Codec, Frame, Item, ProtocolError};
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::web::{Bytes, BytesMut};
use actix_ws::AggregatedMessage;
use bytestring::ByteString;
use futures_util::Stream;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Why the client's messages ended before the connection did.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("a frame or message over the size limit")]
    TooLarge,
    #[error("a text message that is not UTF-8")]
    NotUtf8,
    #[error("the WebSocket protocol was broken: {0}")]
    Protocol(ProtocolError),
    #[error("the connection failed: {0}")]
    Connection(PayloadError),
}

impl From<ProtocolError> for FrameError {
    fn from(error: ProtocolError) -> Self {
        match error {
            ProtocolError::Overflow => Self::TooLarge,
            other => Self::Protocol(other),
        }
    }
}

/// A message arriving in fragments.
struct Fragments {
    text: bool,
    so_far: BytesMut,
}

pub(crate) struct ClientFrames {
    payload: Payload,
    scanner: FrameScanner,
    codec: Codec,
    /// Bytes read that are not yet a whole frame.
    unparsed: BytesMut,
    fragments: Option<Fragments>,
    max_message_bytes: usize,
    /// The client's bytes have ended: what is buffered is all there is.
    read_all: bool,
    /// An error was reported: nothing follows it.
    failed: bool,
}

impl ClientFrames {
    /// The messages in `payload`, each (and each frame) at most `max_message_bytes`.
    pub(crate) fn new(payload: Payload, max_message_bytes: usize) -> Self {
        Self {
            payload,
            scanner: FrameScanner::new(max_message_bytes),
            codec: Codec::new().max_size(max_message_bytes),
            unparsed: BytesMut::new(),
            fragments: None,
            max_message_bytes,
            read_all: false,
            failed: false,
        }
    }

    fn fail(&mut self, error: FrameError) -> Poll<Option<Result<AggregatedMessage, FrameError>>> {
        self.failed = true;
        self.fragments = None;
        self.unparsed = BytesMut::new();
        Poll::Ready(Some(Err(error)))
    }

    /// The message `frame` completes, if it completes one.
    fn assemble(&mut self, frame: Frame) -> Result<Option<AggregatedMessage>, FrameError> {
        let item = match frame {
            Frame::Text(bytes) => return text(bytes).map(|text| Some(AggregatedMessage::Text(text))),
            Frame::Binary(bytes) => return Ok(Some(AggregatedMessage::Binary(bytes))),
            Frame::Ping(bytes) => return Ok(Some(AggregatedMessage::Ping(bytes))),
            Frame::Pong(bytes) => return Ok(Some(AggregatedMessage::Pong(bytes))),
            Frame::Close(reason) => return Ok(Some(AggregatedMessage::Close(reason))),
            Frame::Continuation(item) => item,
        };
        // The codec refuses a first fragment while a message is open, and a later
        // one while none is.
        let (piece, last) = match item {
            Item::FirstText(piece) => {
                self.fragments = Some(Fragments { text: true, so_far: BytesMut::new() });
                (piece, false)
            }
            Item::FirstBinary(piece) => {
                self.fragments = Some(Fragments { text: false, so_far: BytesMut::new() });
                (piece, false)
            }
            Item::Continue(piece) => (piece, false),
            Item::Last(piece) => (piece, true),
        };
        let Some(mut fragments) = self.fragments.take() else {
            return Err(FrameError::Protocol(ProtocolError::ContinuationNotStarted));
        };
        if fragments.so_far.len() + piece.len() > self.max_message_bytes {
            return Err(FrameError::TooLarge);
        }
        fragments.so_far.extend_from_slice(&piece);
        if !last {
            self.fragments = Some(fragments);
            return Ok(None);
        }
        let message = fragments.so_far.freeze();
        Ok(Some(if fragments.text {
            AggregatedMessage::Text(text(message)?)
        } else {
            AggregatedMessage::Binary(message)
        }))
    }
}

fn text(bytes: Bytes) -> Result<ByteString, FrameError> {
    ByteString::try_from(bytes).map_err(|_| FrameError::NotUtf8)
}

impl Stream for ClientFrames {
    type Item = Result<AggregatedMessage, FrameError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.failed {
                return Poll::Ready(None);
            }
            match this.codec.decode(&mut this.unparsed) {
                Ok(Some(frame)) => match this.assemble(frame) {
                    Ok(Some(message)) => return Poll::Ready(Some(Ok(message))),
                    Ok(None) => continue,
                    Err(error) => return this.fail(error),
                },
                Ok(None) => {}
                Err(error) => return this.fail(error.into()),
            }
            if this.read_all {
                return Poll::Ready(None);
            }
            if this.unparsed.is_empty() {
                // Holds no part of the connection's read buffer while the socket is idle.
                this.unparsed = BytesMut::new();
            }
            match ready!(Pin::new(&mut this.payload).poll_next(cx)) {
                Some(Ok(bytes)) => {
                    if let Err(TooLong { announced }) = this.scanner.scan(&bytes) {
                        tracing::debug!(announced, "websocket frame header over the size limit");
                        return this.fail(FrameError::TooLarge);
                    }
                    if this.unparsed.is_empty() {
                        this.unparsed = BytesMut::from(bytes);
                    } else {
                        this.unparsed.extend_from_slice(&bytes);
                    }
                }
                Some(Err(error)) => return this.fail(FrameError::Connection(error)),
                None => this.read_all = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_codec::Encoder;
    use actix_http::ws::Message;
    use futures_util::StreamExt;

    const LIMIT: usize = 1000;

    /// What a browser would send: masked frames, in the order given.
    fn client_bytes(messages: Vec<Message>) -> Vec<u8> {
        let mut codec = Codec::new().client_mode().max_size(usize::MAX);
        let mut buf = BytesMut::new();
        for message in messages {
            assert!(codec.encode(message, &mut buf).is_ok());
        }
        buf.to_vec()
    }

    /// The messages read from `bytes` arriving `chunk` bytes at a time, up to the first error.
    async fn read(bytes: &[u8], chunk: usize) -> (Vec<AggregatedMessage>, Option<FrameError>) {
        let chunks: Vec<Result<Bytes, PayloadError>> =
            bytes.chunks(chunk).map(|piece| Ok(Bytes::copy_from_slice(piece))).collect();
        let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(futures_util::stream::iter(chunks));
        let mut frames = ClientFrames::new(Payload::from(stream), LIMIT);
        let mut messages = Vec::new();
        while let Some(next) = frames.next().await {
            match next {
                Ok(message) => messages.push(message),
                Err(error) => {
                    assert!(frames.next().await.is_none(), "nothing after an error");
                    return (messages, Some(error));
                }
            }
        }
        (messages, None)
    }

    fn text(content: &str) -> AggregatedMessage {
        AggregatedMessage::Text(content.into())
    }

    #[actix_web::test]
    async fn whole_messages_come_out_as_sent_however_the_bytes_are_split() {
        let bytes = client_bytes(vec![
            Message::Text("{\"type\":\"typing\"}".into()),
            Message::Ping(Bytes::from_static(b"p")),
            Message::Text("x".repeat(LIMIT).into()),
            Message::Binary(Bytes::from_static(b"\x00\x01")),
            Message::Close(None),
        ]);
        for chunk in [1, 2, 7, 100, bytes.len()] {
            let (messages, error) = read(&bytes, chunk).await;
            assert!(error.is_none(), "chunks of {chunk}: {error:?}");
            assert_eq!(
                messages,
                vec![
                    text("{\"type\":\"typing\"}"),
                    AggregatedMessage::Ping(Bytes::from_static(b"p")),
                    text(&"x".repeat(LIMIT)),
                    AggregatedMessage::Binary(Bytes::from_static(b"\x00\x01")),
                    AggregatedMessage::Close(None),
                ],
                "chunks of {chunk}"
            );
        }
    }

    #[actix_web::test]
    async fn a_message_in_fragments_is_put_together_with_control_frames_between_passed_on_first() {
        let bytes = client_bytes(vec![
            Message::Continuation(Item::FirstText(Bytes::from_static(b"{\"type\":"))),
            Message::Ping(Bytes::from_static(b"between")),
            Message::Continuation(Item::Continue(Bytes::from_static(b"\"typ"))),
            Message::Continuation(Item::Last(Bytes::from_static(b"ing\"}"))),
            Message::Text("after".into()),
        ]);
        let (messages, error) = read(&bytes, 3).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(
            messages,
            vec![AggregatedMessage::Ping(Bytes::from_static(b"between")), text("{\"type\":\"typing\"}"), text("after")]
        );
    }

    #[actix_web::test]
    async fn fragments_that_add_up_to_more_than_the_limit_end_the_stream() {
        let half = Bytes::from(vec![b'a'; LIMIT / 2 + 1]);
        let bytes = client_bytes(vec![
            Message::Text("before".into()),
            Message::Continuation(Item::FirstText(half.clone())),
            Message::Continuation(Item::Last(half)),
            Message::Text("never read".into()),
        ]);
        let (messages, error) = read(&bytes, 64).await;
        assert_eq!(messages, vec![text("before")]);
        assert!(matches!(error, Some(FrameError::TooLarge)), "{error:?}");
    }

    #[actix_web::test]
    async fn a_frame_announcing_more_than_the_limit_is_refused_before_its_payload_arrives() {
        let mut bytes = client_bytes(vec![Message::Text("before".into())]);
        let over = client_bytes(vec![Message::Text("y".repeat(LIMIT + 1).into())]);
        // Only the header (2 + 2 + 4 bytes) and a little of the payload have arrived.
        bytes.extend_from_slice(&over[..20]);
        let (messages, error) = read(&bytes, 5).await;
        assert_eq!(messages, vec![text("before")]);
        assert!(matches!(error, Some(FrameError::TooLarge)), "{error:?}");
    }

    #[actix_web::test]
    async fn text_that_is_not_utf8_is_refused_whole_or_in_fragments() {
        let mut not_utf8 = client_bytes(vec![Message::Text("ok".into())]);
        // A text frame (opcode 1) with the bytes 0xff 0xfe, masked with zeros.
        not_utf8.extend_from_slice(&[0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]);
        let (messages, error) = read(&not_utf8, 4).await;
        assert_eq!(messages, vec![text("ok")]);
        assert!(matches!(error, Some(FrameError::NotUtf8)), "{error:?}");

        let fragments = client_bytes(vec![
            Message::Continuation(Item::FirstText(Bytes::from_static(b"\xe2\x82"))),
            Message::Continuation(Item::Last(Bytes::from_static(b"\xac"))),
            Message::Continuation(Item::FirstText(Bytes::from_static(b"\xe2"))),
            Message::Continuation(Item::Last(Bytes::from_static(b"\x28"))),
        ]);
        let (messages, error) = read(&fragments, 4).await;
        assert_eq!(messages, vec![text("€")], "a character split over fragments is whole again");
        assert!(matches!(error, Some(FrameError::NotUtf8)), "{error:?}");
    }

    #[actix_web::test]
    async fn frames_that_break_the_protocol_end_the_stream() {
        // A server's frame (unmasked) from a client.
        let unmasked = vec![0x81, 0x02, b'h', b'i'];
        // A last fragment (opcode 0, masked with zeros) with no message open.
        let stray_continuation = vec![0x80, 0x81, 0, 0, 0, 0, b'a'];
        for bytes in [unmasked, stray_continuation] {
            let (messages, error) = read(&bytes, 3).await;
            assert!(messages.is_empty());
            assert!(matches!(error, Some(FrameError::Protocol(_))), "{error:?}");
        }
    }

    #[actix_web::test]
    async fn the_stream_ends_with_the_connection_and_a_half_frame_is_dropped() {
        let mut bytes = client_bytes(vec![Message::Text("last".into())]);
        bytes.extend_from_slice(&[0x81, 0x85, 1]);
        let (messages, error) = read(&bytes, 2).await;
        assert_eq!(messages, vec![text("last")]);
        assert!(error.is_none(), "{error:?}");
    }
}
