//! Smoke test of the benchmark suite, so that it cannot rot: the quick fan-out and
//! embedded scenarios, shrunk to a few seconds, against SQLite and the bare server.
//! It asserts only that figures were produced without errors, never a timing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitchat_bench::plan::{Plan, Scenario};
use chitchat_bench::procs::Binaries;
use chitchat_bench::{Output, Runner};
use chitchat_testkit::TestBackend;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

fn positive(value: &Value, what: &str) {
    let number = value.as_f64().unwrap_or_else(|| panic!("{what} is not a number: {value}"));
    assert!(number > 0.0, "{what} is {number}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_fanout_and_embedded_scenarios_produce_figures() {
    let binaries = Binaries::beside(Path::new(env!("CARGO_BIN_EXE_chitchat-bench")), false).expect("binaries");
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
    let out = tempfile::tempdir().expect("output folder");
    let output = Output { json_dir: out.path().to_owned(), plot_dir: out.path().to_owned() };
    let mut runner = Runner::new(plan, binaries, output, "smoke".to_owned()).await;
    let reports = runner.run(&[Scenario::Fanout, Scenario::Embedded]).await;

    let mut reports = reports.into_iter().map(|r| r.expect("scenario ran"));
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
