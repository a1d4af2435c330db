//! The baseline for fan-out, latency and memory: a bare actix-ws server that joins
//! each connection to the room named in its query string (`/ws?room=r1`) and sends
//! every text frame it receives to every connection of that room, the sender's
//! included. No authentication, no storage, no parsing: what is left is the cost
//! of actix-web, actix-ws and one queue per connection, with their defaults.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_ws::Message;
use futures_util::StreamExt;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::mpsc;

/// What the bare server prints once it listens, followed by `http://host:port`.
pub const LISTENING: &str = "bare-broadcast listening on ";

type Outbox = mpsc::UnboundedSender<bytestring::ByteString>;

#[derive(Default)]
struct Rooms {
    members: Mutex<HashMap<String, Vec<(u64, Outbox)>>>,
    next_id: AtomicU64,
}

impl Rooms {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<(u64, Outbox)>>> {
        self.members.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn join(&self, room: &str, outbox: Outbox) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().entry(room.to_owned()).or_default().push((id, outbox));
        id
    }

    fn leave(&self, room: &str, id: u64) {
        let mut rooms = self.lock();
        if let Some(members) = rooms.get_mut(room) {
            members.retain(|(member, _)| *member != id);
            if members.is_empty() {
                rooms.remove(room);
            }
        }
    }

    /// Queues the frame (shared bytes, not copied) for every member of the room.
    fn broadcast(&self, room: &str, frame: &bytestring::ByteString) {
        if let Some(members) = self.lock().get(room) {
            for (_, outbox) in members {
                let _ = outbox.send(frame.clone());
            }
        }
    }
}

#[derive(Deserialize)]
struct RoomQuery {
    #[serde(default)]
    room: String,
}

async fn connect(
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<RoomQuery>,
    rooms: web::Data<Rooms>,
) -> actix_web::Result<HttpResponse> {
    let (response, mut session, mut stream) = actix_ws::handle(&req, body)?;
    let room = query.into_inner().room;
    let (outbox, mut inbox) = mpsc::unbounded_channel();
    let id = rooms.join(&room, outbox);
    actix_web::rt::spawn(async move {
        loop {
            tokio::select! {
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Text(text))) => rooms.broadcast(&room, &text),
                    Some(Ok(Message::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            break;
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                outgoing = inbox.recv() => match outgoing {
                    Some(frame) => {
                        if session.text(frame).await.is_err() {
                            break;
                        }
                    }
                    None => break,
                },
            }
        }
        rooms.leave(&room, id);
        let _ = session.close(None).await;
    });
    Ok(response)
}

/// Serves on `listener` until the process ends, with actix-web's default workers and
/// Nagle's algorithm off (actix-web leaves it on unless told otherwise, and then a
/// small frame written after another may wait for the client's delayed ACK).
pub async fn serve(listener: std::net::TcpListener) -> std::io::Result<()> {
    let rooms = web::Data::new(Rooms::default());
    HttpServer::new(move || App::new().app_data(rooms.clone()).route("/ws", web::get().to(connect)))
        .tcp_nodelay(true)
        .listen(listener)?
        .run()
        .await
}
