//! CPU time per message and per delivery: the server processes' and PostgreSQL's
//! CPU time (`utime` + `stime` from `/proc`) over a measurement window, divided by
//! what was done in it. PostgreSQL is every process whose `comm` is `postgres`: the
//! postmaster, its background workers and every backend, the server's pool
//! included. A backend that ends inside the window takes its time with it, which is
//! why the scenarios keep their connections open across their windows.

use crate::procs::cpu_seconds;
use crate::report;
use serde::Serialize;
use std::collections::HashMap;

/// The CPU seconds of each PostgreSQL process now.
fn postgres_processes() -> HashMap<u32, f64> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return HashMap::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "postgres"))
        .filter_map(|pid| Some((pid, cpu_seconds(pid)?)))
        .collect()
}

/// The counters at the start of a window.
pub struct CpuWindow {
    servers: Vec<u32>,
    server_start: f64,
    postgres_start: HashMap<u32, f64>,
}

impl CpuWindow {
    /// Starts a window for the server processes `servers` (none for a baseline
    /// that has no server) and PostgreSQL.
    pub fn start(servers: &[u32]) -> Self {
        Self {
            servers: servers.to_vec(),
            server_start: servers.iter().filter_map(|&pid| cpu_seconds(pid)).sum(),
            postgres_start: postgres_processes(),
        }
    }

    /// CPU used since `start`. A PostgreSQL process born inside the window counts
    /// from zero.
    pub fn stop(&self) -> CpuUsed {
        let server_end: f64 = self.servers.iter().filter_map(|&pid| cpu_seconds(pid)).sum();
        let postgres = postgres_processes()
            .into_iter()
            .map(|(pid, now)| now - self.postgres_start.get(&pid).copied().unwrap_or(0.0))
            .filter(|used| *used > 0.0)
            .sum();
        CpuUsed { server_s: (server_end - self.server_start).max(0.0), postgres_s: postgres }
    }
}

/// CPU seconds used in a window.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CpuUsed {
    pub server_s: f64,
    pub postgres_s: f64,
}

/// CPU per unit of work in a window, in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CpuCost {
    pub used: CpuUsed,
    pub messages: u64,
    pub deliveries: u64,
    pub server_us_per_message: f64,
    pub postgres_us_per_message: f64,
    pub server_us_per_delivery: f64,
    pub postgres_us_per_delivery: f64,
}

impl CpuCost {
    /// `used` spread over the `messages` handled and `deliveries` made in the window.
    pub fn of(used: CpuUsed, messages: u64, deliveries: u64) -> Self {
        let per = |seconds: f64, count: u64| report::div(seconds * 1e6, count as f64);
        Self {
            used,
            messages,
            deliveries,
            server_us_per_message: per(used.server_s, messages),
            postgres_us_per_message: per(used.postgres_s, messages),
            server_us_per_delivery: per(used.server_s, deliveries),
            postgres_us_per_delivery: per(used.postgres_s, deliveries),
        }
    }

    /// The same, the server left out: for a baseline that talks to PostgreSQL
    /// without one.
    pub fn postgres_only(self) -> Self {
        Self { server_us_per_message: f64::NAN, server_us_per_delivery: f64::NAN, ..self }
    }

    /// The same, PostgreSQL left out: for a server that does not use it (the bare
    /// server), whose window would only show PostgreSQL's idle work.
    pub fn server_only(self) -> Self {
        Self { postgres_us_per_message: f64::NAN, postgres_us_per_delivery: f64::NAN, ..self }
    }

    /// The four cells of `HEADER`.
    pub fn cells(&self) -> Vec<String> {
        [
            self.server_us_per_message,
            self.postgres_us_per_message,
            self.server_us_per_delivery,
            self.postgres_us_per_delivery,
        ]
        .into_iter()
        .map(micros)
        .collect()
    }
}

/// The columns every scenario's table gets, filled by `CpuCost::cells`.
pub const HEADER: [&str; 4] =
    ["server CPU µs/msg", "PostgreSQL CPU µs/msg", "server CPU µs/delivery", "PostgreSQL CPU µs/delivery"];

/// `HEADER` for a scenario whose unit of work is not a message (a receipt).
pub fn header(unit: &str) -> [String; 4] {
    HEADER.map(|column| column.replace("msg", unit))
}

/// Microseconds with one decimal, `n/a` when nothing was counted.
pub fn micros(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.1}")
    } else {
        "n/a".to_owned()
    }
}

/// A window opened at `from` and closed at `until` by a task of its own, so that
/// load loops need not stop to read the counters.
pub fn window_between(
    servers: Vec<u32>,
    from: std::time::Instant,
    until: std::time::Instant,
) -> tokio::task::JoinHandle<CpuUsed> {
    tokio::spawn(async move {
        tokio::time::sleep_until(from.into()).await;
        let window = CpuWindow::start(&servers);
        tokio::time::sleep_until(until.into()).await;
        window.stop()
    })
}
