//! Connections: resident memory of the server process (`VmRSS`) before and after
//! opening N idle WebSocket connections, for ChitChat (authenticated devices, one
//! user each) and for the bare server, in the same run.

use super::Ctx;
use crate::load::{self, Idle};
use crate::procs::{self, BareServer};
use crate::report::{self, Table};
use anyhow::{bail, Result};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct MemoryPoint {
    pub connections: usize,
    pub rss_kib: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerMemory {
    /// Memory with no WebSocket open (after the logins, for ChitChat).
    pub idle_rss_kib: u64,
    pub points: Vec<MemoryPoint>,
    /// (RSS at the largest count - RSS without sockets) / largest count.
    pub per_connection_kib: f64,
    /// Handshakes per second while opening them.
    pub opened_per_s: f64,
    pub threads: Option<u64>,
    /// Connections the server closed while they were held.
    pub dropped: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Connections {
    pub backend: &'static str,
    pub chitchat: ServerMemory,
    pub bare: ServerMemory,
    pub ratio: f64,
}

impl Connections {
    pub fn table(&self) -> Table {
        let mut table = Table::new(
            format!("Memory per idle WebSocket connection, ChitChat on {}", self.backend),
            &[
                "server",
                "connections",
                "RSS without sockets",
                "RSS with sockets",
                "KiB per connection",
                "ratio to bare",
            ],
        );
        for (name, memory, ratio) in
            [("bare actix-ws", &self.bare, 1.0), ("ChitChat (authenticated devices)", &self.chitchat, self.ratio)]
        {
            let last = memory.points.last().copied().unwrap_or(MemoryPoint { connections: 0, rss_kib: 0 });
            table.row(vec![
                name.to_owned(),
                report::rate(last.connections as f64),
                format!("{:.1} MiB", memory.idle_rss_kib as f64 / 1024.0),
                format!("{:.1} MiB", last.rss_kib as f64 / 1024.0),
                format!("{:.1}", memory.per_connection_kib),
                report::ratio(ratio),
            ]);
        }
        table
    }
}

pub async fn run(ctx: &Ctx) -> Result<Connections> {
    let plan = &ctx.plan;
    let Some(&largest) = plan.connection_steps.last() else { bail!("no connection counts in the plan") };
    if let Some(limit) = procs::open_files_limit() {
        if (limit as usize) < largest + 200 {
            bail!(
                "{largest} connections need an open-file limit above {}; it is {limit} (raise it with ulimit -n)",
                largest + 200
            );
        }
    }

    let running = ctx.start_chitchat(plan.backend).await?;
    let chitchat = async {
        let server = &running.server;
        let (api, ws) = (server.client(), server.ws_url());
        let people = load::login_users(&api, 0, largest, plan.setup_concurrency).await;
        let urls: Vec<String> = people.iter().map(|login| load::device_url(&ws, login)).collect();
        measure(ctx, running.pid()?, &urls).await
    }
    .await;
    running.finish().await;
    let chitchat = chitchat?;

    let bare_server = BareServer::start(&ctx.binaries.bare).await?;
    let urls: Vec<String> = (0..largest).map(|i| bare_server.room_url(&format!("idle-{i}"))).collect();
    let bare = match bare_server.pid() {
        Some(pid) => measure(ctx, pid, &urls).await,
        None => Err(anyhow::anyhow!("bare-broadcast has exited")),
    };
    bare_server.stop().await;
    let bare = bare?;
    Ok(Connections {
        backend: plan.backend_label(),
        ratio: report::div(chitchat.per_connection_kib, bare.per_connection_kib),
        chitchat,
        bare,
    })
}

/// Reads the server's memory, then opens the sockets step by step, reading it again
/// after each step once the server has settled.
async fn measure(ctx: &Ctx, pid: u32, urls: &[String]) -> Result<ServerMemory> {
    let plan = &ctx.plan;
    super::settle().await;
    let idle_rss_kib = procs::rss_kib(pid)?;
    let mut points = Vec::new();
    let mut holders = Vec::new();
    let mut opened = 0;
    let mut connecting = std::time::Duration::ZERO;
    for &step in &plan.connection_steps {
        let began = Instant::now();
        let sockets = load::connect_all(&urls[opened..step], plan.source_addresses, plan.setup_concurrency).await;
        connecting += began.elapsed();
        let sockets = match sockets {
            Ok(sockets) => sockets,
            Err(error) => {
                for holder in holders {
                    Idle::close(holder).await;
                }
                return Err(error.context(format!("opening connections {opened}..{step}")));
            }
        };
        holders.push(Idle::hold(sockets));
        opened = step;
        super::settle().await;
        points.push(MemoryPoint { connections: step, rss_kib: procs::rss_kib(pid)? });
    }
    let threads = procs::threads(pid);
    let mut dropped = 0;
    for holder in holders {
        dropped += holder.close().await;
    }
    let last = points.last().copied().unwrap_or(MemoryPoint { connections: 0, rss_kib: idle_rss_kib });
    Ok(ServerMemory {
        idle_rss_kib,
        per_connection_kib: report::div(last.rss_kib.saturating_sub(idle_rss_kib) as f64, last.connections as f64),
        opened_per_s: report::div(opened as f64, connecting.as_secs_f64()),
        points,
        threads,
        dropped,
    })
}
