//! A person's device that roams between instances as a real client does: it sends
//! one message at a time with a `client_msg_id`, resends it on the next connection
//! until acknowledged, resumes after every reconnect, and keeps its view of each
//! chat. Shared by the tests that stop or kill instances under traffic, with the
//! check that everything acknowledged was stored once and reached every device.

use chitchat_testkit::{ApiClient, Login, SocketEnd, TestServer, WsClient};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Pause after each acknowledgement, in which a device only reads: devices send
/// about as fast as their acks come.
const SEND_PAUSE: Duration = Duration::from_millis(1);
/// How long a frame that should come may take (an ack, a resume answer).
pub const FRAME_WAIT: Duration = Duration::from_secs(10);

/// The instances' current addresses (a restarted instance gets a new port).
pub type Directory = Arc<Mutex<Vec<ApiClient>>>;

/// What the test watches while a device runs.
#[derive(Default)]
pub struct Progress {
    pub acked: AtomicUsize,
    pub stop: AtomicBool,
}

/// An acknowledged send.
pub struct Acked {
    pub chat: String,
    pub client_msg_id: String,
    pub id: String,
    pub at: Instant,
}

/// One person's device, roaming between the instances as a real client does.
pub struct Device {
    pub name: &'static str,
    pub login: Login,
    /// The chats it sends to, in turn.
    pub chats: Vec<String>,
    /// The last `event_seq` held per chat, sent in `resume`.
    pub positions: BTreeMap<String, i64>,
    /// Message (seq, id) per chat, in the order they arrived.
    pub view: BTreeMap<String, Vec<(i64, String)>>,
    /// Messages that arrived again although already held.
    pub repeats: usize,
    pub acked: Vec<Acked>,
    /// Sends repeated on a new connection because the old one ended before their ack.
    pub resent: usize,
    /// How each connection ended, with when.
    pub ends: Vec<(SocketEnd, Instant)>,
    pub instance: usize,
    pub progress: Arc<Progress>,
}

impl Device {
    pub fn new(name: &'static str, login: Login, chats: &[&String], instance: usize) -> Self {
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
    pub async fn connect(&mut self, directory: &Directory, preferred: usize) -> WsClient {
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
    pub async fn run(mut self, directory: Directory) -> Self {
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
    pub fn longest_gap(&self) -> Duration {
        self.ends
            .iter()
            .filter_map(|(_, ended)| self.acked.iter().find(|a| a.at > *ended).map(|a| a.at - *ended))
            .max()
            .unwrap_or_default()
    }
}

/// Waits until every device has `more` acknowledged sends than in `before`.
pub async fn wait_for_progress(progress: &[Arc<Progress>], more: usize) {
    let before: Vec<usize> = progress.iter().map(|p| p.acked.load(Ordering::SeqCst)).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while progress.iter().zip(&before).any(|(p, b)| p.acked.load(Ordering::SeqCst) < b + more) {
        assert!(Instant::now() < deadline, "devices stopped getting acknowledgements");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A message as stored.
pub struct Stored {
    pub seq: i64,
    pub id: String,
    /// None for the group's "created the group" notice.
    pub client_msg_id: Option<String>,
}

/// Every message of `chat` as stored, oldest first.
pub async fn history(api: &ApiClient, login: &Login, chat: &str) -> Vec<Stored> {
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

/// A member of `chat` who may read its history.
pub fn a_member_of(devices: &[Device], chat: &str) -> Login {
    devices.iter().find(|d| d.chats.iter().any(|c| c == chat)).unwrap().login.clone()
}

/// After a last resume of every device: exactly the acknowledged messages are
/// stored, each once, under the id their ack gave, without gaps and in each
/// sender's order, and every member's device holds each chat exactly as stored.
/// Returns how many messages were acknowledged.
pub async fn check_nothing_lost_or_repeated(devices: &mut [Device], directory: &Directory, chats: &[&String]) -> usize {
    for device in devices.iter_mut() {
        let preferred = device.instance;
        let ws = device.connect(directory, preferred).await;
        drop(ws);
    }
    let api = directory.lock().unwrap()[0].clone();
    let mut acknowledged = 0;
    for &chat in chats {
        let stored = history(&api, &a_member_of(devices, chat), chat).await;
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
        for device in devices.iter() {
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
    for device in devices.iter() {
        assert_eq!(device.repeats, 0, "{} got a message twice", device.name);
    }

    acknowledged
}

/// Four people on two instances, running: Asha and Meena start on instance 0,
/// Ravi and Kiran on 1, all four in a group, and Asha with Ravi and Meena with Kiran
/// in direct chats, so that each writes in the group and to someone on the other
/// instance.
pub struct FourRoaming {
    /// The group, Asha and Ravi's chat, Meena and Kiran's chat.
    pub chats: [String; 3],
    pub progress: Vec<Arc<Progress>>,
    pub directory: Directory,
    running: Vec<tokio::task::JoinHandle<Device>>,
}

impl FourRoaming {
    pub async fn start(servers: &[TestServer], group_name: &str) -> Self {
        let api = servers[0].client();
        let asha = api.login("9876543210", "Asha").await;
        let ravi = api.login("9876543211", "Ravi").await;
        let meena = api.login("9876543212", "Meena").await;
        let kiran = api.login("9876543213", "Kiran").await;
        let others: Vec<String> = [&ravi, &meena, &kiran].iter().map(|l| l.user_id()).collect();
        let body = json!({"type": "group", "name": group_name, "user_ids": others});
        let group = api.post("/api/chats", &asha.token, body).await;
        assert_eq!(group.status, 201, "{:?}", group.body);
        let group = group.body["id"].as_str().unwrap().to_owned();
        let asha_ravi = api.direct_chat(&asha, &ravi.user_id()).await;
        let meena_kiran = api.direct_chat(&meena, &kiran.user_id()).await;
        let devices = vec![
            Device::new("asha", asha, &[&group, &asha_ravi], 0),
            Device::new("meena", meena, &[&group, &meena_kiran], 0),
            Device::new("ravi", ravi, &[&group, &asha_ravi], 1),
            Device::new("kiran", kiran, &[&group, &meena_kiran], 1),
        ];
        let progress = devices.iter().map(|d| d.progress.clone()).collect();
        let directory: Directory = Arc::new(Mutex::new(servers.iter().map(TestServer::client).collect()));
        let running = devices.into_iter().map(|d| tokio::spawn(d.run(directory.clone()))).collect();
        Self { chats: [group, asha_ravi, meena_kiran], progress, directory, running }
    }

    /// Tells the devices to stop after their current send, and returns them.
    pub async fn stop(&mut self) -> Vec<Device> {
        for p in &self.progress {
            p.stop.store(true, Ordering::SeqCst);
        }
        let mut devices = Vec::new();
        for task in self.running.drain(..) {
            devices.push(task.await.unwrap());
        }
        devices
    }

    /// `check_nothing_lost_or_repeated` over the three chats.
    pub async fn check(&self, devices: &mut [Device]) -> usize {
        let chats: Vec<&String> = self.chats.iter().collect();
        check_nothing_lost_or_repeated(devices, &self.directory, &chats).await
    }
}
