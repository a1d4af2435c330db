//! ChitChat's benchmark suite: a load generator of many WebSocket clients, the
//! baselines each figure is compared with (plain INSERTs, a bare actix-ws broadcast
//! server) measured in the same run with the same client, reports, and plots.
//! `docs/benchmarks.md` explains the scenarios and holds the figures.
#![allow(clippy::cast_precision_loss)]

pub mod bare;
pub mod cpu;
pub mod load;
pub mod peers;
pub mod plan;
pub mod plot;
pub mod procs;
pub mod report;
pub mod scenarios;

use anyhow::Result;
use chitchat_testkit::TestBackend;
use plan::{Plan, Scenario};
use procs::{Binaries, Machine};
use report::{ScenarioReport, Table};
use scenarios::latency::{LatencyReport, LatencyRun};
use scenarios::Ctx;
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;

/// Where a run writes, and what it writes down about itself.
pub struct Output {
    /// JSON results (`target/bench`).
    pub json_dir: PathBuf,
    /// SVG plots (`docs/bench` for the full run).
    pub plot_dir: PathBuf,
}

/// The context written next to every result.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub command: String,
    pub commit: Option<String>,
    pub machine: Machine,
    pub plan: Plan,
}

pub struct Runner {
    ctx: Ctx,
    output: Output,
    info: RunInfo,
}

impl Runner {
    pub async fn new(plan: Plan, binaries: Binaries, output: Output, command: String) -> Self {
        let database = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| chitchat_testkit::services::DEFAULT_TEST_DATABASE_URL.to_owned());
        let machine = Machine::describe(Some(&database)).await;
        let commit = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        let info = RunInfo { command, commit, machine, plan: plan.clone() };
        Self { ctx: Ctx { plan, binaries }, output, info }
    }

    pub fn info(&self) -> &RunInfo {
        &self.info
    }

    /// Runs the scenarios in order; a failed scenario is reported and the others
    /// still run. Each report is printed, written as JSON and plotted.
    pub async fn run(&mut self, scenarios: &[Scenario]) -> Vec<Result<ScenarioReport>> {
        let mut bare_latency = None;
        let mut reports = Vec::new();
        for &scenario in scenarios {
            eprintln!("== {} ({:?})", scenario.name(), self.ctx.plan.mode);
            let started = std::time::Instant::now();
            let outcome = self.one(scenario, &mut bare_latency).await;
            match &outcome {
                Ok(report) => {
                    report.print();
                    if let Err(error) = report.write_json(&self.output.json_dir, &self.info) {
                        eprintln!("could not write {}.json: {error:#}", report.name);
                    }
                }
                Err(error) => eprintln!("{} failed: {error:#}", scenario.name()),
            }
            eprintln!("== {} took {:.0} s", scenario.name(), started.elapsed().as_secs_f64());
            reports.push(outcome);
        }
        reports
    }

    #[expect(clippy::too_many_lines, reason = "one arm per scenario")]
    async fn one(&self, scenario: Scenario, bare_latency: &mut Option<Vec<LatencyRun>>) -> Result<ScenarioReport> {
        let ctx = &self.ctx;
        let plots = &self.output.plot_dir;
        std::fs::create_dir_all(plots)?;
        match scenario {
            Scenario::SendRate => {
                let result = scenarios::send_rate::run(ctx, TestBackend::Postgres, ctx.plan.senders).await?;
                send_rate_plot(plots.join("send-rate.svg"), &result)?;
                Ok(ScenarioReport {
                    name: scenario.name().to_owned(),
                    tables: vec![result.table()],
                    notes: vec![send_rate_note(&result), self.postgres_note()],
                    errors: result.errors.clone(),
                    data: json!(result),
                })
            }
            Scenario::Fanout => {
                let result = scenarios::fanout::run(ctx).await?;
                let categories: Vec<String> =
                    result.rows.iter().map(|r| format!("{} receivers", r.receivers)).collect();
                plot::bars(
                    &plots.join("fanout.svg"),
                    &format!("Fan-out: deliveries per second ({})", result.backend),
                    "deliveries / s",
                    &categories,
                    &[
                        plot::Bars {
                            name: "bare actix-ws",
                            values: result.rows.iter().map(|r| r.bare.deliveries_per_s).collect(),
                        },
                        plot::Bars {
                            name: "ChitChat",
                            values: result.rows.iter().map(|r| r.chitchat.deliveries_per_s).collect(),
                        },
                    ],
                    false,
                )?;
                let mut errors = Vec::new();
                let mut notes = vec![format!(
                    "Closed loop: {} sending connections, each sending its next message when its previous one \
                     came back to it, together keep at most {} messages per sender on their way to every receiver; \
                     deliveries are counted at the receivers only, over {:.1} s after a {:.1} s warm-up.",
                    result.senders,
                    result.window,
                    ctx.plan.measure.as_secs_f64(),
                    ctx.plan.warmup.as_secs_f64()
                )];
                for row in &result.rows {
                    notes.push(format!(
                        "{} receivers: ChitChat room = {}; messages per receiver min/max ChitChat {}/{}, bare {}/{}; \
                         missing after the run: ChitChat {}, bare {}",
                        row.receivers,
                        row.room,
                        row.chitchat.min_per_receiver,
                        row.chitchat.max_per_receiver,
                        row.bare.min_per_receiver,
                        row.bare.max_per_receiver,
                        row.chitchat.missing,
                        row.bare.missing
                    ));
                    errors.extend(
                        row.chitchat.errors.iter().map(|e| format!("ChitChat, {} receivers: {e}", row.receivers)),
                    );
                    errors.extend(row.bare.errors.iter().map(|e| format!("bare, {} receivers: {e}", row.receivers)));
                }
                Ok(ScenarioReport {
                    name: scenario.name().to_owned(),
                    tables: vec![result.table()],
                    notes,
                    errors,
                    data: json!(result),
                })
            }
            Scenario::Latency => {
                let result = scenarios::latency::run(ctx, ctx.plan.backend, bare_latency).await?;
                latency_plot(plots.join("latency.svg"), &result)?;
                Ok(latency_report(scenario.name(), &result))
            }
            Scenario::Connections => {
                let result = scenarios::connections::run(ctx).await?;
                let mib = |points: &[scenarios::connections::MemoryPoint], idle: u64| -> Vec<(f64, f64)> {
                    std::iter::once((0.0, idle as f64 / 1024.0))
                        .chain(points.iter().map(|p| (p.connections as f64, p.rss_kib as f64 / 1024.0)))
                        .collect()
                };
                plot::lines(
                    &plots.join("connections.svg"),
                    "Server memory (RSS) by idle WebSocket connections",
                    "idle connections",
                    "RSS, MiB",
                    &[
                        plot::Line {
                            name: "bare actix-ws",
                            points: mib(&result.bare.points, result.bare.idle_rss_kib),
                        },
                        plot::Line {
                            name: "ChitChat",
                            points: mib(&result.chitchat.points, result.chitchat.idle_rss_kib),
                        },
                    ],
                )?;
                let mut errors = Vec::new();
                for (name, memory) in [("ChitChat", &result.chitchat), ("bare", &result.bare)] {
                    if memory.dropped > 0 {
                        errors.push(format!(
                            "{name}: {} connections were closed by the server while held",
                            memory.dropped
                        ));
                    }
                }
                Ok(ScenarioReport {
                    name: scenario.name().to_owned(),
                    tables: vec![result.table()],
                    notes: vec![format!(
                        "RSS read from /proc/PID/status {:.1} s after each step; steps {:?}; handshakes per second \
                         while opening: ChitChat {:.0}, bare {:.0}; server threads: ChitChat {:?}, bare {:?}.",
                        1.5,
                        ctx.plan.connection_steps,
                        result.chitchat.opened_per_s,
                        result.bare.opened_per_s,
                        result.chitchat.threads,
                        result.bare.threads
                    )],
                    errors,
                    data: json!(result),
                })
            }
            Scenario::Embedded => {
                let send = scenarios::send_rate::run(ctx, TestBackend::Sqlite, ctx.plan.senders).await?;
                send_rate_plot(plots.join("embedded.svg"), &send)?;
                let latency = scenarios::latency::run(ctx, TestBackend::Sqlite, bare_latency).await?;
                latency_plot(plots.join("embedded-latency.svg"), &latency)?;
                let mut report = latency_report(scenario.name(), &latency);
                report.tables.insert(0, send.table());
                report.notes.insert(0, send_rate_note(&send));
                report.errors.extend(send.errors.iter().cloned());
                report.data = json!({ "send_rate": send, "latency": latency });
                Ok(report)
            }
            Scenario::History => {
                let result = scenarios::history::run(ctx).await?;
                history_plot(plots.join("history.svg"), &result)?;
                Ok(ScenarioReport {
                    name: scenario.name().to_owned(),
                    tables: vec![result.table()],
                    notes: history_notes(&result),
                    errors: result.errors.clone(),
                    data: json!(result),
                })
            }
            Scenario::ClusterConnections => {
                let result = scenarios::cluster_connections::run(ctx).await?;
                result.plot(&plots.join("cluster-connections.svg"))?;
                Ok(ScenarioReport {
                    name: scenario.name().to_owned(),
                    tables: vec![result.table()],
                    notes: result.notes(),
                    errors: if result.dropped > 0 {
                        vec![format!("{} connections dropped while held", result.dropped)]
                    } else {
                        Vec::new()
                    },
                    data: json!(result),
                })
            }
            Scenario::Peers => {
                let result = scenarios::peers::run(ctx).await?;
                Ok(ScenarioReport {
                    name: scenario.name().to_owned(),
                    tables: vec![result.table()],
                    notes: vec![
                        "One person sends to the other (one way), then both send and each answers every message \
                         they receive (both, answering; the window is both people's messages together); a message \
                         counts when its receiver has it. ChitChat over its WebSocket, Synapse over its \
                         client-server API (PUT /send, GET /sync long-polls, SQLite, rate limits off), ejabberd \
                         over XMPP with tokio-xmpp (c2s without TLS, no shaper), on Mnesia with nothing stored, \
                         and on SQLite with mod_mam archiving every message. Peak RSS is VmHWM of the server \
                         process after all its runs; PostgreSQL columns only where the server uses it."
                            .to_owned(),
                        self.postgres_note(),
                    ],
                    errors: result.errors(),
                    data: json!(result),
                })
            }
            Scenario::Receipts | Scenario::Mix => {
                let (table, notes, errors, data) = if scenario == Scenario::Receipts {
                    let result = scenarios::receipts::run(ctx).await?;
                    (result.table(), result.notes(), result.errors.clone(), json!(result))
                } else {
                    let result = scenarios::mix::run(ctx).await?;
                    (result.table(), result.notes(), result.errors.clone(), json!(result))
                };
                Ok(ScenarioReport {
                    name: scenario.name().to_owned(),
                    tables: vec![table],
                    notes: [notes, vec![self.postgres_note()]].concat(),
                    errors,
                    data,
                })
            }
            Scenario::ScaleOut => {
                let result = scenarios::scale_out::run(ctx).await?;
                let (one, more) = (&result.one, &result.more);
                let deployments = ["1 instance".to_owned(), format!("{} instances", more.instances)];
                plot::bars(
                    &plots.join("scale-out.svg"),
                    &format!("Scale-out with Redis ({}): 1 against {} instances", result.backend, more.instances),
                    "per second",
                    &[
                        format!("fan-out deliveries/s ({} receivers)", result.receivers),
                        format!("durable sends/s ({} senders)", result.senders),
                    ],
                    &[
                        plot::Bars { name: &deployments[0], values: vec![one.fanout.deliveries_per_s, one.send_per_s] },
                        plot::Bars {
                            name: &deployments[1],
                            values: vec![more.fanout.deliveries_per_s, more.send_per_s],
                        },
                    ],
                    false,
                )?;
                let mut notes = vec![format!(
                    "Each deployment is fresh: its own PostgreSQL database, one Redis channel, the instances' \
                     connections taken in turn (receivers, sending devices and senders spread evenly). Fan-out as in \
                     the fan-out scenario ({} sending devices of one user, closed loop, {:.1} s after a {:.1} s \
                     warm-up); the send rate as in the send-rate scenario ({} senders, ack after commit).",
                    result.fanout_senders,
                    ctx.plan.measure.as_secs_f64(),
                    ctx.plan.warmup.as_secs_f64(),
                    result.senders
                )];
                for run in [one, more] {
                    let cpu = |share: &procs::CpuShare| {
                        format!(
                            "chitchat {:.2}, load generator {:.2}, whole machine {:.2}",
                            share.chitchat, share.load_generator, share.machine
                        )
                    };
                    notes.push(format!(
                        "{} instance(s): cores busy (setup included) during fan-out: {}; during the send rate: {}; \
                         fan-out messages per receiver min/max {}/{}, missing after the run {}",
                        run.instances,
                        cpu(&run.fanout_cpu),
                        cpu(&run.send_cpu),
                        run.fanout.min_per_receiver,
                        run.fanout.max_per_receiver,
                        run.fanout.missing
                    ));
                }
                notes.push(self.postgres_note());
                let mut errors = Vec::new();
                for run in [one, more] {
                    errors.extend(run.errors.iter().map(|e| format!("{} instance(s), {e}", run.instances)));
                }
                Ok(ScenarioReport {
                    name: scenario.name().to_owned(),
                    tables: vec![result.table()],
                    notes,
                    errors,
                    data: json!(result),
                })
            }
        }
    }

    fn postgres_note(&self) -> String {
        format!("PostgreSQL: {}", self.info.machine.postgres.as_deref().unwrap_or("settings unknown"))
    }
}

fn send_rate_note(result: &scenarios::send_rate::SendRate) -> String {
    format!(
        "Each of the {} senders has a direct chat of its own and waits for the ack of a message before sending \
         the next. ChitChat's database pool and the baseline have {} connection(s). The baseline inserts rows of \
         the same columns, unique keys and content size into a scratch table, one autocommit INSERT per row.",
        result.senders, result.baseline_writers
    )
}

fn send_rate_plot(path: PathBuf, result: &scenarios::send_rate::SendRate) -> Result<()> {
    plot::bars(
        &path,
        &format!("Durable send rate ({}): messages per second", result.backend),
        "messages / s",
        &[format!("{} senders", result.senders)],
        &[
            plot::Bars { name: "plain single-row INSERTs", values: vec![result.baseline_per_s] },
            plot::Bars { name: "ChitChat, ack after commit", values: vec![result.chitchat_per_s] },
        ],
        false,
    )
}

fn latency_plot(path: PathBuf, result: &LatencyReport) -> Result<()> {
    let categories: Vec<String> = ["p50", "p95", "p99", "max"].map(str::to_owned).to_vec();
    let names: Vec<String> = result
        .rows
        .iter()
        .flat_map(|r| [format!("bare, {} msg/s", r.offered_per_s), format!("ChitChat, {} msg/s", r.offered_per_s)])
        .collect();
    let runs: Vec<&LatencyRun> = result.rows.iter().flat_map(|r| [&r.bare, &r.chitchat]).collect();
    let series: Vec<plot::Bars> = names
        .iter()
        .zip(runs)
        .map(|(name, run)| plot::Bars {
            name,
            values: vec![run.deliver.p50_ms, run.deliver.p95_ms, run.deliver.p99_ms, run.deliver.max_ms],
        })
        .collect();
    plot::bars(
        &path,
        &format!("Send -> deliver latency ({}, {} idle clients), ms, log scale", result.backend, result.idle),
        "milliseconds",
        &categories,
        &series,
        true,
    )
}

/// p50 and p99 of every kind of request, the bare query beside ChitChat's HTTP
/// answer; a log scale, as searches take orders of magnitude longer than pages.
fn history_plot(path: PathBuf, result: &scenarios::history::History) -> Result<()> {
    let categories: Vec<String> = result
        .rows
        .iter()
        .map(|r| match r.request {
            scenarios::history::Request::NewestPage => "newest page".to_owned(),
            scenarios::history::Request::DeepPage => "page further back".to_owned(),
            scenarios::history::Request::SearchRare => "search: rare word".to_owned(),
            scenarios::history::Request::SearchCommon => "search: common word".to_owned(),
            scenarios::history::Request::SearchPartial => "search: part of a word".to_owned(),
        })
        .collect();
    let pick = |f: fn(&scenarios::history::HistoryRow) -> f64| result.rows.iter().map(f).collect::<Vec<_>>();
    plot::bars(
        &path,
        &format!(
            "History and search, {} messages ({}): ms, log scale",
            report::rate(result.loaded.messages as f64),
            result.backend
        ),
        "milliseconds",
        &categories,
        &[
            plot::Bars {
                name: "bare SQL p50",
                values: pick(|r| r.sql.as_ref().map_or(f64::NAN, |s| s.latency.p50_ms)),
            },
            plot::Bars {
                name: "bare SQL p99",
                values: pick(|r| r.sql.as_ref().map_or(f64::NAN, |s| s.latency.p99_ms)),
            },
            plot::Bars { name: "ChitChat HTTP p50", values: pick(|r| r.chitchat.latency.p50_ms) },
            plot::Bars { name: "ChitChat HTTP p99", values: pick(|r| r.chitchat.latency.p99_ms) },
        ],
        true,
    )
}

fn history_notes(result: &scenarios::history::History) -> Vec<String> {
    let loaded = &result.loaded;
    let mut notes = vec![
        format!(
            "{} messages ({} per chat) written straight into the server's database with their chat_events, \
             in {:.0} s, the search indexes built again in {:.0} s, VACUUM ANALYZE {:.0} s; messages with \
             indexes {:.0} MiB, chat_events {:.0} MiB. Matching messages: rare word {}, common word {}, part of \
             a word {}.",
            report::rate(loaded.messages as f64),
            loaded.messages_per_chat,
            loaded.insert_s,
            loaded.index_s,
            loaded.vacuum_s,
            loaded.messages_mib,
            loaded.events_mib,
            loaded.rare_matches,
            loaded.common_matches,
            loaded.partial_matches
        ),
        "One client, one request at a time, after a warm-up of a tenth as many (at most a tenth of the time \
         limit); the HTTP time runs until the whole body has arrived. Bare SQL: the history query (prepared, by (chat_id, seq)) and the server's \
         search query (planned for its parameters each time, as the server's unnamed statements are) on a \
         connection of their own, with the same random chats and seqs. Searches have no chat_id: they look \
         through all of the reader's messages, the hardest case."
            .to_owned(),
    ];
    for row in &result.rows {
        if row.sql.as_ref().is_some_and(|sql| sql.cut_short) || row.chitchat.cut_short {
            notes.push(format!("{}: the time limit ended the requests early", row.what));
        }
        let bare_rows = row.sql.as_ref().map_or_else(
            || "no bare query".to_owned(),
            |sql| format!("{:.1} rows per bare query", sql.items_per_request),
        );
        notes.push(format!(
            "{}: {:.1} items per answer over HTTP, {bare_rows}",
            row.what, row.chitchat.items_per_request
        ));
    }
    let cpu = &result.measuring_cpu;
    notes.push(format!(
        "Cores busy while measuring: chitchat {:.2}, load generator {:.2}, whole machine {:.2} (PostgreSQL and \
         other work included).",
        cpu.chitchat, cpu.load_generator, cpu.machine
    ));
    for plan in &result.plans {
        notes.push(format!("EXPLAIN of {:?}: {}", plan.request, explain_summary(&plan.plan)));
    }
    notes
}

/// The top node and the execution time of each statement of an `EXPLAIN ANALYZE`
/// output (several statements are separated by `-- step N of M` lines).
fn explain_summary(plan: &[String]) -> String {
    let mut statements: Vec<Vec<&str>> = vec![Vec::new()];
    for line in plan {
        if line.starts_with("-- ") {
            statements.push(vec![line.as_str()]);
        } else if let Some(current) = statements.last_mut() {
            current.push(line.as_str());
        }
    }
    statements
        .iter()
        .filter(|lines| !lines.is_empty())
        .map(|lines| {
            let mut rest = lines.iter().map(|l| l.trim());
            let heading = match lines[0].strip_prefix("-- ") {
                Some(step) => format!("{step}: {}", rest.nth(1).unwrap_or("")),
                None => rest.next().unwrap_or("").to_string(),
            };
            let time = lines.iter().rev().find(|l| l.starts_with("Execution Time")).copied().unwrap_or("");
            format!("{heading}; {time}")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn latency_report(name: &str, result: &LatencyReport) -> ScenarioReport {
    let mut errors = Vec::new();
    for row in &result.rows {
        errors.extend(row.chitchat.errors.iter().map(|e| format!("ChitChat, {} msg/s: {e}", row.offered_per_s)));
        errors.extend(row.bare.errors.iter().map(|e| format!("bare, {} msg/s: {e}", row.offered_per_s)));
    }
    let tables: Vec<Table> = vec![result.table()];
    ScenarioReport {
        name: name.to_owned(),
        tables,
        notes: vec![format!(
            "Open loop: {} pairs share the offered rate evenly and send on a fixed schedule whatever arrives; \
             latency counts from the moment a frame is handed to the socket, for messages sent after the warm-up; \
             the bare server is measured with the same clients, pairs and idle connections. Senders were at most \
             {} ms behind their schedule.",
            result.pairs,
            result
                .rows
                .iter()
                .flat_map(|r| [
                    format!("{:.1}", r.bare.sender_late_max_ms),
                    format!("{:.1}", r.chitchat.sender_late_max_ms)
                ])
                .collect::<Vec<_>>()
                .join(" / ")
        )],
        errors,
        data: json!(result),
    }
}
