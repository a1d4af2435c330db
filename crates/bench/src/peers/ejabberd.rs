//! ejabberd, the XMPP server, from Debian's package: started by `ejabberdctl` as
//! a node of its own with a minimal configuration (one host, client connections
//! on a loopback port without TLS, its default Mnesia database, no traffic
//! shaper), users registered with `ejabberdctl register`.
//!
//! The client is the least XMPP the benchmark needs, on the raw stream: SASL PLAIN,
//! resource binding, initial presence, `<message type='chat'>` out, and the bodies
//! of the `<message>` stanzas in. No XMPP crate is in the lock file, and this
//! much needs none.

use super::{Inbox, Queued};
use anyhow::{anyhow, bail, Context, Result};
use base64ct::Encoding as _;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::sync::mpsc;

const HOST: &str = "localhost";

fn ejabberd_yml(port: u16) -> String {
    format!(
        "loglevel: warning
hosts:
  - {HOST}
listen:
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
"
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
    pub async fn start() -> Result<Self> {
        if Command::new("ejabberdctl").arg("help").stdout(Stdio::null()).stderr(Stdio::null()).status().await.is_err() {
            bail!("ejabberd is not installed (no ejabberdctl): run crates/bench/peers/install.sh");
        }
        let dir = super::scratch_dir("ejabberd")?;
        let port = super::free_port()?;
        for folder in ["spool", "logs"] {
            std::fs::create_dir_all(dir.join(folder))?;
        }
        std::fs::write(dir.join("ejabberd.yml"), ejabberd_yml(port))?;
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

    /// Two people: the sender's outbox and the receiver's inbox.
    pub async fn pair(&self) -> Result<(Queued, XmppInbox)> {
        for (name, password) in [("alice", "bench-alice"), ("bob", "bench-bob")] {
            self.ctl(&["register", name, HOST, password]).await?;
        }
        let (mut sender_in, sender) = login(self.port, "alice", "bench-alice").await?;
        // Dropping a write half would end the stream: the receiver's is kept in its inbox.
        let (receiver, receiver_out) = login(self.port, "bob", "bench-bob").await?;
        let (frames, queue) = mpsc::unbounded_channel();
        tokio::spawn(write(sender, queue));
        // What comes to the sender (presence) is read and dropped.
        tokio::spawn(async move {
            let mut chunk = [0u8; 4096];
            while sender_in.read(&mut chunk).await.is_ok_and(|read| read > 0) {}
        });
        let outbox = Queued::new(frames, |_, content| {
            format!("<message to='bob@{HOST}' type='chat'><body>{content}</body></message>")
        });
        Ok((outbox, XmppInbox { stream: receiver, _writer: receiver_out, buffer: String::new() }))
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

/// Reads from `stream` into `buffer` until it holds `marker`; returns what came
/// up to and with it, keeping the rest.
async fn read_until(stream: &mut OwnedReadHalf, buffer: &mut String, marker: &str) -> Result<String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(at) = buffer.find(marker) {
            let rest = buffer.split_off(at + marker.len());
            return Ok(std::mem::replace(buffer, rest));
        }
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .map_err(|_| anyhow!("XMPP: nothing read in 10 s while waiting for {marker}"))??;
        if read == 0 {
            bail!("XMPP: the server closed the stream while waiting for {marker}");
        }
        buffer.push_str(&String::from_utf8_lossy(&chunk[..read]));
    }
}

/// Opens an authenticated, bound, available session of `user`.
async fn login(port: u16, user: &str, password: &str) -> Result<(OwnedReadHalf, OwnedWriteHalf)> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.context("connecting to ejabberd")?;
    stream.set_nodelay(true)?;
    let (mut reader, mut writer) = stream.into_split();
    let mut buffer = String::new();
    let open = format!(
        "<?xml version='1.0'?><stream:stream to='{HOST}' xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
    );
    writer.write_all(open.as_bytes()).await?;
    read_until(&mut reader, &mut buffer, "</stream:features>").await?;
    let credentials = base64ct::Base64::encode_string(format!("\0{user}\0{password}").as_bytes());
    let auth = format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{credentials}</auth>");
    writer.write_all(auth.as_bytes()).await?;
    let answer = read_until(&mut reader, &mut buffer, "/>").await?;
    if !answer.contains("<success") {
        bail!("XMPP login of {user} refused: {answer}");
    }
    writer.write_all(open.as_bytes()).await?;
    read_until(&mut reader, &mut buffer, "</stream:features>").await?;
    let bind = "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind></iq>";
    writer.write_all(bind.as_bytes()).await?;
    read_until(&mut reader, &mut buffer, "</iq>").await?;
    writer.write_all(b"<presence/>").await?;
    Ok((reader, writer))
}

/// Writes what is queued to the stream.
async fn write(mut writer: OwnedWriteHalf, mut queue: mpsc::UnboundedReceiver<String>) {
    while let Some(stanza) = queue.recv().await {
        if writer.write_all(stanza.as_bytes()).await.is_err() {
            break;
        }
    }
}

pub struct XmppInbox {
    stream: OwnedReadHalf,
    _writer: OwnedWriteHalf,
    buffer: String,
}

impl Inbox for XmppInbox {
    async fn next(&mut self) -> Result<Vec<String>> {
        let stanza = read_until(&mut self.stream, &mut self.buffer, "</message>").await?;
        let mut bodies = Vec::new();
        let mut rest = stanza.as_str();
        while let Some(start) = rest.find("<body>") {
            let after = &rest[start + "<body>".len()..];
            let Some(end) = after.find("</body>") else { break };
            bodies.push(after[..end].to_owned());
            rest = &after[end..];
        }
        Ok(bodies)
    }
}
