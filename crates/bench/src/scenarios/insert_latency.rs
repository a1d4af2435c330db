//! The durable latency baseline: single-row INSERT + COMMIT (autocommit) into a
//! scratch table of the server's own database, offered open-loop at the latency
//! scenario's rate, so that ChitChat's send -> deliver percentiles sit next to what
//! one durable write costs on the same database in the same run.
//!
//! The writers share the rate as the latency scenario's pairs do: writer i's k-th
//! row is due at `start + (i + k * writers) * interval`. A row's latency runs from
//! when the writer issued it, or from its due time when the writer was still busy
//! with an earlier row then, so that a slow database shows in the figures instead of
//! slowing the schedule down (the timer's own wake-up delay is left out, as it is for
//! ChitChat's senders).

use super::send_rate::{PlainWriter, SCRATCH_TABLE};
use crate::cpu::{self, CpuCost};
use crate::load::{self, Latency};
use anyhow::{anyhow, Context, Result};
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct InsertLatency {
    pub offered_per_s: u32,
    pub writers: usize,
    /// Rows due after the warm-up, all committed (a failed INSERT fails the run).
    pub committed: u64,
    pub latency: Latency,
    /// PostgreSQL's CPU per row over the measured part.
    pub cpu: CpuCost,
}

/// Offers `rate` rows per second from `writers` connections for `warmup` and then
/// `duration`, measuring the rows due after the warm-up.
pub async fn run(url: &str, rate: u32, writers: usize, warmup: Duration, duration: Duration) -> Result<InsertLatency> {
    let writers = writers.max(1);
    let (admin, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let admin_task = tokio::spawn(connection);
    admin.batch_execute(SCRATCH_TABLE).await.context("creating the scratch table")?;
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let start = Instant::now() + Duration::from_millis(200);
    let (from, end) = (start + warmup, start + warmup + duration);
    let cpu_window = cpu::window_between(Vec::new(), from, end);
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let url = url.to_owned();
        let first = start + interval.mul_f64(writer as f64);
        let every = interval.mul_f64(writers as f64);
        tasks.push(tokio::spawn(async move {
            let mut plain = PlainWriter::connect(&url, writer).await?;
            let mut histogram = load::histogram()?;
            let (mut due, mut measured) = (first, 0u64);
            while due <= end {
                tokio::time::sleep_until(due.into()).await;
                let issued = Instant::now();
                // Behind schedule by more than a timer's wake-up: the database held this row up.
                let counted_from = if issued > due + Duration::from_millis(2) { due } else { issued };
                plain.insert_next().await?;
                if due >= from {
                    measured += 1;
                    let micros = u64::try_from(counted_from.elapsed().as_micros()).unwrap_or(u64::MAX);
                    load::record(&mut histogram, micros);
                }
                due += every;
            }
            plain.close().await;
            Ok::<_, anyhow::Error>((measured, histogram))
        }));
    }
    let mut histogram = load::histogram()?;
    let mut committed = 0;
    for task in tasks {
        let (count, part) = task.await.map_err(|e| anyhow!("writer task: {e}"))??;
        committed += count;
        histogram.add(&part).map_err(|e| anyhow!("{e}"))?;
    }
    let used = cpu_window.await.map_err(|e| anyhow!("CPU window: {e}"))?;
    let _ = admin.batch_execute("DROP TABLE bench_plain_messages").await;
    drop(admin);
    let _ = admin_task.await;
    Ok(InsertLatency {
        offered_per_s: rate,
        writers,
        committed,
        latency: Latency::of(&histogram),
        cpu: CpuCost::of(used, committed, 0).postgres_only(),
    })
}
