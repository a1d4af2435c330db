//! `chitchat-bench all|quick [SCENARIO ...] [--out DIR] [--plots DIR]`: runs the
//! benchmark scenarios (all of them unless some are named) against the `chitchat`
//! binary built beside this one and the bare baseline server, prints Markdown
//! tables, writes JSON results to `target/bench/` and SVG plots (to `docs/bench/` for
//! `all`, beside the JSON for `quick`).

use anyhow::{bail, Context, Result};
use chitchat_bench::plan::{Mode, Plan, Scenario};
use chitchat_bench::procs::Binaries;
use chitchat_bench::{Output, Runner};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: chitchat-bench all|quick \
                     [send-rate|fanout|latency|connections|embedded|history|scale-out|cluster-connections|receipts|mix|peers ...] \
                     [--out DIR] [--plots DIR] [--warmup SECONDS] [--measure SECONDS] [--rates N,N] [--idle N] [--senders N] \
                     [--mix-users N] [--mix-rates N,N]";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("chitchat-bench: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<bool> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), PathBuf::from);
    let (mut plan, mut scenarios, mut json_dir, mut plot_dir) = (None, Vec::new(), None, None);
    let mut changes: Vec<(String, String)> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "all" | "full" => plan = Some(Plan::full()),
            "quick" => plan = Some(Plan::quick()),
            "--warmup" | "--measure" | "--rates" | "--idle" | "--senders" | "--mix-users" | "--mix-rates" => {
                let value = rest.next().with_context(|| format!("{arg} needs a value"))?;
                changes.push((arg.clone(), value.clone()));
            }
            "--out" => json_dir = Some(PathBuf::from(rest.next().context("--out needs a folder")?)),
            "--plots" => plot_dir = Some(PathBuf::from(rest.next().context("--plots needs a folder")?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(true);
            }
            name => scenarios.push(Scenario::parse(name)?),
        }
    }
    let Some(mut plan) = plan else { bail!("{USAGE}") };
    for (option, value) in changes {
        adjust(&mut plan, &option, &value).with_context(|| format!("{option} {value}"))?;
    }
    if scenarios.is_empty() {
        scenarios = Scenario::ALL.to_vec();
    }
    let json_dir = json_dir.unwrap_or_else(|| target.join("bench"));
    let plot_dir = plot_dir.unwrap_or_else(|| match plan.mode {
        Mode::Full => workspace.join("docs/bench"),
        Mode::Quick => json_dir.clone(),
    });
    let exe = std::env::current_exe().context("locating chitchat-bench")?;
    let binaries = Binaries::beside(&exe, std::env::var_os("CARGO").is_some())?;
    let command = format!("chitchat-bench {}", args.join(" "));
    let mut runner = Runner::new(plan, binaries, Output { json_dir, plot_dir }, command).await;
    let machine = &runner.info().machine;
    eprintln!(
        "machine: {} x{} cores, {} memory, open files {:?}; commit {}",
        machine.cpu_model,
        machine.cores,
        machine.memory,
        machine.open_files_limit,
        runner.info().commit.as_deref().unwrap_or("unknown")
    );
    let reports = runner.run(&scenarios).await;
    let failed = reports.iter().filter(|r| r.is_err()).count();
    let with_errors = reports.iter().filter(|r| r.as_ref().is_ok_and(|r| !r.errors.is_empty())).count();
    eprintln!("{} scenarios: {failed} failed, {with_errors} reported errors", reports.len());
    Ok(failed == 0)
}

/// Options that change the plan, for exploring one figure.
fn adjust(plan: &mut Plan, option: &str, value: &str) -> Result<()> {
    let seconds = || value.parse::<f64>().map(std::time::Duration::from_secs_f64);
    match option {
        "--warmup" => plan.warmup = seconds()?,
        "--measure" => {
            plan.measure = seconds()?;
            plan.latency_duration = plan.measure;
            plan.mix_step = plan.measure;
        }
        "--rates" => plan.latency_rates = value.split(',').map(str::parse).collect::<Result<_, _>>()?,
        "--idle" => plan.latency_idle = value.parse()?,
        "--senders" => plan.senders = value.parse()?,
        "--mix-users" => plan.mix_users = value.parse()?,
        "--mix-rates" => plan.mix_rates = value.split(',').map(str::parse).collect::<Result<_, _>>()?,
        _ => bail!("unknown option"),
    }
    Ok(())
}
