//! History and search with many messages stored: how long one history page and one
//! message search take through ChitChat's HTTP API, against the same queries run
//! straight on PostgreSQL (the database's own time), in the same run.
//!
//! One reader is in every chat, so a search without `chat_id` looks through every
//! stored message: the hardest case for search. Requests are made one at a time
//! from one client, so the figures are service times, not queueing.

use super::history_data::{self, LoadedChat, COMMON_WORD, PARTIAL_QUERY, RARE_WORD};
use super::Ctx;
use crate::load::{self, Latency};
use crate::procs::{CpuClock, CpuShare};
use crate::report::{self, Table};
use anyhow::{anyhow, bail, Context, Result};
use chitchat_testkit::{ApiClient, Login, TestBackend};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio_postgres::types::ToSql;

/// Messages in a history page, as a client asks for them.
const PAGE: i64 = 50;
/// Results of one search request (the API's default).
const SEARCH_LIMIT: i64 = 20;
/// The targets for the p99 of a page and of a search, in milliseconds.
const PAGE_TARGET_MS: f64 = 5.0;
const SEARCH_TARGET_MS: f64 = 50.0;

/// The bare history query: the newest page of a chat by its `(chat_id, seq)` key.
const SQL_NEWEST: &str = "SELECT id, chat_id, sender_id, seq, content, content_type, client_msg_id, created_at \
    FROM messages WHERE chat_id = $1 ORDER BY seq DESC LIMIT 50";
/// The page of the 50 messages before a seq.
const SQL_BEFORE: &str = "SELECT id, chat_id, sender_id, seq, content, content_type, client_msg_id, created_at \
    FROM messages WHERE chat_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT 50";
/// The server's two search steps on PostgreSQL: the newest messages first, every
/// match when they do not fill the page (the server then loads the messages found
/// with one more query). Read from the store's own files, so the bare SQL is always
/// exactly the statements the server runs.
const SQL_SEARCH_RECENT: &str = include_str!("../../../store-sql/sql/postgres_search_recent.sql");
const SQL_SEARCH_ALL: &str = include_str!("../../../store-sql/sql/postgres_search_all.sql");
/// How many of the reader's newest messages the first step looks through: the
/// store's `POSTGRES_SEARCH_RECENT_WINDOW` (a test checks that they agree).
const SEARCH_WINDOW: i64 = 5_000;

/// The kinds of request measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// The newest page of a random chat.
    NewestPage,
    /// A page before a random seq of a random chat (scrolling far back).
    DeepPage,
    SearchRare,
    SearchCommon,
    /// Part of a word: only the trigram index finds it.
    SearchPartial,
}

impl Request {
    const ALL: [Request; 5] =
        [Request::NewestPage, Request::DeepPage, Request::SearchRare, Request::SearchCommon, Request::SearchPartial];

    pub fn label(self) -> String {
        match self {
            Request::NewestPage => "newest page of 50".to_owned(),
            Request::DeepPage => "page of 50 before a random seq".to_owned(),
            Request::SearchRare => format!("search, rare word {RARE_WORD:?}"),
            Request::SearchCommon => format!("search, common word {COMMON_WORD:?}"),
            Request::SearchPartial => format!("search, part of a word {PARTIAL_QUERY:?}"),
        }
    }

    fn search_text(self) -> Option<&'static str> {
        match self {
            Request::NewestPage | Request::DeepPage => None,
            Request::SearchRare => Some(RARE_WORD),
            Request::SearchCommon => Some(COMMON_WORD),
            Request::SearchPartial => Some(PARTIAL_QUERY),
        }
    }

    fn target_ms(self) -> f64 {
        if self.search_text().is_some() {
            SEARCH_TARGET_MS
        } else {
            PAGE_TARGET_MS
        }
    }
}

/// One kind of request measured on one path (HTTP or bare SQL).
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub requests: u64,
    pub latency: Latency,
    /// Messages (pages) or results (searches) per request, on average.
    pub items_per_request: f64,
    /// Whether the time limit ended the run before every request was made.
    pub cut_short: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub request: Request,
    pub what: String,
    /// None for a search on a schema without the search table (a server from
    /// before it, measured back to back): the bare queries are today's.
    pub sql: Option<Measured>,
    pub chitchat: Measured,
    /// ChitChat's p99 over the bare query's p99.
    pub p99_ratio: Option<f64>,
    pub target_p99_ms: f64,
    pub meets_target: bool,
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of a bare query, run once after the measurements.
#[derive(Debug, Clone, Serialize)]
pub struct QueryPlan {
    pub request: Request,
    pub plan: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub backend: &'static str,
    pub loaded: history_data::Loaded,
    pub rows: Vec<HistoryRow>,
    pub plans: Vec<QueryPlan>,
    /// Cores busy while the requests were measured: chitchat, the load generator,
    /// the whole machine (PostgreSQL and other work included).
    pub measuring_cpu: CpuShare,
    pub errors: Vec<String>,
}

impl History {
    pub fn table(&self) -> Table {
        let mut table = Table::new(
            format!(
                "History and search, {} ({} messages in {} chats, the reader in all of them; one request at a time)",
                self.backend,
                report::rate(self.loaded.messages as f64),
                self.loaded.chats
            ),
            &["what", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms", "ratio/target"],
        );
        for row in &self.rows {
            let cells = |what: String, measured: &Measured, last: String| {
                vec![
                    what,
                    measured.requests.to_string(),
                    report::ms(measured.latency.p50_ms),
                    report::ms(measured.latency.p95_ms),
                    report::ms(measured.latency.p99_ms),
                    report::ms(measured.latency.max_ms),
                    last,
                ]
            };
            match &row.sql {
                Some(sql) => table.row(cells(format!("{}: bare SQL", row.what), sql, report::ratio(1.0))),
                None => table.row(vec![
                    format!("{}: bare SQL not run (no search table in this schema)", row.what),
                    "0".to_owned(),
                    "—".to_owned(),
                    "—".to_owned(),
                    "—".to_owned(),
                    "—".to_owned(),
                    "—".to_owned(),
                ]),
            }
            table.row(cells(
                format!("{}: ChitChat HTTP", row.what),
                &row.chitchat,
                format!(
                    "{} of SQL p99; p99 < {} ms: {}",
                    row.p99_ratio.map_or_else(|| "—".to_owned(), report::ratio),
                    row.target_p99_ms,
                    if row.meets_target { "yes" } else { "no" }
                ),
            ));
        }
        table
    }
}

/// Who asks, and about what.
struct Setup {
    api: ApiClient,
    reader: Login,
    chats: Vec<LoadedChat>,
    messages_per_chat: i64,
}

pub async fn run(ctx: &Ctx) -> Result<History> {
    load::progress("starting chitchat");
    let running = ctx.start_chitchat(TestBackend::Postgres).await?;
    let result = async {
        let server = &running.server;
        let plan = &ctx.plan;
        load::progress("logging in, creating chats");
        let api = server.client();
        let logins = load::login_users(&api, 0, plan.history_chats + 1, plan.setup_concurrency).await;
        let reader = logins[0].clone();
        let partners: Vec<String> = logins[1..].iter().map(Login::user_id).collect();
        let chat_ids: Vec<String> = futures_util::stream::iter(partners.iter())
            .map(|partner| api.direct_chat(&reader, partner))
            .buffered(plan.setup_concurrency)
            .collect()
            .await;
        let chats: Vec<LoadedChat> = chat_ids
            .into_iter()
            .zip(partners)
            .map(|(chat_id, partner_id)| LoadedChat { chat_id, reader_id: reader.user_id(), partner_id })
            .collect();
        load::progress(&format!("loading {} messages", report::rate(plan.history_messages as f64)));
        let loaded = history_data::load(&server.database_url, &chats, plan.history_messages).await?;
        load::progress(&format!(
            "loaded in {:.0} s (+ indexes {:.0} s, vacuum {:.0} s); matches: rare {}, common {}, partial {}",
            loaded.insert_s,
            loaded.index_s,
            loaded.vacuum_s,
            loaded.rare_matches,
            loaded.common_matches,
            loaded.partial_matches
        ));
        let setup = Setup { api, reader, chats, messages_per_chat: loaded.messages_per_chat };
        verify(&setup, &loaded).await?;

        let (sql, connection) = tokio_postgres::connect(&server.database_url, tokio_postgres::NoTls).await?;
        let connection_task = tokio::spawn(connection);
        // The server sends its search as an unnamed statement, planned for its own
        // parameters every time; the baseline does the same.
        sql.batch_execute("SET plan_cache_mode = force_custom_plan").await?;
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        let clock = CpuClock::start(&[running.pid()?]);
        for request in Request::ALL {
            load::progress(&format!("measuring: {}", request.label()));
            let bare = if bare_sql_runs(request, &loaded) {
                Some(measure_sql(&sql, &setup, request, ctx).await?)
            } else {
                None
            };
            let (chitchat, failures) = measure_http(&setup, request, ctx).await?;
            errors.extend(failures);
            let target_p99_ms = request.target_ms();
            rows.push(HistoryRow {
                request,
                what: request.label(),
                p99_ratio: bare.as_ref().map(|bare| report::div(chitchat.latency.p99_ms, bare.latency.p99_ms)),
                meets_target: chitchat.requests > 0 && chitchat.latency.p99_ms < target_p99_ms,
                target_p99_ms,
                sql: bare,
                chitchat,
            });
        }
        let measuring_cpu = clock.share();
        load::progress("EXPLAIN (ANALYZE, BUFFERS) of the bare queries");
        let mut plans = Vec::new();
        for request in Request::ALL.into_iter().filter(|request| bare_sql_runs(*request, &loaded)) {
            plans.push(QueryPlan { request, plan: explain(&sql, &setup, request).await? });
        }
        drop(sql);
        let _ = connection_task.await;
        Ok::<_, anyhow::Error>(History {
            backend: crate::plan::backend_label(TestBackend::Postgres),
            loaded,
            rows,
            plans,
            measuring_cpu,
            errors: super::send_rate::summarize(errors),
        })
    }
    .await;
    load::progress("stopping chitchat");
    running.finish().await;
    result
}

/// Whether the bare queries of `request` can run: today's search statements read
/// the search table, which a schema from before it does not have.
fn bare_sql_runs(request: Request, loaded: &history_data::Loaded) -> bool {
    loaded.search_table || request.search_text().is_none()
}

/// Checks through the API that the loaded messages are there as the server stores
/// them: the newest page and a page further back hold 50 messages with consecutive
/// seqs, and a search finds the rare word.
async fn verify(setup: &Setup, loaded: &history_data::Loaded) -> Result<()> {
    let chat = &setup.chats[0].chat_id;
    let last = setup.messages_per_chat;
    for (path, newest) in [
        (format!("/api/messages?chat_id={chat}&limit={PAGE}"), last),
        (format!("/api/messages?chat_id={chat}&limit={PAGE}&before_seq={}", last / 2 + 1), last / 2),
    ] {
        let reply = setup.api.get(&path, &setup.reader.token).await;
        if !reply.status.is_success() {
            bail!("GET {path}: {} {}", reply.status, reply.body);
        }
        let seqs: Vec<i64> =
            reply.body["messages"].as_array().into_iter().flatten().filter_map(|m| m["seq"].as_i64()).collect();
        let expected: Vec<i64> = (0..PAGE.min(newest)).map(|k| newest - k).collect();
        if seqs != expected {
            bail!(
                "GET {path} gave seqs {:?}..{:?} ({} messages), expected {newest} down to {}: the loaded \
                 messages are not visible through the API",
                seqs.first(),
                seqs.last(),
                seqs.len(),
                newest - PAGE + 1
            );
        }
    }
    let path = format!("/api/messages/search?q={RARE_WORD}&limit={SEARCH_LIMIT}");
    let reply = setup.api.get(&path, &setup.reader.token).await;
    let found = reply.body["results"].as_array().map_or(0, Vec::len);
    let expected = usize::try_from(loaded.rare_matches.min(SEARCH_LIMIT)).unwrap_or_default();
    if !reply.status.is_success() || found != expected {
        bail!("GET {path}: {} with {found} results, expected {expected}", reply.status);
    }
    Ok(())
}

/// The same sequence of random chats and seqs for the bare queries and the API.
struct Choices(u64);

impl Choices {
    fn new(request: Request) -> Self {
        Self(0x9e37_79b9_7f4a_7c15 ^ request as u64)
    }

    /// splitmix64.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A chat, and a seq to read before (from `PAGE + 1`, so that every page is full).
    fn chat_and_seq<'a>(&mut self, setup: &'a Setup) -> (&'a str, i64) {
        let chat = &setup.chats[usize::try_from(self.below(setup.chats.len() as u64)).unwrap_or_default()].chat_id;
        let span = u64::try_from((setup.messages_per_chat - PAGE).max(1)).unwrap_or(1);
        let before = PAGE + 1 + i64::try_from(self.below(span)).unwrap_or_default();
        (chat, before)
    }
}

/// Times requests until the plan's count is reached or its time limit has passed,
/// after a warm-up that is not recorded: a tenth as many requests, or a tenth of
/// the time limit when they are slow.
struct Sampler {
    warmup: u64,
    warmup_until: Instant,
    requests: u64,
    limit: Duration,
    measuring_since: Option<Instant>,
    made: u64,
    measured: u64,
    items: u64,
    histogram: Histogram<u64>,
}

impl Sampler {
    fn new(ctx: &Ctx) -> Result<Self> {
        let requests = ctx.plan.history_requests as u64;
        let limit = ctx.plan.history_time_limit;
        Ok(Self {
            warmup: (requests / 10).max(1),
            warmup_until: Instant::now() + limit / 10,
            requests,
            limit,
            measuring_since: None,
            made: 0,
            measured: 0,
            items: 0,
            histogram: load::histogram()?,
        })
    }

    fn more(&mut self) -> bool {
        let now = Instant::now();
        let since = match self.measuring_since {
            Some(since) => since,
            None if self.made < self.warmup && now < self.warmup_until => return true,
            None => *self.measuring_since.insert(now),
        };
        self.measured < self.requests && now < since + self.limit
    }

    fn record(&mut self, took: Duration, items: usize) {
        if self.measuring_since.is_some() {
            load::record(&mut self.histogram, u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
            self.items += items as u64;
            self.measured += 1;
        }
        self.made += 1;
    }

    fn finish(self) -> Measured {
        Measured {
            requests: self.measured,
            latency: Latency::of(&self.histogram),
            items_per_request: report::div(self.items as f64, self.measured as f64),
            cut_short: self.measured < self.requests,
        }
    }
}

/// The request as bare queries: the statements in the order the server runs them
/// (the second only when the first comes up short of a page), and their parameters.
fn sql_for<'a>(
    request: Request,
    chat: &'a str,
    before: &'a i64,
    reader: &'a str,
) -> (&'static [&'static str], SqlParams<'a>) {
    match request {
        Request::NewestPage => (&[SQL_NEWEST], SqlParams::Page(chat, None)),
        Request::DeepPage => (&[SQL_BEFORE], SqlParams::Page(chat, Some(before))),
        _ => {
            let text = request.search_text().unwrap_or_default();
            (&[SQL_SEARCH_RECENT, SQL_SEARCH_ALL], SqlParams::Search { reader, text, pattern: format!("%{text}%") })
        }
    }
}

enum SqlParams<'a> {
    Page(&'a str, Option<&'a i64>),
    Search { reader: &'a str, text: &'static str, pattern: String },
}

const NO_CHAT: Option<&str> = None;

impl SqlParams<'_> {
    /// The parameters of the `step`-th statement.
    fn list(&self, step: usize) -> Vec<&(dyn ToSql + Sync)> {
        match self {
            SqlParams::Page(chat, None) => vec![chat],
            SqlParams::Page(chat, Some(before)) => vec![chat, *before],
            SqlParams::Search { reader, text, pattern } => {
                let mut params: Vec<&(dyn ToSql + Sync)> = vec![reader, &NO_CHAT, text, pattern, &SEARCH_LIMIT, &0i64];
                if step == 0 {
                    params.push(&SEARCH_WINDOW);
                }
                params
            }
        }
    }
}

/// Runs the statements of a request in turn until one fills a page (a history page
/// always does), as the server does; the rows of the last one run.
async fn query_steps(
    client: &tokio_postgres::Client,
    statements: &[tokio_postgres::Statement],
    params: &SqlParams<'_>,
    full: usize,
) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    let mut rows = Vec::new();
    for (step, statement) in statements.iter().enumerate() {
        rows = client.query(statement, &params.list(step)).await?;
        if rows.len() >= full {
            break;
        }
    }
    Ok(rows)
}

async fn measure_sql(client: &tokio_postgres::Client, setup: &Setup, request: Request, ctx: &Ctx) -> Result<Measured> {
    let reader = setup.reader.user_id();
    let mut statements = Vec::new();
    for sql in sql_for(request, "", &0, &reader).0 {
        statements.push(client.prepare(sql).await.context("preparing")?);
    }
    let full = if request.search_text().is_some() { SEARCH_LIMIT as usize } else { PAGE as usize };
    let mut choices = Choices::new(request);
    let mut sampler = Sampler::new(ctx)?;
    while sampler.more() {
        let (chat, before) = choices.chat_and_seq(setup);
        let (_, params) = sql_for(request, chat, &before, &reader);
        let started = Instant::now();
        let rows = query_steps(client, &statements, &params, full).await.with_context(|| request.label())?;
        sampler.record(started.elapsed(), rows.len());
    }
    Ok(sampler.finish())
}

/// The request through the API; the time runs until the whole body has arrived.
/// Answers are checked after the clock stops: a page must hold 50 messages.
async fn measure_http(setup: &Setup, request: Request, ctx: &Ctx) -> Result<(Measured, Vec<String>)> {
    let mut choices = Choices::new(request);
    let mut sampler = Sampler::new(ctx)?;
    let mut errors = Vec::new();
    while sampler.more() {
        let (chat, before) = choices.chat_and_seq(setup);
        let path = match request {
            Request::NewestPage => format!("/api/messages?chat_id={chat}&limit={PAGE}"),
            Request::DeepPage => format!("/api/messages?chat_id={chat}&limit={PAGE}&before_seq={before}"),
            _ => format!("/api/messages/search?q={}&limit={SEARCH_LIMIT}", request.search_text().unwrap_or_default()),
        };
        let started = Instant::now();
        let response = setup.api.get_raw(&path, &setup.reader.token, &[]).await;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| anyhow!("GET {path}: {e}"))?;
        let took = started.elapsed();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let items = body["messages"].as_array().or_else(|| body["results"].as_array()).map_or(0, Vec::len);
        if !status.is_success() {
            errors.push(format!("{}: {status}", request.label()));
        } else if request.search_text().is_none() && items != PAGE as usize {
            errors.push(format!("{}: {items} messages in a page", request.label()));
        }
        sampler.record(took, items);
    }
    Ok((sampler.finish(), errors))
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of each bare statement of the request with the
/// first parameters the measurement used (both search steps, whether or not the
/// first filled the page).
async fn explain(client: &tokio_postgres::Client, setup: &Setup, request: Request) -> Result<Vec<String>> {
    let reader = setup.reader.user_id();
    let (chat, before) = Choices::new(request).chat_and_seq(setup);
    let (statements, params) = sql_for(request, chat, &before, &reader);
    let mut plan = Vec::new();
    for (step, sql) in statements.iter().enumerate() {
        let rows = client
            .query(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"), &params.list(step))
            .await
            .with_context(|| format!("EXPLAIN of {}", request.label()))?;
        if statements.len() > 1 {
            plan.push(format!("-- step {} of {}", step + 1, statements.len()));
        }
        plan.extend(rows.iter().map(|row| row.get::<_, String>(0)));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    /// The first search step's window is a bind parameter, not part of its SQL:
    /// the bare query must be given the server's.
    #[test]
    fn the_search_window_is_the_servers() {
        let store = include_str!("../../../store-sql/src/repos/search.rs");
        assert!(store.contains("const POSTGRES_SEARCH_RECENT_WINDOW: i64 = 5_000;"), "the store's window changed");
        assert_eq!(super::SEARCH_WINDOW, 5_000);
    }
}
