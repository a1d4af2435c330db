//! ejabberd, the XMPP server, from Debian's package: started by `ejabberdctl` as
//! a node of its own with a minimal configuration (one host, client connections
//! on a loopback port without TLS, no traffic shaper), users registered with
//! `ejabberdctl register`. Two storages: its default Mnesia database with nothing
//! archived, or SQLite with `mod_mam` archiving every message.
//!
//! The client is `tokio-xmpp`'s stanza stream over plain TCP (SASL, resource
//! binding), with one task per connection that owns it: it queues the `<message
//! type='chat'>` stanzas to send and hands over the bodies of the `<message>`
//! stanzas that come in.

use super::{Inbox, Outbox, Person};
use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use sasl::common::ChannelBinding;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::BufStream;
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio_xmpp::connect::ServerConnector;
use tokio_xmpp::jid::Jid;
use tokio_xmpp::parsers::message::{Lang, Message};
use tokio_xmpp::parsers::presence::Presence;
use tokio_xmpp::stanzastream::{Event, StanzaStream, StreamEvent};
use tokio_xmpp::xmlstream::{initiate_stream, PendingFeaturesRecv, StreamHeader, Timeouts};
use tokio_xmpp::Stanza;

const HOST: &str = "localhost";

/// Stanzas queued each way in a stream (as `tokio-xmpp`'s `Client` has it).
const QUEUE_DEPTH: usize = 16;

/// Where ejabberd keeps users, rosters and (with `mod_mam`) the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Its default database, in memory and on disk; no message is stored.
    Mnesia,
    /// Every message archived by `mod_mam` (`default: always`) in SQLite.
    MamSqlite,
}

impl Storage {
    pub fn label(self) -> &'static str {
        match self {
            Storage::Mnesia => "ejabberd (Mnesia)",
            Storage::MamSqlite => "ejabberd, mod_mam on SQLite",
        }
    }
}

fn ejabberd_yml(port: u16, storage: Storage, dir: &Path) -> String {
    let (database, archive) = match storage {
        Storage::Mnesia => (String::new(), ""),
        // ejabberd creates the tables from its own SQLite schema when the file is new.
        Storage::MamSqlite => (
            format!("sql_type: sqlite\nsql_database: \"{}/ejabberd.db\"\ndefault_db: sql\n", dir.display()),
            "  mod_mam:\n    default: always\n    db_type: sql\n",
        ),
    };
    format!(
        "loglevel: warning
hosts:
  - {HOST}
{database}listen:
  -
    port: {port}
    ip: \"127.0.0.1\"
    module: ejabberd_c2s
    max_stanza_size: 262144
    starttls: false
    starttls_required: false
auth_method: internal
auth_password_format: plain
acl:
  local:
    user_regexp: \"\"
access_rules:
  local:
    allow: local
  c2s:
    allow: all
api_permissions:
  \"console commands\":
    from:
      - ejabberd_ctl
    who: all
    what: \"*\"
modules:
  mod_roster: {{}}
  mod_disco: {{}}
  mod_ping: {{}}
{archive}"
    )
}

/// A running ejabberd node; `stop` ends it.
pub struct Ejabberd {
    dir: PathBuf,
    node: String,
    port: u16,
    pid: Option<u32>,
}

impl Ejabberd {
    pub async fn start(storage: Storage) -> Result<Self> {
        if Command::new("ejabberdctl").arg("help").stdout(Stdio::null()).stderr(Stdio::null()).status().await.is_err() {
            bail!("ejabberd is not installed (no ejabberdctl): run crates/bench/peers/install.sh");
        }
        let dir = super::scratch_dir("ejabberd")?;
        let port = super::free_port()?;
        for folder in ["spool", "logs"] {
            std::fs::create_dir_all(dir.join(folder))?;
        }
        std::fs::write(dir.join("ejabberd.yml"), ejabberd_yml(port, storage, &dir))?;
        std::fs::write(
            dir.join("ejabberdctl.cfg"),
            format!("EJABBERD_CONFIG_PATH={0}/ejabberd.yml\nEJABBERD_PID_PATH={0}/ejabberd.pid\n", dir.display()),
        )?;
        // ejabberdctl runs the node as the package's own user, which must own the folder.
        run("chown", &["-R".into(), "ejabberd".into(), dir.display().to_string()]).await?;
        let mut server = Self { node: format!("bench{}@{HOST}", std::process::id()), dir, port, pid: None };
        server.ctl(&["start"]).await?;
        server.ctl(&["started"]).await?;
        let pid = std::fs::read_to_string(server.dir.join("ejabberd.pid")).unwrap_or_default();
        server.pid = pid.trim().parse().ok();
        Ok(server)
    }

    async fn ctl(&self, args: &[&str]) -> Result<()> {
        let dir = self.dir.display();
        let mut all: Vec<String> = vec![
            "--ctl-config".into(),
            format!("{dir}/ejabberdctl.cfg"),
            "--config".into(),
            format!("{dir}/ejabberd.yml"),
            "--spool".into(),
            format!("{dir}/spool"),
            "--logs".into(),
            format!("{dir}/logs"),
            "--node".into(),
            self.node.clone(),
        ];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        run("ejabberdctl", &all).await
    }

    /// The node's Erlang VM (`beam.smp`).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Two people, each writing to the other.
    pub async fn pair(&self) -> Result<[Person<XmppOutbox, XmppInbox>; 2]> {
        let names = ["alice", "bob"];
        for name in names {
            self.ctl(&["register", name, HOST, &format!("bench-{name}")]).await?;
        }
        let alice = login(self.port, names[0], names[1]).await?;
        let bob = login(self.port, names[1], names[0]).await?;
        Ok([alice, bob])
    }

    pub async fn stop(self) {
        let _ = self.ctl(&["stop"]).await;
        let _ = self.ctl(&["stopped"]).await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn run(program: &str, args: &[String]) -> Result<()> {
    let output = Command::new(program).args(args).stdin(Stdio::null()).output().await?;
    if !output.status.success() {
        bail!(
            "{program} {}: {} {}",
            args.last().map_or("", String::as_str),
            output.status,
            String::from_utf8_lossy(&output.stdout)
        );
    }
    Ok(())
}

/// An online, available session of `user` writing to `peer`, with the task that
/// owns its stream.
async fn login(port: u16, user: &str, peer: &str) -> Result<Person<XmppOutbox, XmppInbox>> {
    let jid: Jid = format!("{user}@{HOST}").parse().context("JID")?;
    let peer: Jid = format!("{peer}@{HOST}").parse().context("JID")?;
    // The c2s listener has no STARTTLS: plain TCP, on loopback only.
    // The stanza stream, not `Client`: its sending only queues, so a task that both
    // sends and reads never waits for its own reading (`Client::send_stanza` waits
    // until the stanza is written, which stalls when the incoming queue is full).
    let connector = NoDelayTcp(SocketAddr::from(([127, 0, 0, 1], port)));
    let mut stream = StanzaStream::new_c2s(connector, jid, format!("bench-{user}"), Timeouts::default(), QUEUE_DEPTH);
    let online = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = stream.next().await {
            if let Event::Stream(StreamEvent::Reset { .. }) = event {
                return Ok(());
            }
        }
        bail!("XMPP login of {user}: the stream ended")
    });
    online.await.map_err(|_| anyhow!("XMPP login of {user}: not online within 10 s"))??;
    stream.send(Box::new(Presence::available().into())).await;
    let (outgoing, queue) = mpsc::unbounded_channel();
    let (bodies, incoming) = mpsc::unbounded_channel();
    tokio::spawn(drive(stream, queue, bodies));
    Ok(Person { outbox: XmppOutbox { to: peer, outgoing }, inbox: XmppInbox { incoming } })
}

/// `tokio-xmpp`'s plain TCP connector with `TCP_NODELAY`, which its own leaves off:
/// with Nagle's algorithm, a stanza written while the last is not yet acknowledged
/// waits for the server's delayed ACK (about 40 ms), which the figures would show.
#[derive(Debug, Clone)]
struct NoDelayTcp(SocketAddr);

impl ServerConnector for NoDelayTcp {
    type Stream = BufStream<TcpStream>;

    async fn connect(
        &self,
        jid: &Jid,
        ns: &'static str,
        timeouts: Timeouts,
    ) -> Result<(PendingFeaturesRecv<Self::Stream>, ChannelBinding), tokio_xmpp::Error> {
        let stream = TcpStream::connect(self.0).await?;
        stream.set_nodelay(true)?;
        let header = StreamHeader { to: Some(Cow::Borrowed(jid.domain().as_str())), from: None, id: None };
        let pending = initiate_stream(BufStream::new(stream), ns, header, timeouts).await?;
        Ok((pending, ChannelBinding::None))
    }
}

/// Queues the messages to send and hands over the bodies of those that come in,
/// until the outbox is dropped or the stream ends; an end is the last thing
/// handed over.
async fn drive(
    mut stream: StanzaStream,
    mut queue: mpsc::UnboundedReceiver<Message>,
    bodies: mpsc::UnboundedSender<Result<String, String>>,
) {
    loop {
        tokio::select! {
            outgoing = queue.recv() => {
                let Some(message) = outgoing else { break };
                // What becomes of it shows as a message received, or not.
                drop(stream.send(Box::new(message.into())).await);
            }
            event = stream.next() => match event {
                Some(Event::Stanza(Stanza::Message(message))) => {
                    for body in message.bodies.into_values() {
                        // Nobody reads any more: the run is over.
                        if bodies.send(Ok(body)).is_err() {
                            return;
                        }
                    }
                }
                Some(_) => {}
                None => {
                    let _ = bodies.send(Err("XMPP: the stream ended".to_owned()));
                    return;
                }
            },
        }
    }
    stream.close().await;
}

/// One person's messages, `<message type='chat'>` to the other person.
pub struct XmppOutbox {
    to: Jid,
    outgoing: mpsc::UnboundedSender<Message>,
}

impl Outbox for XmppOutbox {
    async fn send(&self, content: String) -> Result<()> {
        let message = Message::chat(Some(self.to.clone())).with_body(Lang::default(), content);
        self.outgoing.send(message).map_err(|_| anyhow!("the XMPP connection's task has stopped"))
    }
}

pub struct XmppInbox {
    incoming: mpsc::UnboundedReceiver<Result<String, String>>,
}

impl Inbox for XmppInbox {
    async fn next(&mut self) -> Result<Vec<String>> {
        let first = self.incoming.recv().await.ok_or_else(|| anyhow!("XMPP: the connection's task has stopped"))?;
        let mut contents = vec![first.map_err(|e| anyhow!(e))?];
        // Whatever else has come is handed over at once.
        while let Ok(next) = self.incoming.try_recv() {
            contents.push(next.map_err(|e| anyhow!(e))?);
        }
        Ok(contents)
    }
}
