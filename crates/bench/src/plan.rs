//! How big and how long each scenario runs: `full` for the documented figures
//! (about sixteen minutes on a 2-core machine for the first seven sections of
//! `docs/benchmarks.md`, six of them history and search, four the 100k
//! connections, and a few more for the receipts and the mix), `quick` for a look
//! in a few minutes.

use anyhow::{bail, Result};
use chitchat_testkit::TestBackend;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Quick,
    Full,
}

/// The scenarios, in the order `all` runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// 1. Durable send rate on PostgreSQL against plain INSERTs.
    SendRate,
    /// 2. Deliveries per second to N connected devices against the bare server.
    Fanout,
    /// 3. Send -> deliver latency at a fixed rate with idle clients connected.
    Latency,
    /// 4. Memory per idle connection.
    Connections,
    /// 7. Embedded mode: send rate and latency on SQLite.
    Embedded,
    /// 6. History pages and message search with many messages stored.
    History,
    /// 5. One against two instances linked by Redis, same load.
    ScaleOut,
    /// 4. Idle connections across several instances sharing Redis.
    ClusterConnections,
    /// Delivery and read receipts in a group, against plain INSERTs.
    Receipts,
    /// Messages, receipts and typing of many connected users, stepped up to the
    /// highest rate whose p99 stays under 100 ms.
    Mix,
    /// Two people on ChitChat, Synapse and ejabberd (installed apart; not in the
    /// default list).
    Peers,
}

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::SendRate,
        Scenario::Fanout,
        Scenario::Latency,
        Scenario::Connections,
        Scenario::Embedded,
        Scenario::History,
        Scenario::ScaleOut,
        Scenario::ClusterConnections,
        Scenario::Receipts,
        Scenario::Mix,
    ];

    /// Scenarios run only when named.
    pub const EXTRA: [Scenario; 1] = [Scenario::Peers];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::SendRate => "send-rate",
            Scenario::Fanout => "fanout",
            Scenario::Latency => "latency",
            Scenario::Connections => "connections",
            Scenario::Embedded => "embedded",
            Scenario::History => "history",
            Scenario::ScaleOut => "scale-out",
            Scenario::ClusterConnections => "cluster-connections",
            Scenario::Receipts => "receipts",
            Scenario::Mix => "mix",
            Scenario::Peers => "peers",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        let known = Self::ALL.into_iter().chain(Self::EXTRA);
        match known.clone().find(|s| s.name() == name) {
            Some(scenario) => Ok(scenario),
            None => {
                bail!("unknown scenario {name:?}; known: {}", known.map(Scenario::name).collect::<Vec<_>>().join(", "))
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub mode: Mode,
    /// Database of the server in the fan-out, latency and connection scenarios
    /// (PostgreSQL; the smoke test uses SQLite). Send rate is always PostgreSQL,
    /// embedded always SQLite.
    #[serde(serialize_with = "backend_name")]
    pub backend: TestBackend,
    /// Load before a measurement window starts.
    pub warmup: Duration,
    /// Length of a throughput measurement window.
    pub measure: Duration,
    /// Concurrent senders, each in a direct chat of its own (send rate, embedded).
    pub senders: usize,
    /// Database connections: the server's pool (`DB_MAX_OPEN_CONNS`) and the number
    /// of concurrent writers of the plain-INSERT baseline.
    pub db_connections: usize,
    /// Receiving devices per fan-out run.
    pub fanout_sizes: Vec<usize>,
    /// Sending connections in a fan-out run.
    pub fanout_senders: usize,
    /// Messages per fan-out sender that may be on their way to every receiver
    /// (each sender has one message in flight itself).
    pub fanout_window: usize,
    /// Offered loads of the latency scenario, messages per second.
    pub latency_rates: Vec<u32>,
    /// Sender/receiver pairs sharing the offered load.
    pub latency_pairs: usize,
    /// Idle connected clients during the latency runs.
    pub latency_idle: usize,
    /// Length of one latency run (after the warm-up).
    pub latency_duration: Duration,
    /// Idle connection counts at which memory is read.
    pub connection_steps: Vec<usize>,
    /// Loopback source addresses used in turn (127.0.0.1 ..= 127.0.0.N).
    pub source_addresses: usize,
    /// Logins (and WebSocket handshakes) in flight at once while setting up.
    pub setup_concurrency: usize,
    /// Messages bulk-loaded into the database of the history scenario.
    pub history_messages: usize,
    /// Direct chats they are spread over, the reader a member of every one.
    pub history_chats: usize,
    /// Measured requests per kind of history or search request, one at a time,
    /// after a warm-up of a tenth as many (or of a tenth of the time limit).
    pub history_requests: usize,
    /// The most time one kind of request may take in all, so that a slow query
    /// cannot stretch the run: fewer requests are made then.
    pub history_time_limit: Duration,
    /// Receivers of the fan-out load of the scale-out scenario.
    pub scale_out_receivers: usize,
    /// Instances of the larger deployment of the scale-out scenario.
    pub scale_out_instances: usize,
    /// Idle devices spread over the instances of the cluster-connections scenario.
    pub cluster_connections: usize,
    /// Instances they are spread over, sharing one database and one Redis.
    pub cluster_instances: usize,
    /// Members of the group of the receipts scenario, its sender included.
    pub receipts_group: usize,
    /// Sending devices (of one member) in the receipts scenario.
    pub receipts_senders: usize,
    /// Users connected in the mix scenario (`--mix-users`), in groups of four.
    pub mix_users: usize,
    /// Offered message rates of the mix's steps, in order until one does not hold
    /// (`--mix-rates`).
    pub mix_rates: Vec<u32>,
    /// Length of one step of the mix (after the warm-up).
    pub mix_step: Duration,
}

fn backend_name<S: serde::Serializer>(backend: &TestBackend, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match backend {
        TestBackend::Sqlite => "sqlite",
        TestBackend::Postgres => "postgres",
    })
}

impl Plan {
    /// The documented run.
    pub fn full() -> Self {
        Self {
            mode: Mode::Full,
            backend: TestBackend::Postgres,
            warmup: Duration::from_secs(2),
            measure: Duration::from_secs(10),
            senders: 50,
            db_connections: 25,
            fanout_sizes: vec![10, 100, 1000],
            fanout_senders: 8,
            fanout_window: 8,
            latency_rates: vec![200, 1000],
            latency_pairs: 50,
            latency_idle: 10_000,
            latency_duration: Duration::from_secs(20),
            connection_steps: vec![2500, 5000, 10_000, 18_000],
            source_addresses: 8,
            setup_concurrency: 16,
            history_messages: 1_000_000,
            history_chats: 100,
            history_requests: 1000,
            history_time_limit: Duration::from_secs(60),
            scale_out_receivers: 100,
            scale_out_instances: 2,
            cluster_connections: 100_000,
            cluster_instances: 6,
            receipts_group: 100,
            receipts_senders: 2,
            mix_users: 10_000,
            mix_rates: vec![100, 150, 200, 300, 400, 600, 800, 1200, 1600],
            mix_step: Duration::from_secs(10),
        }
    }

    /// Seconds per scenario.
    pub fn quick() -> Self {
        Self {
            mode: Mode::Quick,
            warmup: Duration::from_millis(500),
            measure: Duration::from_secs(2),
            senders: 20,
            fanout_sizes: vec![10, 100],
            latency_rates: vec![200],
            latency_pairs: 20,
            latency_idle: 1000,
            latency_duration: Duration::from_secs(3),
            connection_steps: vec![500, 1000, 2000],
            history_messages: 20_000,
            history_chats: 20,
            history_requests: 200,
            history_time_limit: Duration::from_secs(10),
            cluster_connections: 2000,
            cluster_instances: 2,
            mix_users: 400,
            mix_rates: vec![50, 100, 150, 200, 300],
            mix_step: Duration::from_secs(3),
            ..Self::full()
        }
    }

    /// Description of the backend for tables.
    pub fn backend_label(&self) -> &'static str {
        backend_label(self.backend)
    }
}

pub fn backend_label(backend: TestBackend) -> &'static str {
    match backend {
        TestBackend::Sqlite => "SQLite",
        TestBackend::Postgres => "PostgreSQL",
    }
}
