//! Synapse, the Matrix homeserver, from the virtualenv of `install.sh`: SQLite (its
//! default database), the client API only, registration open, rate limits and
//! presence off. Each person's messages go out with `PUT /rooms/{room}/send` and
//! come in through `GET /sync` long-polls of their own.

use super::{Inbox, Outbox, Person};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long a `/sync` long-poll waits for something new, in milliseconds.
const SYNC_TIMEOUT_MS: u64 = 10_000;

const LOG_CONFIG: &str = "version: 1
formatters:
  plain:
    format: '%(asctime)s %(levelname)s %(name)s %(message)s'
handlers:
  console:
    class: logging.StreamHandler
    formatter: plain
root:
  level: WARNING
  handlers: [console]
disable_existing_loggers: false
";

fn homeserver_yaml(dir: &Path, port: u16) -> String {
    let dir = dir.display();
    let unlimited = "{per_second: 1000000, burst_count: 1000000}";
    format!(
        "server_name: bench.local
pid_file: {dir}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {dir}/homeserver.db
log_config: {dir}/log.config
media_store_path: {dir}/media_store
signing_key_path: {dir}/signing.key
report_stats: false
macaroon_secret_key: bench-macaroon
form_secret: bench-form
enable_registration: true
enable_registration_without_verification: true
trusted_key_servers: []
suppress_key_server_warning: true
presence:
  enabled: false
rc_message: {unlimited}
rc_registration: {unlimited}
rc_login: {{address: {unlimited}, account: {unlimited}, failed_attempts: {unlimited}}}
rc_joins: {{local: {unlimited}, remote: {unlimited}}}
rc_invites: {{per_room: {unlimited}, per_user: {unlimited}, per_issuer: {unlimited}}}
rc_room_creation: {unlimited}
"
    )
}

/// A running Synapse; killed when dropped.
pub struct Synapse {
    base: String,
    dir: PathBuf,
    child: Child,
    http: reqwest::Client,
}

impl Synapse {
    pub async fn start() -> Result<Self> {
        let python = super::cache_dir()?.join("synapse/bin/python");
        if !python.exists() {
            bail!("Synapse is not installed ({} is missing): run crates/bench/peers/install.sh", python.display());
        }
        let dir = super::scratch_dir("synapse")?;
        let port = super::free_port()?;
        std::fs::write(dir.join("log.config"), LOG_CONFIG)?;
        let config = dir.join("homeserver.yaml");
        std::fs::write(&config, homeserver_yaml(&dir, port))?;
        let keys = Command::new(&python)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(&config)
            .arg("--generate-keys")
            .stdout(Stdio::null())
            .status()
            .await?;
        if !keys.success() {
            bail!("Synapse could not generate its signing key ({keys})");
        }
        let child = Command::new(&python)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log"))?)
            .kill_on_drop(true)
            .spawn()
            .context("starting Synapse")?;
        let synapse = Self { base: format!("http://127.0.0.1:{port}"), dir, child, http: reqwest::Client::new() };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = synapse.http.get(format!("{}/_matrix/client/versions", synapse.base)).send().await;
            if up.is_ok_and(|r| r.status().is_success()) {
                return Ok(synapse);
            }
            if Instant::now() > deadline {
                bail!("Synapse did not answer within 60 s (see {}/stderr.log)", synapse.dir.display());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    async fn call(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Value) -> Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("Synapse {path}: {status} {body}");
        }
        Ok(body)
    }

    /// Registers a user; returns (user id, access token).
    async fn register(&self, name: &str) -> Result<(String, String)> {
        let body = json!({ "username": name, "password": format!("bench-{name}-password"), "auth": { "type": "m.login.dummy" } });
        let reply = self.call(reqwest::Method::POST, "/_matrix/client/v3/register", None, body).await?;
        let text = |key: &str| reply[key].as_str().map(str::to_owned).with_context(|| format!("no {key} in {reply}"));
        Ok((text("user_id")?, text("access_token")?))
    }

    /// Two people in a private room, each writing to the other.
    pub async fn pair(&self) -> Result<[Person<SynapseOutbox, SynapseInbox>; 2]> {
        let (alice_id, alice_token) = self.register("alice").await?;
        let (bob_id, bob_token) = self.register("bob").await?;
        let room = self
            .call(
                reqwest::Method::POST,
                "/_matrix/client/v3/createRoom",
                Some(&alice_token),
                json!({ "preset": "trusted_private_chat", "invite": [bob_id] }),
            )
            .await?;
        let room_id = room["room_id"].as_str().context("no room_id")?.to_owned();
        let room_path = encode(&room_id);
        self.call(reqwest::Method::POST, &format!("/_matrix/client/v3/join/{room_path}"), Some(&bob_token), json!({}))
            .await?;
        let mut people = Vec::new();
        for (user_id, token) in [(alice_id, alice_token), (bob_id, bob_token)] {
            let mut inbox = SynapseInbox {
                base: self.base.clone(),
                http: self.http.clone(),
                token: token.clone(),
                receiver: user_id,
                room_id: room_id.clone(),
                since: None,
            };
            // The first sync gives the position to wait from.
            inbox.sync(0).await?;
            let outbox = SynapseOutbox {
                url: format!("{}/_matrix/client/v3/rooms/{room_path}/send/m.room.message", self.base),
                http: self.http.clone(),
                token,
                txn: AtomicU64::new(0),
            };
            people.push(Person { outbox, inbox });
        }
        let [alice, bob]: [_; 2] = people.try_into().map_err(|_| anyhow::anyhow!("two people"))?;
        Ok([alice, bob])
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Percent-encodes what a room id holds besides letters and digits (`!`, `:`, `.`).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

pub struct SynapseOutbox {
    url: String,
    http: reqwest::Client,
    token: String,
    txn: AtomicU64,
}

impl Outbox for SynapseOutbox {
    async fn send(&self, content: String) -> Result<()> {
        let txn = self.txn.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .put(format!("{}/b{txn}", self.url))
            .bearer_auth(&self.token)
            .json(&json!({ "msgtype": "m.text", "body": content }))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("Synapse send: {}", response.status());
        }
        Ok(())
    }
}

pub struct SynapseInbox {
    base: String,
    http: reqwest::Client,
    token: String,
    receiver: String,
    room_id: String,
    since: Option<String>,
}

impl SynapseInbox {
    /// One `/sync` from the last position; the bodies of the other person's messages.
    async fn sync(&mut self, timeout_ms: u64) -> Result<Vec<String>> {
        let filter = r#"{"room":{"timeline":{"limit":1000,"types":["m.room.message"]},"state":{"lazy_load_members":true}},"presence":{"not_types":["*"]},"account_data":{"not_types":["*"]}}"#;
        let mut query = vec![("timeout", timeout_ms.to_string()), ("filter", filter.to_owned())];
        if let Some(since) = &self.since {
            query.push(("since", since.clone()));
        }
        let response = self
            .http
            .get(format!("{}/_matrix/client/v3/sync", self.base))
            .bearer_auth(&self.token)
            .query(&query)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("Synapse sync: {}", response.status());
        }
        let body: Value = response.json().await?;
        self.since = body["next_batch"].as_str().map(str::to_owned);
        let events = body["rooms"]["join"][&self.room_id]["timeline"]["events"].as_array().cloned().unwrap_or_default();
        Ok(events
            .iter()
            .filter(|event| event["sender"].as_str() != Some(&self.receiver))
            .filter_map(|event| event["content"]["body"].as_str().map(str::to_owned))
            .collect())
    }
}

impl Inbox for SynapseInbox {
    async fn next(&mut self) -> Result<Vec<String>> {
        self.sync(SYNC_TIMEOUT_MS).await
    }
}
