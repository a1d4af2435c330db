//! Group commit for new messages. Every append and send goes to a writer task,
//! which takes all the messages waiting for it and stores them in one
//! transaction (`batch`): one commit, and a fixed number of statements, for many
//! messages. Each caller gets its answer only after that transaction committed.
//!
//! Messages are spread over a few writers by chat, so that one chat's messages
//! are always stored by the same writer in the order they arrived, while
//! several batches can be on their way to PostgreSQL at once. SQLite has one
//! writer, as it has one connection.

mod batch;
mod begin;
mod statements;
mod unnest;

use crate::error::StoreError;
use crate::models::MessageRow;
use crate::pool::{Backend, DbPool};
use chitchat_domain::message::SendOutcome;
use chitchat_domain::AttachmentId;
use std::hash::{Hash, Hasher};
use tokio::sync::{mpsc, oneshot};

/// Most messages one transaction stores (bounded by the number of bind
/// parameters a statement may carry: 13 per message row).
const MAX_BATCH: usize = 256;

/// Messages that may wait for a writer before senders wait to hand theirs over.
const QUEUE: usize = 4096;

/// Writers for PostgreSQL: enough to keep a batch on the wire while the previous
/// one commits, few enough to leave the pool to everything else.
const POSTGRES_WRITERS: usize = 2;

/// How a message is checked before it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A person sends (`MessageRepo::send`): blocks are checked, the chat comes
    /// back from archives, the recipients are returned.
    Send,
    /// `MessageRepo::append`: membership and `client_msg_id` only.
    Append,
}

/// One message for a batch.
pub(crate) struct Request {
    pub row: MessageRow,
    pub mode: Mode,
    /// The files the message carries, in order (none for most messages).
    pub attachments: Vec<AttachmentId>,
}

struct Job {
    request: Request,
    reply: oneshot::Sender<Result<SendOutcome, StoreError>>,
}

/// What a writer needs to run a batch.
pub(crate) struct Writer {
    pub(crate) pool: DbPool,
}

/// The queues of the writer tasks. Cheap to clone.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    queues: Vec<mpsc::Sender<Job>>,
}

impl GroupCommit {
    /// Starts the writers on the current tokio runtime; they stop when the last
    /// clone of the returned value is dropped.
    pub(crate) fn start(pool: &DbPool, backend: Backend) -> Self {
        let writers = match backend {
            Backend::Postgres => POSTGRES_WRITERS,
            Backend::Sqlite => 1,
        };
        let queues = (0..writers)
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(run(Writer { pool: pool.clone() }, rx));
                tx
            })
            .collect();
        Self { queues }
    }

    /// Stores `request` with the next batch of its chat's writer and returns
    /// what happened to it once that batch has committed (or failed).
    pub(crate) async fn submit(&self, request: Request) -> Result<SendOutcome, StoreError> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        request.row.chat_id.hash(&mut hasher);
        let queue = &self.queues[(hasher.finish() % self.queues.len() as u64) as usize];
        let (reply, answer) = oneshot::channel();
        queue.send(Job { request, reply }).await.map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// A writer: takes whatever has queued up (at least one message, at most
/// `MAX_BATCH`) and stores it as one batch, until the store is dropped.
async fn run(writer: Writer, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        commit(&writer, std::mem::take(&mut jobs)).await;
    }
}

/// Stores `jobs` as one batch and answers each. When the batch fails as a whole
/// (a unique key taken by another instance meanwhile, a deadlock, a lost
/// connection), each message is tried again alone, so that one message's
/// problem is not every message's and nothing is acknowledged that was not
/// committed. A file swept while its message waited (`AttachmentGone`) fails
/// only that message this way.
async fn commit(writer: &Writer, jobs: Vec<Job>) {
    let (requests, replies): (Vec<Request>, Vec<_>) = jobs.into_iter().map(|j| (j.request, j.reply)).unzip();
    let started = std::time::Instant::now();
    let stored = batch::store(writer, &requests).await;
    // At debug level, the size and time of every batch: what a message waits for.
    tracing::debug!(messages = requests.len(), took_us = started.elapsed().as_micros(), ok = stored.is_ok(), "batch");
    match stored {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // A caller that went away still had its message stored.
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(error) if requests.len() > 1 => {
            tracing::warn!(%error, messages = requests.len(), "group commit failed; storing its messages one by one");
            for (request, reply) in requests.into_iter().zip(replies) {
                let alone = std::slice::from_ref(&request);
                let outcome = batch::store(writer, alone).await.and_then(|mut outcomes| {
                    outcomes.pop().ok_or_else(|| StoreError::Corrupt("a batch of one answered nothing".into()))
                });
                let _ = reply.send(outcome);
            }
        }
        Err(error) => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(error));
            }
        }
    }
}
