//! A real SMTP server for black-box tests: Debian's `python3-aiosmtpd` on a free
//! port of 127.0.0.1, delivering every mail it takes into a maildir the test
//! reads. Without aiosmtpd a test prints SKIPPED, or fails when
//! `CHITCHAT_REQUIRE_SERVICES=1`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The mail server; it stops when dropped.
pub struct MailServer {
    port: u16,
    dir: tempfile::TempDir,
    _child: Child,
}

/// A mail as the server received it (headers unfolded, body as sent).
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The whole mail as it arrived, headers included.
    pub raw: String,
}

impl ReceivedMail {
    /// The first run of exactly six digits in the subject or the body: the code.
    pub fn code(&self) -> Option<String> {
        [&self.subject, &self.body]
            .into_iter()
            .find_map(|text| text.split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 6).map(str::to_owned))
    }
}

/// The Python that has aiosmtpd: Debian's, which comes first when another
/// `python3` (a version manager's) leads the PATH.
fn python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

impl MailServer {
    /// Starts the server; None (after printing SKIPPED) when aiosmtpd is missing
    /// and services are not required.
    pub async fn start() -> Option<MailServer> {
        let dir = tempfile::tempdir().expect("temporary maildir");
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
            probe.local_addr().expect("bound port").port()
        };
        let mut child = match Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("maildir"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(error) => return crate::services::skip_or_fail("an SMTP server (python3-aiosmtpd)", error),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Some(MailServer { port, dir, _child: child });
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    use tokio::io::AsyncReadExt;
                    let _ = pipe.read_to_string(&mut stderr).await;
                }
                return crate::services::skip_or_fail(
                    "an SMTP server (python3-aiosmtpd)",
                    format!("it exited ({status}): {}", stderr.trim()),
                );
            }
            if tokio::time::Instant::now() > deadline {
                return crate::services::skip_or_fail("an SMTP server (python3-aiosmtpd)", "it did not listen in 20 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `SMTP_URL` for a server to send through (plain SMTP on the loopback).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The maildir the server delivers into (its mails are in `new/`).
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Every mail received so far for `to`, oldest first.
    pub fn received(&self, to: &str) -> Vec<ReceivedMail> {
        let Ok(entries) = std::fs::read_dir(self.maildir().join("new")) else { return Vec::new() };
        let mut files: Vec<(std::time::SystemTime, String, String)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let modified = entry.metadata().ok()?.modified().ok()?;
                let text = std::fs::read_to_string(entry.path()).ok()?;
                Some((modified, entry.file_name().to_string_lossy().into_owned(), text))
            })
            .collect();
        // Maildir names start with the delivery time, which orders mails of one second.
        files.sort();
        files.into_iter().map(|(_, _, raw)| parse(raw)).filter(|mail| mail.to.contains(to)).collect()
    }

    /// Waits until `count` mails for `to` arrived (or the timeout); returns those that did.
    pub async fn wait_for(&self, to: &str, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mails = self.received(to);
            if mails.len() >= count || tokio::time::Instant::now() > deadline {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Headers (unfolded) and body of a mail; quoted-printable soft line breaks joined.
fn parse(raw: String) -> ReceivedMail {
    let normalized = raw.replace("\r\n", "\n");
    let (head, body) = normalized.split_once("\n\n").unwrap_or((normalized.as_str(), ""));
    let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
    let header = |name: &str| {
        unfolded
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let quoted_printable = header("Content-Transfer-Encoding").eq_ignore_ascii_case("quoted-printable");
    let body = if quoted_printable { body.replace("=\n", "").replace("=3D", "=") } else { body.to_owned() };
    ReceivedMail { from: header("From"), to: header("To"), subject: header("Subject"), body, raw }
}
