//! The history scenario's data: many messages written straight into the server's
//! PostgreSQL database, as a long-lived deployment would hold them, because sending
//! a million messages through the server would take longer than the rest of the
//! suite together.
//!
//! Each message gets a row in `messages` and its event in `chat_events` (kind
//! `message`, `event_seq` = `seq`), exactly as the server stores a sent message, and
//! each chat's `last_seq`, `last_event_seq` and `last_activity_at` are moved on.
//! The contents are sentences of everyday words, with three words planted at known
//! rates so that searches have known answers: a rare word, a common word, and a
//! long word that is searched by a part of it.

use crate::load;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use tokio_postgres::Client;

/// The everyday words sentences are made of. Frequent words appear more than once,
/// so that word frequencies are uneven as in real chats. None contains a planted
/// word or its searched part.
const WORDS: &[&str] = &[
    "i",
    "i",
    "i",
    "you",
    "you",
    "you",
    "the",
    "the",
    "the",
    "a",
    "a",
    "to",
    "to",
    "is",
    "is",
    "it",
    "it",
    "and",
    "and",
    "we",
    "we",
    "that",
    "in",
    "on",
    "at",
    "for",
    "of",
    "are",
    "was",
    "be",
    "have",
    "do",
    "not",
    "so",
    "just",
    "will",
    "can",
    "what",
    "where",
    "when",
    "how",
    "ok",
    "okay",
    "yes",
    "no",
    "sure",
    "thanks",
    "please",
    "sorry",
    "haha",
    "lol",
    "good",
    "great",
    "nice",
    "fine",
    "home",
    "work",
    "office",
    "meeting",
    "lunch",
    "dinner",
    "coffee",
    "tea",
    "train",
    "bus",
    "late",
    "early",
    "now",
    "later",
    "today",
    "tonight",
    "morning",
    "evening",
    "weekend",
    "monday",
    "friday",
    "call",
    "me",
    "him",
    "her",
    "them",
    "us",
    "my",
    "your",
    "our",
    "this",
    "there",
    "here",
    "come",
    "go",
    "going",
    "coming",
    "see",
    "look",
    "send",
    "sent",
    "photo",
    "video",
    "message",
    "phone",
    "battery",
    "traffic",
    "rain",
    "sunny",
    "cold",
    "hot",
    "movie",
    "game",
    "match",
    "won",
    "lost",
    "school",
    "kids",
    "mom",
    "dad",
    "brother",
    "sister",
    "friend",
    "party",
    "birthday",
    "cake",
    "gift",
    "shop",
    "market",
    "bought",
    "price",
    "money",
    "bank",
    "ticket",
    "flight",
    "hotel",
    "trip",
    "beach",
    "park",
    "walk",
    "gym",
    "doctor",
    "medicine",
    "better",
    "tired",
    "sleep",
    "busy",
    "free",
    "wait",
    "waiting",
    "reached",
    "leaving",
    "left",
    "almost",
    "soon",
    "minutes",
    "hour",
    "again",
    "also",
    "really",
    "very",
    "too",
    "maybe",
    "definitely",
    "about",
    "with",
    "from",
    "after",
    "before",
    "because",
    "but",
    "if",
    "then",
    "know",
    "think",
    "want",
    "need",
    "like",
    "love",
    "miss",
    "happy",
    "funny",
    "crazy",
    "news",
    "plan",
    "idea",
    "question",
    "answer",
    "bring",
    "take",
    "keep",
    "forgot",
    "remember",
    "book",
    "read",
    "music",
    "song",
    "dance",
    "food",
    "pizza",
    "rice",
    "chai",
    "bread",
    "milk",
    "eggs",
];

/// A word found in about 100 messages in all, whatever the number of messages.
pub const RARE_WORD: &str = "zanzibar";
/// A word in about one message in ten.
pub const COMMON_WORD: &str = "tomorrow";
/// A word in about one message in a hundred, searched by its first letters only:
/// the query is not a whole word, so only the trigram index can find it.
pub const PARTIAL_WORD: &str = "restaurant";
pub const PARTIAL_QUERY: &str = "restaur";
/// Messages the rare word is planted in, whatever the number of messages.
const RARE_MATCHES: usize = 100;
/// Seqs loaded per statement: a statement writes this many messages in every chat.
const SEQS_PER_STATEMENT: usize = 500;
/// A message a minute in every chat, ending now.
const MESSAGE_INTERVAL_US: i64 = 60_000_000;

/// `words[1 + (16 bits of the hash at word i) % n]`: the i-th word of a message,
/// from its md5 hash (eight 16-bit words in one hash). A temporary SQL function of
/// the loading session, so nothing is left in the server's schema.
const WORD_FUNCTION: &str = "\
CREATE FUNCTION pg_temp.bench_word(words text[], hash text, i int) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT words[1 + ('x' || substr(hash, 1 + 4 * i, 4))::bit(16)::int % cardinality(words)]
$$";

/// One statement loads seqs `$5 ..= $6` of every chat: the messages with their
/// events. `dice` (28 bits of a second hash, read as decimal digits) decides the
/// planted words: the common word when `dice % 10 = 0`, the long word when
/// `(dice / 10) % 100 = 0`, the rare word when `(dice / 1000) % $7 = 0`, and how
/// many of the last three everyday words a message has (five to eight in all).
/// Messages alternate between the reader and their partner; one in four ends in a
/// question mark.
const INSERT_MESSAGES: &str = "\
WITH generated AS (
    SELECT c.chat_id, c.ord, s.seq,
           CASE WHEN s.seq % 2 = 0 THEN c.reader_id ELSE c.partner_id END AS sender_id,
           md5(c.chat_id || ':' || s.seq) AS hash,
           ('x' || substr(md5(s.seq || '/' || c.chat_id), 1, 7))::bit(28)::int AS dice
    FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS c(chat_id, reader_id, partner_id, ord)
    CROSS JOIN generate_series($5::bigint, $6::bigint) AS s(seq)
), stored AS (
    INSERT INTO messages (id, chat_id, sender_id, seq, content, content_type, created_at)
    SELECT gen_random_uuid()::text, g.chat_id, g.sender_id, g.seq,
           concat_ws(' ',
               pg_temp.bench_word($4::text[], g.hash, 0),
               pg_temp.bench_word($4::text[], g.hash, 1),
               CASE WHEN g.dice % 10 = 0 THEN 'tomorrow' END,
               pg_temp.bench_word($4::text[], g.hash, 2),
               CASE WHEN (g.dice / 10) % 100 = 0 THEN 'restaurant' END,
               pg_temp.bench_word($4::text[], g.hash, 3),
               CASE WHEN (g.dice / 1000) % $7::int = 0 THEN 'zanzibar' END,
               pg_temp.bench_word($4::text[], g.hash, 4),
               CASE WHEN (g.dice / 1000000) % 4 > 0 THEN pg_temp.bench_word($4::text[], g.hash, 5) END,
               CASE WHEN (g.dice / 1000000) % 4 > 1 THEN pg_temp.bench_word($4::text[], g.hash, 6) END,
               CASE WHEN (g.dice / 1000000) % 4 > 2 THEN pg_temp.bench_word($4::text[], g.hash, 7) END
           ) || CASE WHEN substr(g.hash, 1, 1) IN ('0', '1', '2', '3') THEN '?' ELSE '' END,
           'text', $8::bigint + g.seq * $9::bigint + g.ord
    FROM generated g
    RETURNING id, chat_id, sender_id, seq, created_at
)
INSERT INTO chat_events (chat_id, event_seq, kind, actor_id, message_id, created_at)
SELECT chat_id, seq, 'message', sender_id, id, created_at FROM stored";

/// The loaded chats: the reader is in all of them, each with a partner of its own.
#[derive(Debug, Clone)]
pub struct LoadedChat {
    pub chat_id: String,
    pub reader_id: String,
    pub partner_id: String,
}

/// What was loaded and how long it took.
#[derive(Debug, Clone, Serialize)]
pub struct Loaded {
    pub messages: usize,
    pub chats: usize,
    pub messages_per_chat: i64,
    /// Seconds: inserting the rows, indexing them for search (the search table and
    /// the indexes built again), vacuum.
    pub insert_s: f64,
    pub index_s: f64,
    pub vacuum_s: f64,
    /// Matching messages, counted with the search query's own conditions.
    pub rare_matches: i64,
    pub common_matches: i64,
    pub partial_matches: i64,
    /// Size of `messages` with its indexes, and of `chat_events`, in MiB.
    pub messages_mib: f64,
    pub events_mib: f64,
    /// Whether the schema has the search table that the indexer fills behind the
    /// log; a server from before it searched `messages` itself.
    pub search_table: bool,
}

/// Loads `messages` messages spread evenly over `chats` (which must be empty) into
/// the database at `url`.
///
/// The indexes of `messages`, `message_search` and `chat_events` that back no
/// constraint (the search indexes) are dropped first and built again afterwards
/// from their own definitions, as a restore does: one index build is many times
/// faster than a million index updates. The messages are copied into the search
/// table in one statement, as the migration that created it did, instead of through
/// the server's indexer. `VACUUM ANALYZE` then leaves the tables as autovacuum
/// leaves a live database (statistics, visibility map, hint bits). A schema from
/// before the search table (a server of an earlier commit, measured back to back)
/// has only the indexes of `messages` to build again.
pub async fn load(url: &str, chats: &[LoadedChat], messages: usize) -> Result<Loaded> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(connection);
    let loaded = load_with(&client, chats, messages).await;
    drop(client);
    let _ = task.await;
    loaded
}

async fn load_with(client: &Client, chats: &[LoadedChat], messages: usize) -> Result<Loaded> {
    let per_chat = i64::try_from(messages / chats.len().max(1)).context("messages per chat")?;
    let chat_ids: Vec<&str> = chats.iter().map(|c| c.chat_id.as_str()).collect();
    let empty: i64 = client
        .query_one(
            "SELECT count(*) FROM chats WHERE id = ANY($1) AND last_seq = 0 AND last_event_seq = 0",
            &[&chat_ids],
        )
        .await
        .context("checking the chats")?
        .get(0);
    if usize::try_from(empty).ok() != Some(chats.len()) {
        bail!("only {empty} of the {} chats are empty; the loader numbers messages from 1", chats.len());
    }
    client.batch_execute(WORD_FUNCTION).await.context("creating the word function")?;
    client.batch_execute("SET maintenance_work_mem = '256MB'").await?;
    let search_table: bool = client
        .query_one("SELECT to_regclass('message_search') IS NOT NULL", &[])
        .await
        .context("looking for the search table")?
        .get(0);
    let indexes = drop_search_indexes(client).await?;
    if search_table {
        // The rows are indexed for search below, all at once, rather than noted one
        // by one for the server's indexer.
        client.batch_execute("ALTER TABLE messages DISABLE TRIGGER messages_search_new").await?;
    }

    let started = std::time::Instant::now();
    let readers: Vec<&str> = chats.iter().map(|c| c.reader_id.as_str()).collect();
    let partners: Vec<&str> = chats.iter().map(|c| c.partner_id.as_str()).collect();
    let words: Vec<&str> = WORDS.to_vec();
    let rare_every = i32::try_from((messages / RARE_MATCHES).max(1)).context("rare word rate")?;
    let now_us = chitchat_now_us();
    let first_at = now_us - per_chat * MESSAGE_INTERVAL_US;
    let insert = client.prepare(INSERT_MESSAGES).await.context("preparing the loader's INSERT")?;
    let mut from = 1i64;
    while from <= per_chat {
        let to = (from + SEQS_PER_STATEMENT as i64 - 1).min(per_chat);
        client
            .execute(
                &insert,
                &[&chat_ids, &readers, &partners, &words, &from, &to, &rare_every, &first_at, &MESSAGE_INTERVAL_US],
            )
            .await
            .with_context(|| format!("loading seqs {from} to {to}"))?;
        load::progress(&format!("loaded {} of {} messages", to * chats.len() as i64, per_chat * chats.len() as i64));
        from = to + 1;
    }
    client
        .execute(
            "UPDATE chats c SET last_seq = $2, last_event_seq = $2, last_activity_at = $3 + u.ord \
             FROM unnest($1::text[]) WITH ORDINALITY AS u(id, ord) WHERE c.id = u.id",
            &[&chat_ids, &per_chat, &(first_at + per_chat * MESSAGE_INTERVAL_US)],
        )
        .await
        .context("moving the chats' positions on")?;
    let insert_s = started.elapsed().as_secs_f64();

    let started = std::time::Instant::now();
    if search_table {
        client.batch_execute("ALTER TABLE messages ENABLE TRIGGER messages_search_new").await?;
        fill_search_table(client).await?;
    }
    for (name, definition) in &indexes {
        load::progress(&format!("building index {name}"));
        client.batch_execute(definition).await.with_context(|| format!("building {name} again"))?;
    }
    let index_s = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    load::progress("VACUUM ANALYZE");
    let tables = ["messages", "message_search", "chat_events", "chats", "chat_members"];
    for table in tables.into_iter().filter(|table| search_table || *table != "message_search") {
        client.batch_execute(&format!("VACUUM (ANALYZE) {table}")).await.with_context(|| format!("vacuum {table}"))?;
    }
    let vacuum_s = started.elapsed().as_secs_f64();

    let (rare_matches, common_matches, partial_matches) = count_matches(client).await?;
    let size = |table: &'static str| async move {
        let row = client
            .query_one("SELECT pg_total_relation_size($1::text::regclass)::float8 / 1048576", &[&table])
            .await
            .with_context(|| format!("size of {table}"))?;
        Ok::<f64, anyhow::Error>(row.get(0))
    };
    Ok(Loaded {
        messages: usize::try_from(per_chat).unwrap_or_default() * chats.len(),
        chats: chats.len(),
        messages_per_chat: per_chat,
        insert_s,
        index_s,
        vacuum_s,
        rare_matches,
        common_matches,
        partial_matches,
        messages_mib: size("messages").await?,
        events_mib: size("chat_events").await?,
        search_table,
    })
}

/// How many messages hold the rare word, the common word and the searched part of
/// a word, counted with the search query's own conditions.
async fn count_matches(client: &Client) -> Result<(i64, i64, i64)> {
    let count = |pattern: &'static str, word: &'static str| async move {
        let row = client
            .query_one(
                "SELECT count(*) FROM messages WHERE to_tsvector('simple', content) @@ plainto_tsquery('simple', $1) \
                 OR content ILIKE $2",
                &[&word, &pattern],
            )
            .await
            .with_context(|| format!("counting messages with {word:?}"))?;
        Ok::<i64, anyhow::Error>(row.get(0))
    };
    let rare_matches = count("%zanzibar%", RARE_WORD).await?;
    let common_matches = count("%tomorrow%", COMMON_WORD).await?;
    let partial_matches = count("%restaur%", PARTIAL_QUERY).await?;
    Ok((rare_matches, common_matches, partial_matches))
}

/// Copies the loaded messages into the search table in one statement, as the
/// migration that created it did.
async fn fill_search_table(client: &Client) -> Result<()> {
    load::progress("indexing the messages for search");
    client
        .batch_execute(
            "INSERT INTO message_search (message_id, content) SELECT id, content FROM messages \
             WHERE content_type = 'text' AND deleted_at IS NULL ON CONFLICT DO NOTHING",
        )
        .await
        .context("indexing the messages for search")
}

/// Drops the indexes of `messages`, `message_search` (where there is one) and
/// `chat_events` that back no constraint; returns their names and definitions, to
/// build them again after the load.
async fn drop_search_indexes(client: &Client) -> Result<Vec<(String, String)>> {
    let rows = client
        .query(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
             WHERE i.indrelid IN ('messages'::regclass, to_regclass('message_search'), 'chat_events'::regclass) \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) \
             ORDER BY 1",
            &[],
        )
        .await
        .context("listing the indexes")?;
    let indexes: Vec<(String, String)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    for (name, _) in &indexes {
        client.batch_execute(&format!("DROP INDEX {name}")).await.with_context(|| format!("dropping {name}"))?;
    }
    Ok(indexes)
}

/// Microseconds since the Unix epoch, the server's time unit.
fn chitchat_now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX))
}
