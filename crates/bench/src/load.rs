//! The load generator's parts, shared by every scenario and by both servers: a
//! WebSocket client bound to a chosen loopback source address, the frames it sends
//! and the little it reads of the frames it gets, a clock shared by all clients of
//! the process, latency histograms, and logging many users in.

use anyhow::{anyhow, Context, Result};
use chitchat_testkit::{ApiClient, Login};
use futures_util::{stream, StreamExt};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::Instant;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

pub type Socket = WebSocketStream<TcpStream>;

/// Size of the content of every message the benchmarks send, in bytes.
pub const CONTENT_BYTES: usize = 64;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Microseconds since the first call in this process; every client shares it, so a
/// time written into a message by its sender can be compared with the receiver's.
pub fn now_us() -> u64 {
    u64::try_from(EPOCH.get_or_init(Instant::now).elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// An instant on the shared clock of `now_us`.
pub fn us_at(instant: Instant) -> u64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(instant.saturating_duration_since(epoch).as_micros()).unwrap_or(u64::MAX)
}

/// Prints a progress line to stderr with the time since the previous one.
pub fn progress(what: &str) {
    static LAST: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);
    let now = Instant::now();
    let mut last = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let took = last.map_or(0.0, |at| now.duration_since(at).as_secs_f64());
    *last = Some(now);
    eprintln!("   [+{took:6.1} s] {what}");
}

/// Loopback source addresses 127.0.0.1 ..= 127.0.0.`spread`, taken in turn, so that
/// many connections do not run out of ports of one address.
pub fn source_ip(index: usize, spread: usize) -> IpAddr {
    let host = 1 + index % spread.clamp(1, 250);
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, u8::try_from(host).unwrap_or(1)))
}

/// Opens a WebSocket to `url` (`ws://127.0.0.1:PORT/...`) from `source`, with Nagle
/// off as a messaging client would.
pub async fn connect(url: &str, source: IpAddr) -> Result<Socket> {
    let authority = url.strip_prefix("ws://").context("ws:// URL")?.split('/').next().unwrap_or_default();
    let address: SocketAddr = authority.parse().with_context(|| format!("address of {url}"))?;
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(address).await.with_context(|| format!("connecting from {source}"))?;
    stream.set_nodelay(true)?;
    let (socket, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(client_config()))
        .await
        .context("websocket upgrade")?;
    Ok(socket)
}

/// Bytes a client reads from its socket at a time. tungstenite zeroes its whole read
/// buffer before every read (128 KiB by default), which made `memset` the load
/// generator's largest cost with 1,000 receivers (a tenth of the machine's CPU in a
/// profile of the fan-out scenario) and slowed both servers' measurements alike.
/// Frames larger than this still arrive whole: the buffer grows for them.
const READ_BUFFER: usize = 4096;

fn client_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(READ_BUFFER)
}

/// Opens one socket per URL, `concurrency` handshakes at a time, in the order given.
pub async fn connect_all(urls: &[String], spread: usize, concurrency: usize) -> Result<Vec<Socket>> {
    let opened: Vec<Result<Socket>> = stream::iter(urls.iter().enumerate())
        .map(|(i, url)| connect(url, source_ip(i, spread)))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    opened.into_iter().collect()
}

/// The content of a benchmark message: the time its sender meant to send it, then
/// padding up to `CONTENT_BYTES`.
pub fn content(sent_us: u64) -> String {
    let mut text = format!("t{sent_us} ");
    text.extend(std::iter::repeat_n('x', CONTENT_BYTES.saturating_sub(text.len())));
    text
}

/// The send time written by `content`.
pub fn sent_us(content: &str) -> Option<u64> {
    content.strip_prefix('t')?.split(' ').next()?.parse().ok()
}

/// A `message` frame as the protocol defines it; the bare server echoes it as is.
pub fn message_frame(frame_id: u64, room_id: &str, content: &str, client_msg_id: &str) -> String {
    serde_json::json!({
        "id": frame_id,
        "type": "message",
        "room_id": room_id,
        "payload": { "content": content, "content_type": "text", "client_msg_id": client_msg_id },
    })
    .to_string()
}

/// What a client reads of a frame it receives: its type, chat and sender and, in
/// the payload, the message content and `seq` (deliveries) or the error code
/// (errors). Both servers' message frames carry `payload.content`.
#[derive(Debug, Deserialize)]
pub struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: &'a str,
    #[serde(default, borrow)]
    pub room_id: Option<&'a str>,
    #[serde(default, borrow)]
    pub sender: Option<&'a str>,
    #[serde(default, borrow)]
    pub payload: Option<IncomingPayload<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct IncomingPayload<'a> {
    #[serde(default, borrow)]
    pub content: Option<&'a str>,
    #[serde(default, borrow)]
    pub code: Option<&'a str>,
    #[serde(default, borrow)]
    pub client_msg_id: Option<&'a str>,
    /// A message's position in its chat.
    #[serde(default)]
    pub seq: Option<i64>,
}

impl<'a> Incoming<'a> {
    pub fn parse(text: &'a str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| anyhow!("unreadable frame {e}: {}", truncate(text)))
    }

    /// The send time of a delivered message.
    pub fn sent_us(&self) -> Option<u64> {
        self.payload.as_ref()?.content.and_then(sent_us)
    }

    /// The `client_msg_id` of a delivered message (both servers carry it).
    pub fn client_msg_id(&self) -> Option<&str> {
        self.payload.as_ref()?.client_msg_id
    }

    pub fn error_code(&self) -> &str {
        self.payload.as_ref().and_then(|p| p.code).unwrap_or("")
    }
}

fn truncate(text: &str) -> &str {
    text.get(..200).unwrap_or(text)
}

/// Reads the frames of `stream` until `finished` turns true, handing every frame
/// but `error` frames to `on_frame` with its arrival time (`now_us`). Returns what
/// went wrong: `error` frames, unreadable frames, and the connection ending first.
pub async fn read_frames<S>(
    stream: &mut S,
    finished: &mut tokio::sync::watch::Receiver<bool>,
    mut on_frame: impl FnMut(&Incoming<'_>, u64),
) -> Vec<String>
where
    S: futures_util::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut errors = Vec::new();
    loop {
        tokio::select! {
            _ = finished.wait_for(|done| *done) => break,
            frame = stream.next() => match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    let now = now_us();
                    match Incoming::parse(text.as_str()) {
                        Ok(incoming) if incoming.kind == "error" => {
                            errors.push(format!("error frame: {}", incoming.error_code()));
                        }
                        Ok(incoming) => on_frame(&incoming, now),
                        Err(error) => errors.push(error.to_string()),
                    }
                }
                Some(Ok(WsMessage::Close(reason))) => {
                    errors.push(format!("closed by the server: {reason:?}"));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    errors.push(format!("connection error: {error}"));
                    break;
                }
                None => {
                    errors.push("connection ended".to_owned());
                    break;
                }
            },
        }
    }
    errors
}

/// A latency histogram in microseconds, 1 µs to 60 s at 3 significant digits.
pub fn histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 60_000_000, 3).map_err(|e| anyhow!("histogram: {e}"))
}

/// Records one latency, clamped into the histogram's range.
pub fn record(histogram: &mut Histogram<u64>, micros: u64) {
    histogram.saturating_record(micros.max(1));
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    pub fn of(histogram: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            count: histogram.len(),
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p95_ms: ms(histogram.value_at_quantile(0.95)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
            mean_ms: histogram.mean() / 1000.0,
        }
    }
}

/// A phone number of its own for bench user `index` (valid Indian mobile numbers).
pub fn phone(index: usize) -> String {
    format!("98{:08}", index % 100_000_000)
}

/// Logs in users `first .. first + count` (one device each), `concurrency` at a time.
pub async fn login_users(api: &ApiClient, first: usize, count: usize, concurrency: usize) -> Vec<Login> {
    stream::iter(first..first + count)
        .map(|i| {
            let api = api.clone();
            async move { api.login(&phone(i), &format!("Bench {i}")).await }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// Logs user `index` in `devices` times, one after the other (a login code is
/// consumed by one login): one device session each.
pub async fn login_devices(api: &ApiClient, index: usize, devices: usize) -> Vec<Login> {
    let mut logins = Vec::with_capacity(devices);
    for _ in 0..devices {
        logins.push(api.login(&phone(index), &format!("Bench {index}")).await);
    }
    logins
}

/// `ws://…/ws?token=…` for a device of a ChitChat server.
pub fn device_url(ws_base: &str, login: &Login) -> String {
    format!("{ws_base}/ws?token={}", login.token)
}

/// Idle connected clients: each socket is read (so that pings are answered and
/// nothing piles up) until `close`, counting what arrives.
pub struct Idle {
    finish: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<IdleOutcome>>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct IdleOutcome {
    /// Text frames an idle client received.
    pub frames: u64,
    /// Whether the server ended the connection before `close`.
    pub dropped: bool,
}

impl Idle {
    pub fn hold(sockets: Vec<Socket>) -> Self {
        let (finish, finished) = tokio::sync::watch::channel(false);
        let tasks = sockets
            .into_iter()
            .map(|mut socket| {
                let mut finished = finished.clone();
                tokio::spawn(async move {
                    let mut frames = 0;
                    let errors = read_frames(&mut socket, &mut finished, |_, _| frames += 1).await;
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), socket.close(None)).await;
                    IdleOutcome { frames, dropped: !errors.is_empty() }
                })
            })
            .collect();
        Self { finish, tasks }
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Closes every socket; returns how many the server had dropped first.
    pub async fn close(self) -> usize {
        let _ = self.finish.send(true);
        let mut dropped = 0;
        for task in self.tasks {
            if task.await.map_or(true, |outcome| outcome.dropped) {
                dropped += 1;
            }
        }
        dropped
    }
}
