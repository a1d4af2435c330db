//! The scenarios. Each starts the servers it measures, drives them with the same
//! client code, and returns a report with the ratio of ChitChat to its baseline.

pub mod cluster_connections;
pub mod connections;
pub mod device;
pub mod fanout;
pub mod history;
pub mod history_data;
pub mod insert_latency;
pub mod latency;
pub mod mix;
pub mod peers;
pub mod receipts;
pub mod scale_out;
pub mod send_rate;

use crate::plan::Plan;
use crate::procs::Binaries;
use anyhow::{bail, Context, Result};
use chitchat_testkit::{TestBackend, TestServer};
use std::time::Duration;

/// What every scenario needs.
pub struct Ctx {
    pub plan: Plan,
    pub binaries: Binaries,
}

impl Ctx {
    /// Starts `chitchat` on a fresh database of `backend`, with the plan's pool size.
    pub async fn start_chitchat(&self, backend: TestBackend) -> Result<Running> {
        let pool = self.plan.db_connections.to_string();
        let env = [("DB_MAX_OPEN_CONNS", pool.as_str()), ("DB_MAX_IDLE_CONNS", pool.as_str())];
        let Some(server) = TestServer::start_with_env(&self.binaries.chitchat, backend, &env).await else {
            bail!("PostgreSQL is not reachable (TEST_DATABASE_URL); the benchmarks need it");
        };
        Ok(Running { server, backend })
    }

    /// Starts `instances` chitchat processes as one deployment: one fresh PostgreSQL
    /// database, one Redis (`TEST_REDIS_URL`) linking them, the plan's pool size each.
    pub async fn start_deployment(&self, instances: usize) -> Result<Deployment> {
        let pool = self.plan.db_connections.to_string();
        let env = [("DB_MAX_OPEN_CONNS", pool.as_str()), ("DB_MAX_IDLE_CONNS", pool.as_str())];
        let Some(servers) = TestServer::start_cluster(&self.binaries.chitchat, instances, &env).await else {
            bail!("PostgreSQL (TEST_DATABASE_URL) or Redis (TEST_REDIS_URL) is not reachable; scale-out needs both");
        };
        Ok(Deployment { servers })
    }
}

/// Several `chitchat` processes on one database, linked by Redis; `finish` stops
/// them and drops the database.
pub struct Deployment {
    pub servers: Vec<TestServer>,
}

impl Deployment {
    /// `ws://host:port` of every instance.
    pub fn ws_bases(&self) -> Vec<String> {
        self.servers.iter().map(TestServer::ws_url).collect()
    }

    pub fn pids(&self) -> Vec<u32> {
        self.servers.iter().filter_map(TestServer::pid).collect()
    }

    pub async fn finish(mut self) {
        for server in &mut self.servers {
            server.stop().await;
        }
        if let Some(server) = self.servers.first() {
            if let Err(error) = drop_database(&server.database_url).await {
                eprintln!("warning: could not drop the benchmark database: {error}");
            }
        }
    }
}

/// A `chitchat` process on a database of its own; `finish` stops it and drops a
/// PostgreSQL database, so that runs do not leave databases behind.
pub struct Running {
    pub server: TestServer,
    pub backend: TestBackend,
}

impl Running {
    pub fn pid(&self) -> Result<u32> {
        self.server.pid().context("the chitchat process has exited")
    }

    pub async fn finish(mut self) {
        self.server.stop().await;
        if self.backend == TestBackend::Postgres {
            if let Err(error) = drop_database(&self.server.database_url).await {
                eprintln!("warning: could not drop the benchmark database: {error}");
            }
        }
    }
}

async fn drop_database(url: &str) -> Result<()> {
    let name = url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default().to_owned();
    if !name.starts_with("chitchat_t_") {
        return Ok(());
    }
    let admin = format!("{}/postgres", url.rsplit_once('/').map_or(url, |(base, _)| base));
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(connection);
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

/// Lets a freshly loaded server settle (allocations, connection tasks) before reading it.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}
