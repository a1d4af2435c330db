//! A PostgreSQL server of a test's own (its own data directory and port), that the
//! test may restart to play out a database outage without touching the shared one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::time::{sleep, Instant};

/// A private PostgreSQL on 127.0.0.1, stopped (immediately) when dropped.
pub struct OwnedPostgres {
    pub port: u16,
    bin: PathBuf,
    data: tempfile::TempDir,
    /// Server options beyond port and address (TLS).
    extra_options: String,
}

/// The PEM files of a TLS PostgreSQL, for `sslrootcert=`.
pub struct PostgresTls {
    /// The CA that signed the server's certificate (for 127.0.0.1 and localhost).
    pub ca_file: PathBuf,
    /// A CA that signed nothing the server shows.
    pub other_ca_file: PathBuf,
}

/// The newest installed server's programs (`initdb`, `pg_ctl`).
fn server_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort_by_key(|bin| bin.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()));
    found.pop()
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

/// PostgreSQL refuses to run as root: then its programs run as the `postgres` user.
fn as_server_user(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound address").port()
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command.stdin(Stdio::null()).output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

impl OwnedPostgres {
    /// Creates and starts one; None (after SKIPPED) when PostgreSQL's server programs
    /// are not installed and not required.
    pub async fn start() -> Option<Self> {
        match Self::create() {
            Ok(server) => match server.start_server().await {
                Ok(()) => Some(server),
                Err(error) => crate::services::skip_or_fail("a PostgreSQL of the test's own", error),
            },
            Err(error) => crate::services::skip_or_fail("PostgreSQL server programs (initdb, pg_ctl)", error),
        }
    }

    fn create() -> Result<Self, String> {
        let bin = server_bin_dir().ok_or("no initdb under /usr/lib/postgresql")?;
        let data = tempfile::Builder::new().prefix("chitchat-pg-").tempdir().map_err(|e| e.to_string())?;
        if running_as_root() {
            run(
                {
                    let mut chown = Command::new("chown");
                    chown.args(["-R", "postgres:postgres"]).arg(data.path());
                    chown
                },
                "chown",
            )?;
        }
        let mut initdb = as_server_user(&bin.join("initdb"));
        initdb.args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D"]).arg(data.path().join("db"));
        run(initdb, "initdb")?;
        Ok(Self { port: free_port(), bin, data, extra_options: String::new() })
    }

    /// Like `start`, with `ssl=on` and a certificate signed by a CA made for it.
    pub async fn start_with_tls() -> Option<(Self, PostgresTls)> {
        let created = Self::create().and_then(|mut server| {
            let tls = server.write_certificates()?;
            Ok((server, tls))
        });
        match created {
            Ok((server, tls)) => match server.start_server().await {
                Ok(()) => Some((server, tls)),
                Err(error) => crate::services::skip_or_fail("a PostgreSQL of the test's own with TLS", error),
            },
            Err(error) => crate::services::skip_or_fail("PostgreSQL server programs (initdb, pg_ctl)", error),
        }
    }

    /// Writes a CA, a server certificate and key (mode 0600, owned by the server's
    /// user as PostgreSQL demands) and a second CA, and turns `ssl` on.
    fn write_certificates(&mut self) -> Result<PostgresTls, String> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        use std::os::unix::fs::PermissionsExt;
        fn ca(name: &str) -> Result<(String, Issuer<'static, KeyPair>), rcgen::Error> {
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
            let pem = params.self_signed(&key)?.pem();
            Ok((pem, Issuer::new(params, key)))
        }
        let make = || -> Result<_, rcgen::Error> {
            let (ca_pem, issuer) = ca("chitchat test CA")?;
            let (other_ca_pem, _) = ca("chitchat other CA")?;
            let server_key = KeyPair::generate()?;
            let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
            params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
            let server_pem = params.signed_by(&server_key, &issuer)?.pem();
            Ok((ca_pem, other_ca_pem, server_pem, server_key.serialize_pem()))
        };
        let (ca_pem, other_ca_pem, server_pem, key_pem) = make().map_err(|e| format!("certificates: {e}"))?;
        let dir = self.data.path();
        let write = |name: &str, text: &str| -> Result<PathBuf, String> {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(path)
        };
        let cert_file = write("server.crt", &server_pem)?;
        let key_file = write("server.key", &key_pem)?;
        let tls =
            PostgresTls { ca_file: write("ca.crt", &ca_pem)?, other_ca_file: write("other-ca.crt", &other_ca_pem)? };
        if running_as_root() {
            let mut chown = Command::new("chown");
            chown.arg("postgres:postgres").arg(&cert_file).arg(&key_file);
            run(chown, "chown")?;
        }
        self.extra_options =
            format!(" -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}", cert_file.display(), key_file.display());
        Ok(tls)
    }

    /// `postgres://` URL of the `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut command = as_server_user(&self.bin.join("pg_ctl"));
        command.arg("-D").arg(self.data.path().join("db")).args(args);
        command
    }

    async fn start_server(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1{}",
            self.port,
            self.data.path().display(),
            self.extra_options
        );
        let log = self.data.path().join("server.log");
        let mut start = self.pg_ctl(&["-w", "-t", "30", "-o", &options, "-l"]);
        start.arg(&log).arg("start");
        run(start, "pg_ctl start")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            if Instant::now() > deadline {
                return Err(format!("PostgreSQL did not listen on port {}", self.port));
            }
            sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Stops the server as an operator's restart does (`-m fast`: connections are
    /// cut, nothing committed is lost).
    pub async fn stop(&self) {
        run(self.pg_ctl(&["-w", "-m", "fast", "stop"]), "pg_ctl stop").expect("PostgreSQL stops");
    }

    /// Starts it again on the same port, with the same data.
    pub async fn restart(&self) {
        self.start_server().await.expect("PostgreSQL starts again");
    }
}

impl Drop for OwnedPostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "stop"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}
