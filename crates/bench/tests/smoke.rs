//! Smoke test of the benchmark suite, so that it cannot rot: the quick fan-out and
//! embedded scenarios, shrunk to a few seconds, against SQLite and the bare server;
//! and the history, scale-out, receipts and mix scenarios, shrunk likewise, when
//! PostgreSQL and Redis are there (skipped without them unless `CHITCHAT_REQUIRE_SERVICES=1`).
//! It asserts only that figures were produced without errors, never a timing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitchat_bench::plan::{Plan, Scenario};
use chitchat_bench::procs::Binaries;
use chitchat_bench::report::ScenarioReport;
use chitchat_bench::{Output, Runner};
use chitchat_testkit::TestBackend;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// Runs `scenarios` with `plan`, writing into a fresh folder: the reports (every
/// scenario must have run) and the folder.
async fn run(plan: Plan, scenarios: &[Scenario]) -> (Vec<ScenarioReport>, tempfile::TempDir) {
    let binaries = Binaries::beside(Path::new(env!("CARGO_BIN_EXE_chitchat-bench")), false).expect("binaries");
    let out = tempfile::tempdir().expect("output folder");
    let output = Output { json_dir: out.path().to_owned(), plot_dir: out.path().to_owned() };
    let mut runner = Runner::new(plan, binaries, output, "smoke".to_owned()).await;
    let reports = runner.run(scenarios).await.into_iter().map(|r| r.expect("scenario ran")).collect();
    (reports, out)
}

fn positive(value: &Value, what: &str) {
    let number = value.as_f64().unwrap_or_else(|| panic!("{what} is not a number: {value}"));
    assert!(number > 0.0, "{what} is {number}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_fanout_and_embedded_scenarios_produce_figures() {
    let plan = Plan {
        backend: TestBackend::Sqlite,
        warmup: Duration::from_millis(300),
        measure: Duration::from_secs(1),
        senders: 4,
        fanout_sizes: vec![10],
        latency_rates: vec![50],
        latency_pairs: 5,
        latency_idle: 50,
        latency_duration: Duration::from_secs(1),
        ..Plan::quick()
    };
    let (reports, out) = run(plan, &[Scenario::Fanout, Scenario::Embedded]).await;
    let mut reports = reports.into_iter();
    let fanout = reports.next().expect("fan-out report");
    assert!(fanout.errors.is_empty(), "fan-out errors: {:?}", fanout.errors);
    let row = &fanout.data["rows"][0];
    positive(&row["chitchat"]["deliveries_per_s"], "ChitChat deliveries/s");
    positive(&row["bare"]["deliveries_per_s"], "bare deliveries/s");
    assert_eq!(row["chitchat"]["missing"], 0, "every message reached every device");

    let embedded = reports.next().expect("embedded report");
    assert!(embedded.errors.is_empty(), "embedded errors: {:?}", embedded.errors);
    positive(&embedded.data["send_rate"]["chitchat_per_s"], "ChitChat send rate");
    positive(&embedded.data["send_rate"]["baseline_per_s"], "plain INSERT rate");
    let latency = &embedded.data["latency"]["rows"][0];
    positive(&latency["chitchat"]["delivered"], "ChitChat deliveries");
    positive(&latency["chitchat"]["deliver"]["count"], "ChitChat latencies recorded");
    positive(&latency["bare"]["deliver"]["count"], "bare latencies recorded");

    for file in ["fanout.json", "fanout.svg", "embedded.json", "embedded.svg", "embedded-latency.svg"] {
        assert!(out.path().join(file).exists(), "{file} was written");
    }
}

/// PostgreSQL at `TEST_DATABASE_URL` and Redis at `TEST_REDIS_URL`, or None after
/// printing SKIPPED (a failure when `CHITCHAT_REQUIRE_SERVICES=1`).
async fn services_reachable() -> Option<()> {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| chitchat_testkit::services::DEFAULT_TEST_DATABASE_URL.to_owned());
    if let Err(error) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
        return chitchat_testkit::services::skip_or_fail("PostgreSQL (TEST_DATABASE_URL)", error);
    }
    chitchat_testkit::services::reachable_redis().await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shrunk_history_and_scale_out_scenarios_produce_figures() {
    if services_reachable().await.is_none() {
        return;
    }
    let plan = Plan {
        warmup: Duration::from_millis(300),
        measure: Duration::from_secs(1),
        senders: 4,
        fanout_senders: 2,
        history_messages: 2000,
        history_chats: 4,
        history_requests: 20,
        history_time_limit: Duration::from_secs(2),
        scale_out_receivers: 10,
        ..Plan::quick()
    };
    let (reports, out) = run(plan, &[Scenario::History, Scenario::ScaleOut]).await;
    let mut reports = reports.into_iter();
    let history = reports.next().expect("history report");
    assert!(history.errors.is_empty(), "history errors: {:?}", history.errors);
    assert_eq!(history.data["loaded"]["messages"], 2000, "every message was loaded");
    for row in history.data["rows"].as_array().expect("rows") {
        positive(&row["chitchat"]["latency"]["count"], "ChitChat requests timed");
        positive(&row["sql"]["latency"]["count"], "bare queries timed");
    }

    let scale_out = reports.next().expect("scale-out report");
    assert!(scale_out.errors.is_empty(), "scale-out errors: {:?}", scale_out.errors);
    for deployment in ["one", "more"] {
        positive(&scale_out.data[deployment]["fanout"]["deliveries_per_s"], "deliveries/s");
        positive(&scale_out.data[deployment]["send_per_s"], "durable sends/s");
        assert_eq!(scale_out.data[deployment]["fanout"]["missing"], 0, "every message reached every device");
    }

    for file in ["history.json", "history.svg", "scale-out.json", "scale-out.svg"] {
        assert!(out.path().join(file).exists(), "{file} was written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shrunk_receipts_and_mix_scenarios_produce_figures() {
    if services_reachable().await.is_none() {
        return;
    }
    let plan = Plan {
        warmup: Duration::from_millis(300),
        measure: Duration::from_secs(1),
        receipts_group: 10,
        receipts_senders: 2,
        mix_users: 40,
        mix_rates: vec![20],
        mix_step: Duration::from_secs(1),
        ..Plan::quick()
    };
    let (reports, out) = run(plan, &[Scenario::Receipts, Scenario::Mix]).await;
    let mut reports = reports.into_iter();
    let receipts = reports.next().expect("receipts report");
    assert!(receipts.errors.is_empty(), "receipts errors: {:?}", receipts.errors);
    positive(&receipts.data["receipts_per_s"], "receipts/s");
    positive(&receipts.data["baseline_per_s"], "plain INSERT rate");
    assert_eq!(receipts.data["unanswered"], 0, "every receipt was answered");

    let mix = reports.next().expect("mix report");
    assert!(mix.errors.is_empty(), "mix errors: {:?}", mix.errors);
    let step = &mix.data["steps"][0];
    positive(&step["messages_per_s"], "mix messages/s");
    positive(&step["receipts_per_s"], "mix receipts/s");
    assert_eq!(step["unanswered"], 0, "every message and receipt was answered");

    for file in ["receipts.json", "mix.json"] {
        assert!(out.path().join(file).exists(), "{file} was written");
    }
}
