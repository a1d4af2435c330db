//! `idle-clients [SPREAD] [CONCURRENCY]`: holds idle WebSocket connections for a
//! benchmark run in a process of their own, since one process may hold at most
//! about 20,000 sockets. Reads one `ws://` URL per line from stdin up to an empty
//! line, opens them all (`CONCURRENCY` handshakes at a time, from `SPREAD` loopback
//! addresses), prints `opened COUNT SECONDS`, then holds them, answering pings,
//! until stdin says `close` or ends, and prints `dropped COUNT` (sockets the server
//! ended before that).

use anyhow::{Context, Result};
use chitchat_bench::load::{self, Idle};
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let spread: usize = args.next().map_or(Ok(8), |a| a.parse()).context("SPREAD")?;
    let concurrency: usize = args.next().map_or(Ok(64), |a| a.parse()).context("CONCURRENCY")?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut urls = Vec::new();
    while let Some(line) = lines.next_line().await? {
        if line.is_empty() {
            break;
        }
        urls.push(line);
    }
    let started = Instant::now();
    let sockets = load::connect_all(&urls, spread, concurrency).await?;
    println!("opened {} {:.3}", sockets.len(), started.elapsed().as_secs_f64());
    let idle = Idle::hold(sockets);
    while let Some(line) = lines.next_line().await? {
        if line.trim() == "close" {
            break;
        }
    }
    println!("dropped {}", idle.close().await);
    Ok(())
}
