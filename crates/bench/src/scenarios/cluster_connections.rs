//! Connections across instances: idle authenticated devices spread evenly over
//! several `chitchat` instances that share one PostgreSQL database and one Redis,
//! as behind a load balancer. One process may hold at most about 20,000 sockets on
//! our machines, so the clients are held by several `idle-clients` processes, and
//! each instance holds its share. Reported: every instance's memory per connection,
//! Redis's, and the bare server's per connection with the same client processes.

use super::Ctx;
use crate::load;
use crate::procs::{self, BareServer};
use crate::report::{self, Table};
use anyhow::{anyhow, bail, Context, Result};
use chitchat_testkit::TestServer;
use serde::Serialize;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Sockets one client process holds at most (below the 20,000 a process may hold).
const PER_CLIENT_PROCESS: usize = 16_000;
/// Database connections per instance: six instances must fit PostgreSQL's 100.
const POOL_PER_INSTANCE: &str = "8";

#[derive(Debug, Clone, Serialize)]
pub struct InstanceMemory {
    pub connections: usize,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterConnections {
    pub instances: Vec<InstanceMemory>,
    pub connections: usize,
    pub client_processes: usize,
    /// (sum of RSS growth over the instances) / connections.
    pub per_connection_kib: f64,
    pub redis_before_bytes: Option<u64>,
    pub redis_after_bytes: Option<u64>,
    pub logins_per_s: f64,
    pub opened_per_s: f64,
    pub dropped: usize,
    pub bare_connections: usize,
    pub bare_per_connection_kib: f64,
    pub ratio: f64,
}

impl ClusterConnections {
    pub fn table(&self) -> Table {
        let mut table = Table::new(
            format!(
                "{} idle devices across {} instances sharing PostgreSQL and Redis",
                report::rate(self.connections as f64),
                self.instances.len()
            ),
            &["instance", "connections", "RSS without sockets", "RSS with sockets", "KiB per connection"],
        );
        for (i, instance) in self.instances.iter().enumerate() {
            table.row(vec![
                format!("{}", i + 1),
                report::rate(instance.connections as f64),
                mib(instance.rss_before_kib),
                mib(instance.rss_after_kib),
                format!(
                    "{:.1}",
                    report::div(
                        instance.rss_after_kib.saturating_sub(instance.rss_before_kib) as f64,
                        instance.connections as f64
                    )
                ),
            ]);
        }
        let before: u64 = self.instances.iter().map(|i| i.rss_before_kib).sum();
        let after: u64 = self.instances.iter().map(|i| i.rss_after_kib).sum();
        table.row(vec![
            "all".to_owned(),
            report::rate(self.connections as f64),
            mib(before),
            mib(after),
            format!("{:.1} ({} bare)", self.per_connection_kib, report::ratio(self.ratio)),
        ]);
        if let (Some(before), Some(after)) = (self.redis_before_bytes, self.redis_after_bytes) {
            table.row(vec![
                "Redis".to_owned(),
                report::rate(self.connections as f64),
                mib(before / 1024),
                mib(after / 1024),
                format!("{:.2}", report::div(after.saturating_sub(before) as f64 / 1024.0, self.connections as f64)),
            ]);
        }
        table
    }

    /// Each instance's memory without and with its share of the sockets, and the
    /// bare server's with as many.
    pub fn plot(&self, path: &Path) -> Result<()> {
        let mut categories: Vec<String> = (1..=self.instances.len()).map(|i| format!("instance {i}")).collect();
        categories.push("bare actix-ws".to_owned());
        let bare_after = self.bare_per_connection_kib * self.bare_connections as f64 / 1024.0;
        let mut before: Vec<f64> = self.instances.iter().map(|i| i.rss_before_kib as f64 / 1024.0).collect();
        let mut after: Vec<f64> = self.instances.iter().map(|i| i.rss_after_kib as f64 / 1024.0).collect();
        before.push(0.0);
        after.push(bare_after);
        crate::plot::bars(
            path,
            &format!(
                "{} idle connections over {} instances with Redis (bare: growth with as many as one instance)",
                report::rate(self.connections as f64),
                self.instances.len()
            ),
            "resident memory, MiB",
            &categories,
            &[
                crate::plot::Bars { name: "without sockets", values: before },
                crate::plot::Bars { name: "with sockets", values: after },
            ],
            false,
        )
    }

    pub fn notes(&self) -> Vec<String> {
        vec![
            format!(
                "{} client processes; logins {:.0}/s, handshakes {:.0}/s; {} connections dropped while held",
                self.client_processes, self.logins_per_s, self.opened_per_s, self.dropped
            ),
            format!(
                "bare actix-ws, same client processes: {:.1} KiB per connection at {} connections",
                self.bare_per_connection_kib,
                report::rate(self.bare_connections as f64)
            ),
        ]
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub async fn run(ctx: &Ctx) -> Result<ClusterConnections> {
    let plan = &ctx.plan;
    let (count, instances) = (plan.cluster_connections, plan.cluster_instances.max(1));
    let per_instance = count.div_ceil(instances);
    if let Some(limit) = procs::open_files_limit() {
        if (limit as usize) < per_instance.min(PER_CLIENT_PROCESS) + 200 {
            bail!("{per_instance} connections per process need an open-file limit above that; it is {limit}");
        }
    }
    let holder = ctx.binaries.idle_clients.clone();
    let env = [("DB_MAX_OPEN_CONNS", POOL_PER_INSTANCE), ("DB_MAX_IDLE_CONNS", POOL_PER_INSTANCE)];
    let Some(servers) = TestServer::start_cluster(&ctx.binaries.chitchat, instances, &env).await else {
        bail!("PostgreSQL or Redis is not reachable (TEST_DATABASE_URL, TEST_REDIS_URL); this scenario needs both");
    };
    let deployment = super::Deployment { servers };
    let measured = measure_cluster(ctx, &holder, &deployment.servers, count).await;
    deployment.finish().await;
    let mut result = measured?;

    // The bare server with as many sockets as one instance held, through the same
    // client processes.
    let bare_server = BareServer::start(&ctx.binaries.bare).await?;
    let urls: Vec<String> = (0..per_instance).map(|i| bare_server.room_url(&format!("idle-{i}"))).collect();
    let bare = async {
        let pid = bare_server.pid().ok_or_else(|| anyhow!("bare-broadcast has exited"))?;
        super::settle().await;
        let before = procs::rss_kib(pid)?;
        let holders = hold(&holder, &urls, plan).await?;
        super::settle().await;
        let after = procs::rss_kib(pid)?;
        release(holders).await?;
        Ok::<f64, anyhow::Error>(report::div(after.saturating_sub(before) as f64, per_instance as f64))
    }
    .await;
    bare_server.stop().await;
    result.bare_per_connection_kib = bare?;
    result.bare_connections = per_instance;
    result.ratio = report::div(result.per_connection_kib, result.bare_per_connection_kib);
    Ok(result)
}

async fn measure_cluster(ctx: &Ctx, holder: &Path, servers: &[TestServer], count: usize) -> Result<ClusterConnections> {
    let plan = &ctx.plan;
    let instances = servers.len();
    // Users log in through the instance their device will connect to.
    let began = Instant::now();
    let mut logins = Vec::new();
    for (k, server) in servers.iter().enumerate() {
        let (api, first, share) = (server.client(), k * count / instances, (k + 1) * count / instances);
        let concurrency = plan.setup_concurrency;
        logins.push(tokio::spawn(async move { load::login_users(&api, first, share - first, concurrency).await }));
    }
    let mut urls: Vec<Vec<String>> = Vec::new();
    for (k, task) in logins.into_iter().enumerate() {
        let people = task.await.context("logging in")?;
        load::progress(&format!("{} users logged in on instance {}", people.len(), k + 1));
        urls.push(people.iter().map(|login| load::device_url(&servers[k].ws_url(), login)).collect());
    }
    let logins_per_s = report::div(count as f64, began.elapsed().as_secs_f64());

    super::settle().await;
    let pids: Vec<u32> = servers.iter().map(|s| s.pid().context("an instance has exited")).collect::<Result<_>>()?;
    let rss_before: Vec<u64> = pids.iter().map(|&pid| procs::rss_kib(pid)).collect::<Result<_>>()?;
    let redis_before = redis_used_memory().await;

    // Each instance's devices in turn, so that every client process holds sockets
    // of one or two instances and each handshake finds its instance warm.
    let all: Vec<String> = urls.iter().flatten().cloned().collect();
    let began = Instant::now();
    let holders = hold(holder, &all, plan).await?;
    let opened_per_s = report::div(all.len() as f64, began.elapsed().as_secs_f64());
    load::progress(&format!("{} devices connected through {} client processes", all.len(), holders.len()));
    super::settle().await;
    let rss_after: Vec<u64> = pids.iter().map(|&pid| procs::rss_kib(pid)).collect::<Result<_>>()?;
    let redis_after = redis_used_memory().await;
    let client_processes = holders.len();
    let dropped = release(holders).await?;

    let instances: Vec<InstanceMemory> = (0..instances)
        .map(|k| InstanceMemory {
            connections: urls[k].len(),
            rss_before_kib: rss_before[k],
            rss_after_kib: rss_after[k],
        })
        .collect();
    let growth: u64 = instances.iter().map(|i| i.rss_after_kib.saturating_sub(i.rss_before_kib)).sum();
    Ok(ClusterConnections {
        per_connection_kib: report::div(growth as f64, count as f64),
        instances,
        connections: count,
        client_processes,
        redis_before_bytes: redis_before,
        redis_after_bytes: redis_after,
        logins_per_s,
        opened_per_s,
        dropped,
        bare_connections: 0,
        bare_per_connection_kib: 0.0,
        ratio: 0.0,
    })
}

/// An `idle-clients` process holding some of the sockets.
struct Holder {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

/// Opens `urls` through as many `idle-clients` processes as needed, all at once.
async fn hold(binary: &Path, urls: &[String], plan: &crate::plan::Plan) -> Result<Vec<Holder>> {
    let mut holders = Vec::new();
    for chunk in urls.chunks(PER_CLIENT_PROCESS) {
        let mut child = Command::new(binary)
            .args([plan.source_addresses.to_string(), plan.setup_concurrency.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut stdin = child.stdin.take().context("stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let mut list = chunk.join("\n");
        list.push_str("\n\n");
        stdin.write_all(list.as_bytes()).await?;
        stdin.flush().await?;
        holders.push(Holder { child, stdin, stdout });
    }
    for holder in &mut holders {
        let line = holder.stdout.next_line().await?.unwrap_or_default();
        if !line.starts_with("opened ") {
            bail!("a client process could not open its connections ({line:?})");
        }
    }
    Ok(holders)
}

/// Closes every holder's sockets; returns how many the servers had dropped.
async fn release(holders: Vec<Holder>) -> Result<usize> {
    let mut dropped = 0;
    for mut holder in holders {
        holder.stdin.write_all(b"close\n").await?;
        holder.stdin.flush().await?;
        let line = holder.stdout.next_line().await?.unwrap_or_default();
        dropped += line.strip_prefix("dropped ").and_then(|n| n.trim().parse::<usize>().ok()).unwrap_or(0);
        let _ = holder.child.wait().await;
    }
    Ok(dropped)
}

/// Redis's `used_memory`, read with a plain `INFO memory`; None when unreachable.
async fn redis_used_memory() -> Option<u64> {
    let url = chitchat_testkit::services::test_redis_url();
    let address = url.strip_prefix("redis://")?.split('/').next()?.rsplit('@').next()?.to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
    stream.write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n").await.ok()?;
    let mut reply = vec![0u8; 16 * 1024];
    let read = stream.read(&mut reply).await.ok()?;
    let text = String::from_utf8_lossy(&reply[..read]);
    text.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok())
}
