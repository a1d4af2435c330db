//! Scale-out: the same load against one ChitChat instance with Redis and against
//! several instances on one PostgreSQL database linked by one Redis, in the same
//! run. The one-instance deployment is the baseline: the figure is the ratio of
//! the larger deployment's throughput to it.
//!
//! Two loads, each with its connections spread over the instances in turn: the
//! fan-out load (a group, several sending devices, closed loop; see `fanout.rs`),
//! where every message sent on one instance must reach the receivers of the others
//! through Redis, and the durable send rate (senders in direct chats of their own,
//! each waiting for its ack; see `send_rate.rs`).

use super::fanout::{self, FanoutRun};
use super::send_rate::{self, summarize};
use super::Ctx;
use crate::load::{self, Latency};
use crate::procs::{CpuClock, CpuShare};
use crate::report::{self, Table};
use anyhow::Result;
use serde::Serialize;

/// First bench user of the fan-out load, apart from the send-rate load's users.
const FANOUT_FIRST_USER: usize = 100_000;

/// The loads on one deployment.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentRun {
    pub instances: usize,
    pub fanout: FanoutRun,
    pub send_per_s: f64,
    pub send_ack: Latency,
    /// Where the CPU went during each load (setup included), for what limits it.
    pub fanout_cpu: CpuShare,
    pub send_cpu: CpuShare,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScaleOut {
    pub backend: &'static str,
    pub receivers: usize,
    /// How ChitChat's room was made (a group).
    pub room: String,
    pub fanout_senders: usize,
    pub senders: usize,
    pub one: DeploymentRun,
    pub more: DeploymentRun,
    pub deliveries_ratio: f64,
    pub send_ratio: f64,
}

impl ScaleOut {
    pub fn table(&self) -> Table {
        let (one, more) = (&self.one, &self.more);
        let mut table = Table::new(
            format!("Scale-out with Redis, {}: 1 against {} instances, same load", self.backend, more.instances),
            &["what", "1 instance", &format!("{} instances", more.instances), "ratio"],
        );
        let ratio = |a: f64, b: f64| report::ratio(report::div(b, a));
        table.row(vec![
            format!("fan-out to a {}, {} sending connections: deliveries/s", self.room, self.fanout_senders),
            report::rate(one.fanout.deliveries_per_s),
            report::rate(more.fanout.deliveries_per_s),
            ratio(one.fanout.deliveries_per_s, more.fanout.deliveries_per_s),
        ]);
        table.row(vec![
            "fan-out: messages/s".to_owned(),
            report::rate(one.fanout.messages_per_s),
            report::rate(more.fanout.messages_per_s),
            ratio(one.fanout.messages_per_s, more.fanout.messages_per_s),
        ]);
        table.row(vec![
            format!("durable send rate, {} senders: messages/s", self.senders),
            report::rate(one.send_per_s),
            report::rate(more.send_per_s),
            ratio(one.send_per_s, more.send_per_s),
        ]);
        table.row(vec![
            "send -> ack p50 / p99 ms".to_owned(),
            format!("{} / {}", report::ms(one.send_ack.p50_ms), report::ms(one.send_ack.p99_ms)),
            format!("{} / {}", report::ms(more.send_ack.p50_ms), report::ms(more.send_ack.p99_ms)),
            String::new(),
        ]);
        table
    }
}

pub async fn run(ctx: &Ctx) -> Result<ScaleOut> {
    let plan = &ctx.plan;
    let (one, room) = on_deployment(ctx, 1).await?;
    let (more, _) = on_deployment(ctx, plan.scale_out_instances).await?;
    Ok(ScaleOut {
        backend: crate::plan::backend_label(chitchat_testkit::TestBackend::Postgres),
        receivers: plan.scale_out_receivers,
        room,
        fanout_senders: plan.fanout_senders,
        senders: plan.senders,
        deliveries_ratio: report::div(more.fanout.deliveries_per_s, one.fanout.deliveries_per_s),
        send_ratio: report::div(more.send_per_s, one.send_per_s),
        one,
        more,
    })
}

/// Both loads on a fresh deployment of `instances`; returns the figures and how
/// the fan-out room was made.
async fn on_deployment(ctx: &Ctx, instances: usize) -> Result<(DeploymentRun, String)> {
    let plan = &ctx.plan;
    load::progress(&format!("starting {instances} instance(s) with Redis"));
    let deployment = ctx.start_deployment(instances).await?;
    let result = async {
        let api = deployment.servers[0].client();
        let ws_bases = deployment.ws_bases();
        let pids = deployment.pids();

        load::progress(&format!("fan-out to {} receivers over {instances} instance(s)", plan.scale_out_receivers));
        let clock = CpuClock::start(&pids);
        let members =
            fanout::chitchat_members(&api, plan.scale_out_receivers, plan.fanout_senders, FANOUT_FIRST_USER, ctx)
                .await?;
        let fanout = fanout::drive(&members.spread_over(&ws_bases), &pids, ctx).await?;
        let fanout_cpu = clock.share();

        let clock = CpuClock::start(&pids);
        let acked = send_rate::chitchat_sends(&api, &ws_bases, &pids, plan.senders, ctx).await?;
        let send_cpu = clock.share();
        let mut errors: Vec<String> = fanout.errors.iter().map(|e| format!("fan-out: {e}")).collect();
        errors.extend(summarize(acked.errors).into_iter().map(|e| format!("send rate: {e}")));
        let run = DeploymentRun {
            instances,
            send_per_s: acked.per_s,
            send_ack: Latency::of(&acked.histogram),
            fanout,
            fanout_cpu,
            send_cpu,
            errors,
        };
        Ok::<_, anyhow::Error>((run, members.label))
    }
    .await;
    load::progress("stopping the instance(s)");
    deployment.finish().await;
    result
}
