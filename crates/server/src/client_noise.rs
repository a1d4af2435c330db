//! Log lines that clients can cause from inside the HTTP and WebSocket libraries
//! (a request that breaks HTTP, a fragmented ping) come at ERROR level from
//! actix-http. A client must not be able to raise the server's alarms, so those
//! are written at WARN instead, with their origin.

use std::fmt::Debug;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Libraries whose ERROR lines are about what a peer sent.
const PEER_FACING: &[&str] = &["actix_http", "actix_ws"];

/// An ERROR line of a library that reads what clients send.
pub(crate) fn is_peer_caused(metadata: &Metadata<'_>) -> bool {
    *metadata.level() == Level::ERROR && PEER_FACING.iter().any(|prefix| metadata.target().starts_with(prefix))
}

/// Writes each line `is_peer_caused` picks again at WARN (the output layer drops the original).
pub(crate) struct DemotePeerErrors;

impl<S: Subscriber> Layer<S> for DemotePeerErrors {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if !is_peer_caused(event.metadata()) {
            return;
        }
        let mut message = MessageText::default();
        event.record(&mut message);
        tracing::warn!(target: "chitchat::peer", origin = event.metadata().target(), "{}", message.0);
    }
}

#[derive(Default)]
struct MessageText(String);

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}
