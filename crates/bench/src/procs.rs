//! The processes a run measures (the `chitchat` binary through the testkit, the
//! bare server here), their memory, and the machine they run on.

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The binaries a run starts: the two servers, and the process that holds idle
/// client connections.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub chitchat: PathBuf,
    pub bare: PathBuf,
    pub idle_clients: PathBuf,
}

impl Binaries {
    /// Finds them next to `bench_exe` (the `chitchat-bench` binary, or a test's
    /// `deps/` folder below it). `CHITCHAT_BIN` overrides the server's path. When
    /// started through cargo (`CARGO` is set) or when one is missing, they are built
    /// first with the profile of the folder (`cargo run` builds only the binary it
    /// runs), so that a run never measures a stale server.
    pub fn beside(bench_exe: &Path, rebuild: bool) -> Result<Self> {
        let mut dir = bench_exe.parent().context("binary has no folder")?.to_owned();
        if dir.file_name().is_some_and(|n| n == "deps") {
            dir.pop();
        }
        // Made absolute: the testkit starts the server from another working directory.
        let chitchat = match std::env::var_os("CHITCHAT_BIN") {
            Some(path) => std::path::absolute(&path).with_context(|| format!("CHITCHAT_BIN {path:?}"))?,
            None => dir.join("chitchat"),
        };
        let binaries = Self { chitchat, bare: dir.join("bare-broadcast"), idle_clients: dir.join("idle-clients") };
        let missing = [&binaries.chitchat, &binaries.bare, &binaries.idle_clients].iter().any(|path| !path.exists());
        if rebuild || missing {
            build_binaries(&dir)?;
        }
        Ok(binaries)
    }
}

fn build_binaries(profile_dir: &Path) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command.args(["build", "--quiet", "-p", "chitchat-server", "-p", "chitchat-bench", "--bins"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        command.arg("--release");
    }
    if let Some(target) = profile_dir.parent() {
        command.env("CARGO_TARGET_DIR", target);
    }
    let status = command.status().context("running cargo build for the server and the benchmark's binaries")?;
    if !status.success() {
        bail!("cargo build -p chitchat-server -p chitchat-bench --bins failed ({status})");
    }
    Ok(())
}

/// A running `bare-broadcast` process; killed when dropped.
pub struct BareServer {
    pub ws_base: String,
    child: Child,
}

impl BareServer {
    pub async fn start(binary: &Path) -> Result<Self> {
        let mut child = Command::new(binary)
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("stdout is piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .map_err(|_| anyhow!("bare-broadcast did not start in 30 s"))??
            .context("bare-broadcast exited before listening")?;
        let url = line.strip_prefix(crate::bare::LISTENING).context("unexpected first line of bare-broadcast")?;
        // Keep reading so that the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { ws_base: url.trim().replacen("http://", "ws://", 1), child })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `ws://…/ws?room=ROOM`
    pub fn room_url(&self, room: &str) -> String {
        format!("{}/ws?room={room}", self.ws_base)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Resident memory of a process in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Result<u64> {
    status_kib(pid, "VmRSS:")
}

/// The most resident memory a process has had so far, in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:").ok()
}

fn status_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// CPU time a process has used so far, user and system, all threads together, in
/// seconds (`utime` + `stime` of `/proc/PID/stat`, in ticks of `USER_HZ`, which is
/// 100 on Linux).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are plain numbers.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// CPU time the whole machine has spent busy and in all, in seconds summed over
/// cores (the `cpu` line of `/proc/stat`: busy is everything but `idle` and
/// `iowait`), to see how much of the machine other work took during a run.
pub fn machine_cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> =
        stat.lines().next()?.split_whitespace().skip(1).take(8).filter_map(|t| t.parse().ok()).collect();
    let total: u64 = ticks.iter().sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some(((total - idle) as f64 / 100.0, total as f64 / 100.0))
}

/// Cores busy on average over a stretch of time (CPU seconds per second).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CpuShare {
    /// The chitchat processes together.
    pub chitchat: f64,
    /// This process: the load generator.
    pub load_generator: f64,
    /// The whole machine: the above, PostgreSQL, Redis and any other work.
    pub machine: f64,
}

/// Reads the CPU counters at the start of a stretch of time.
pub struct CpuClock {
    pids: Vec<u32>,
    started: std::time::Instant,
    chitchat: f64,
    load_generator: f64,
    machine: f64,
}

impl CpuClock {
    pub fn start(pids: &[u32]) -> Self {
        let (chitchat, load_generator, machine) = Self::read(pids);
        Self { pids: pids.to_vec(), started: std::time::Instant::now(), chitchat, load_generator, machine }
    }

    fn read(pids: &[u32]) -> (f64, f64, f64) {
        (
            pids.iter().filter_map(|&pid| cpu_seconds(pid)).sum(),
            cpu_seconds(std::process::id()).unwrap_or_default(),
            machine_cpu_seconds().map_or(0.0, |(busy, _)| busy),
        )
    }

    pub fn share(&self) -> CpuShare {
        let (chitchat, load_generator, machine) = Self::read(&self.pids);
        let seconds = self.started.elapsed().as_secs_f64();
        CpuShare {
            chitchat: (chitchat - self.chitchat) / seconds,
            load_generator: (load_generator - self.load_generator) / seconds,
            machine: (machine - self.machine) / seconds,
        }
    }
}

/// Threads of a process (`Threads` of `/proc/PID/status`).
pub fn threads(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| line.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok())
}

/// The soft limit on open files of this process; child processes inherit it.
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The machine a run measured, for the results.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub memory: String,
    pub kernel: String,
    pub open_files_limit: Option<u64>,
    pub postgres: Option<String>,
}

impl Machine {
    pub async fn describe(postgres_url: Option<&str>) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim()))
            .unwrap_or("unknown")
            .to_owned();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next()?.parse::<u64>().ok())
            .map_or_else(|| "unknown".to_owned(), |kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0));
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
        let postgres = match postgres_url {
            Some(url) => postgres_settings(url).await.ok(),
            None => None,
        };
        Self {
            cpu_model,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory,
            kernel,
            open_files_limit: open_files_limit(),
            postgres,
        }
    }
}

async fn postgres_settings(url: &str) -> Result<String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(connection);
    let mut parts = Vec::new();
    for setting in ["server_version", "synchronous_commit", "fsync", "shared_buffers", "max_connections"] {
        let row = client.query_one(&format!("SHOW {setting}"), &[]).await?;
        parts.push(format!("{setting}={}", row.get::<_, String>(0)));
    }
    drop(client);
    let _ = task.await;
    Ok(parts.join(", "))
}
