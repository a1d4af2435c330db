//! Black-box: a rolling restart of two instances on PostgreSQL + Redis while
//! people on both keep sending and receiving over WebSockets. Each instance in
//! turn gets SIGTERM and is started again: its devices are told to reconnect
//! (close code 1012), move to the other instance, resend what was not
//! acknowledged and resume. Afterwards every acknowledged message is stored
//! exactly once, and every member's device holds every message of its chats
//! exactly once, in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chitchat_testkit::{ApiClient, Login, SocketEnd, TestServer, WsClient};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// "Service restart": reconnect (to another instance) and resume.
const CLOSE_RESTART: u16 = 1012;
/// Messages each device gets acknowledged between two steps of the restart, so
/// that every step happens under traffic from every device.
const ACKS_PER_STEP: usize = 15;
/// Pause after each acknowledgement, in which a device only reads: devices send
/// about as fast as their acks come.
const SEND_PAUSE: Duration = Duration::from_millis(1);
/// How long a frame that should come may take (an ack, a resume answer).
const FRAME_WAIT: Duration = Duration::from_secs(10);

/// The instances' current addresses (a restarted instance gets a new port).
type Directory = Arc<Mutex<Vec<ApiClient>>>;

/// What the test watches while a device runs.
#[derive(Default)]
struct Progress {
    acked: AtomicUsize,
    stop: AtomicBool,
}

/// An acknowledged send.
struct Acked {
    chat: String,
    client_msg_id: String,
    id: String,
    at: Instant,
}

/// One person's device, roaming between the instances as a real client does.
struct Device {
    name: &'static str,
    login: Login,
    /// The chats it sends to, in turn.
    chats: Vec<String>,
    /// The last `event_seq` held per chat, sent in `resume`.
    positions: BTreeMap<String, i64>,
    /// Message (seq, id) per chat, in the order they arrived.
    view: BTreeMap<String, Vec<(i64, String)>>,
    /// Messages that arrived again although already held.
    repeats: usize,
    acked: Vec<Acked>,
    /// Sends repeated on a new connection because the old one ended before their ack.
    resent: usize,
    /// How each connection ended, with when.
    ends: Vec<(SocketEnd, Instant)>,
    instance: usize,
    progress: Arc<Progress>,
}

impl Device {
    fn new(name: &'static str, login: Login, chats: &[&String], instance: usize) -> Self {
        Self {
            name,
            login,
            chats: chats.iter().map(|c| (*c).clone()).collect(),
            positions: chats.iter().map(|c| ((*c).clone(), 0)).collect(),
            view: BTreeMap::new(),
            repeats: 0,
            acked: Vec::new(),
            resent: 0,
            ends: Vec::new(),
            instance,
            progress: Arc::default(),
        }
    }

    /// Takes in a frame from the server: messages into the view, positions up.
    fn take(&mut self, frame: &Value) {
        let Some(chat) = frame["room_id"].as_str() else { return };
        if let Some(event_seq) = frame["event_seq"].as_i64() {
            let position = self.positions.entry(chat.to_owned()).or_default();
            *position = (*position).max(event_seq);
        }
        if frame["type"] == "message" {
            let id = frame["payload"]["id"].as_str().unwrap().to_owned();
            let seq = frame["payload"]["seq"].as_i64().unwrap();
            let held = self.view.entry(chat.to_owned()).or_default();
            if held.iter().any(|(_, known)| *known == id) {
                self.repeats += 1;
            } else {
                held.push((seq, id));
            }
        }
    }

    /// Connects to an instance that accepts, `preferred` first, and resumes.
    async fn connect(&mut self, directory: &Directory, preferred: usize) -> WsClient {
        for attempt in 0..500 {
            let instances = directory.lock().unwrap().clone();
            let index = (preferred + attempt) % instances.len();
            if let Ok(mut ws) = instances[index].try_ws_resuming(&self.login.token).await {
                if self.resume(&mut ws).await {
                    self.instance = index;
                    return ws;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{}: no instance accepted a connection", self.name);
    }

    /// Sends `resume` and takes in the replay; false when the socket ended first.
    async fn resume(&mut self, ws: &mut WsClient) -> bool {
        if !ws.try_send_json(json!({"id": "resume", "type": "resume", "payload": {"chats": self.positions}})).await {
            return false;
        }
        loop {
            match ws.next_frame_or_end(FRAME_WAIT).await {
                Ok(frame) if frame["id"] == "resume" => {
                    assert_eq!(frame["type"], "ack", "{}: resume answered {frame}", self.name);
                    for (chat, reached) in frame["payload"]["chats"].as_object().unwrap() {
                        let position = self.positions.entry(chat.clone()).or_default();
                        *position = (*position).max(reached.as_i64().unwrap());
                    }
                    return true;
                }
                Ok(frame) => self.take(&frame),
                Err(SocketEnd::StillOpen) => panic!("{}: resume not answered in time", self.name),
                Err(end) => {
                    self.ends.push((end, Instant::now()));
                    return false;
                }
            }
        }
    }

    /// Sends until told to stop: one message at a time, each resent with the
    /// same `client_msg_id` on the next connection until acknowledged.
    async fn run(mut self, directory: Directory) -> Self {
        let mut ws = self.connect(&directory, self.instance).await;
        let mut sent = 0;
        while !self.progress.stop.load(Ordering::SeqCst) {
            let chat = self.chats[sent % self.chats.len()].clone();
            let client_msg_id = format!("{}-{sent}", self.name);
            let frame = json!({"id": client_msg_id, "type": "message", "room_id": chat,
                "payload": {"content": client_msg_id, "content_type": "text", "client_msg_id": client_msg_id}});
            loop {
                match self.send_and_wait_for_ack(&mut ws, &frame).await {
                    Ok(ack) => {
                        let id = ack["payload"]["id"].as_str().unwrap().to_owned();
                        self.acked.push(Acked { chat, client_msg_id, id, at: Instant::now() });
                        self.progress.acked.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    Err(end) => {
                        self.resent += 1;
                        ws = self.move_on(&directory, end).await;
                    }
                }
            }
            sent += 1;
            if let Err(end) = self.take_frames_for(&mut ws, SEND_PAUSE).await {
                ws = self.move_on(&directory, end).await;
            }
        }
        self
    }

    /// Notes how the connection ended and connects again: to the other instance
    /// first, since the one that closed is going away.
    async fn move_on(&mut self, directory: &Directory, end: SocketEnd) -> WsClient {
        self.ends.push((end, Instant::now()));
        let other = (self.instance + 1) % directory.lock().unwrap().len();
        self.connect(directory, other).await
    }

    async fn send_and_wait_for_ack(&mut self, ws: &mut WsClient, frame: &Value) -> Result<Value, SocketEnd> {
        if !ws.try_send_json(frame.clone()).await {
            // The close frame, if the server sent one, is still to be read.
            return Err(ws.wait_for_end(FRAME_WAIT).await);
        }
        loop {
            let reply = ws.next_frame_or_end(FRAME_WAIT).await;
            match reply {
                Ok(reply) if reply["id"] == frame["id"] => {
                    assert_eq!(reply["type"], "ack", "{}: {frame} answered {reply}", self.name);
                    return Ok(reply);
                }
                Ok(other) => self.take(&other),
                Err(SocketEnd::StillOpen) => panic!("{}: no answer to {frame} in time", self.name),
                Err(end) => return Err(end),
            }
        }
    }

    /// Takes in frames for `wait`; the end of the socket if it ends meanwhile.
    async fn take_frames_for(&mut self, ws: &mut WsClient, wait: Duration) -> Result<(), SocketEnd> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match ws.next_frame_or_end(left).await {
                Ok(frame) => self.take(&frame),
                Err(SocketEnd::StillOpen) => return Ok(()),
                Err(end) => return Err(end),
            }
        }
    }

    /// The longest time from a connection's end to the next acknowledged send.
    fn longest_gap(&self) -> Duration {
        self.ends
            .iter()
            .filter_map(|(_, ended)| self.acked.iter().find(|a| a.at > *ended).map(|a| a.at - *ended))
            .max()
            .unwrap_or_default()
    }
}

/// Waits until every device has `more` acknowledged sends than in `before`.
async fn wait_for_progress(progress: &[Arc<Progress>], more: usize) {
    let before: Vec<usize> = progress.iter().map(|p| p.acked.load(Ordering::SeqCst)).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while progress.iter().zip(&before).any(|(p, b)| p.acked.load(Ordering::SeqCst) < b + more) {
        assert!(Instant::now() < deadline, "devices stopped getting acknowledgements");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// SIGTERM to `server` while the devices run; returns how long it took to exit.
async fn terminate(server: &mut TestServer) -> Duration {
    let started = Instant::now();
    let status = server.terminate(Duration::from_secs(15)).await;
    assert!(status.expect("exits within the shutdown timeout").success(), "a clean exit");
    started.elapsed()
}

/// A message as stored.
struct Stored {
    seq: i64,
    id: String,
    /// None for the group's "created the group" notice.
    client_msg_id: Option<String>,
}

/// Every message of `chat` as stored, oldest first.
async fn history(api: &ApiClient, login: &Login, chat: &str) -> Vec<Stored> {
    let mut stored: Vec<Stored> = Vec::new();
    loop {
        let after = stored.last().map_or(0, |m| m.seq);
        let page = api.get(&format!("/api/messages?chat_id={chat}&limit=100&after_seq={after}"), &login.token).await;
        let messages = page.body["messages"].as_array().unwrap().clone();
        if messages.is_empty() {
            return stored;
        }
        stored.extend(messages.iter().map(|m| Stored {
            seq: m["seq"].as_i64().unwrap(),
            id: m["id"].as_str().unwrap().to_owned(),
            client_msg_id: m["client_msg_id"].as_str().map(str::to_owned),
        }));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_loses_nothing_acknowledged_and_repeats_nothing() {
    let Some(mut servers) = TestServer::start_cluster(support::BINARY, 2, &[]).await else { return };
    let started = Instant::now();
    let api = servers[0].client();
    let asha = api.login("9876543210", "Asha").await;
    let ravi = api.login("9876543211", "Ravi").await;
    let meena = api.login("9876543212", "Meena").await;
    let kiran = api.login("9876543213", "Kiran").await;
    let others: Vec<String> = [&ravi, &meena, &kiran].iter().map(|l| l.user_id()).collect();
    let group =
        api.post("/api/chats", &asha.token, json!({"type": "group", "name": "Rollout", "user_ids": others})).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    let group = group.body["id"].as_str().unwrap().to_owned();
    let asha_ravi = api.direct_chat(&asha, &ravi.user_id()).await;
    let meena_kiran = api.direct_chat(&meena, &kiran.user_id()).await;

    // Asha and Meena start on instance A (0), Ravi and Kiran on B (1); each
    // writes in the group and in a direct chat with someone on the other instance.
    let devices = vec![
        Device::new("asha", asha, &[&group, &asha_ravi], 0),
        Device::new("meena", meena, &[&group, &meena_kiran], 0),
        Device::new("ravi", ravi, &[&group, &asha_ravi], 1),
        Device::new("kiran", kiran, &[&group, &meena_kiran], 1),
    ];
    let progress: Vec<Arc<Progress>> = devices.iter().map(|d| d.progress.clone()).collect();
    let directory: Directory = Arc::new(Mutex::new(servers.iter().map(TestServer::client).collect()));
    let running: Vec<_> = devices.into_iter().map(|d| tokio::spawn(d.run(directory.clone()))).collect();
    wait_for_progress(&progress, ACKS_PER_STEP).await;

    // A stops: its devices move to B. B stops: everyone moves to A.
    let mut shutdowns = Vec::new();
    for stopping in [0, 1] {
        shutdowns.push(terminate(&mut servers[stopping]).await);
        wait_for_progress(&progress, ACKS_PER_STEP).await;
        servers[stopping].start_again().await;
        directory.lock().unwrap()[stopping] = servers[stopping].client();
        wait_for_progress(&progress, ACKS_PER_STEP).await;
    }
    for p in &progress {
        p.stop.store(true, Ordering::SeqCst);
    }
    let mut devices = Vec::new();
    for task in running {
        devices.push(task.await.unwrap());
    }

    // Each device was told to reconnect once per stop of the instance it was on:
    // Asha and Meena by A and then by B, Ravi and Kiran by B.
    let restart = SocketEnd::Closed(Some(CLOSE_RESTART));
    for device in &devices {
        let ends: Vec<SocketEnd> = device.ends.iter().map(|(end, _)| *end).collect();
        let expected = if ["asha", "meena"].contains(&device.name) { vec![restart; 2] } else { vec![restart] };
        assert_eq!(ends, expected, "{}: how its connections ended", device.name);
    }

    // What everyone sent has reached every device, after a last resume.
    for device in &mut devices {
        let preferred = device.instance;
        let ws = device.connect(&directory, preferred).await;
        drop(ws);
    }
    let api = directory.lock().unwrap()[0].clone();
    let mut acknowledged = 0;
    for chat in [&group, &asha_ravi, &meena_kiran] {
        let stored = history(&api, &a_member_of(&devices, chat), chat).await;
        let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=stored.len() as i64).collect::<Vec<_>>(), "numbered without gaps");

        // Exactly the acknowledged messages are stored, each once, under the id
        // their ack gave.
        let sent: Vec<(&str, &str)> =
            stored.iter().filter_map(|m| Some((m.client_msg_id.as_deref()?, m.id.as_str()))).collect();
        let distinct: BTreeMap<&str, &str> = sent.iter().copied().collect();
        assert_eq!(distinct.len(), sent.len(), "a client_msg_id stored twice in {chat}");
        let acked: BTreeMap<&str, &str> = devices
            .iter()
            .flat_map(|d| &d.acked)
            .filter(|a| a.chat == *chat)
            .map(|a| (a.client_msg_id.as_str(), a.id.as_str()))
            .collect();
        acknowledged += acked.len();
        let missing: Vec<_> = acked.iter().filter(|(k, v)| distinct.get(*k) != Some(*v)).collect();
        assert!(missing.is_empty(), "acknowledged but not stored (as acknowledged) in {chat}: {missing:?}");
        let unacked: Vec<_> = distinct.keys().filter(|k| !acked.contains_key(*k)).collect();
        assert!(unacked.is_empty(), "stored but never acknowledged in {chat}: {unacked:?}");

        // Each sender's messages in the order that sender sent them.
        for device in &devices {
            let mine = |id: &&str| id.starts_with(&format!("{}-", device.name));
            let in_log: Vec<&str> = sent.iter().map(|(client_msg_id, _)| *client_msg_id).filter(mine).collect();
            let in_sending_order: Vec<&str> =
                device.acked.iter().filter(|a| a.chat == *chat).map(|a| a.client_msg_id.as_str()).collect();
            assert_eq!(in_log, in_sending_order, "{}'s messages in {chat}", device.name);
        }

        // Every member's device holds the chat exactly as stored, in order.
        let expected: Vec<(i64, String)> = stored.iter().map(|m| (m.seq, m.id.clone())).collect();
        for device in devices.iter().filter(|d| d.chats.contains(chat)) {
            let held = device.view.get(chat.as_str()).cloned().unwrap_or_default();
            assert!(
                held == expected,
                "{}'s view of {chat}: {} messages, {} stored",
                device.name,
                held.len(),
                expected.len()
            );
        }
    }
    for device in &devices {
        assert_eq!(device.repeats, 0, "{} got a message twice", device.name);
    }

    let longest_gap = devices.iter().map(Device::longest_gap).max().unwrap();
    let resent: usize = devices.iter().map(|d| d.resent).sum();
    println!(
        "rolling restart: {acknowledged} messages acknowledged by 4 devices in {:.1} s ({resent} resent after \
         their connection closed); SIGTERM to exit {:?} and {:?}; longest time from a 1012 close to the next \
         acknowledgement {:?}",
        started.elapsed().as_secs_f64(),
        shutdowns[0],
        shutdowns[1],
        longest_gap,
    );
}

/// A member of `chat` who may read its history.
fn a_member_of(devices: &[Device], chat: &str) -> Login {
    devices.iter().find(|d| d.chats.iter().any(|c| c == chat)).unwrap().login.clone()
}
