//! Group commit, for new messages (`batch`) and receipts (`receipts`). Each
//! request goes to a writer task, which takes all the requests of its kind
//! waiting for it and stores them in one transaction: one commit, and a fixed
//! number of statements, for many requests. Each caller gets its answer only
//! after that transaction committed.
//!
//! Requests are spread over a few writers by chat, so that one chat's requests
//! are always stored by the same writer in the order they arrived, while
//! several batches can be on their way to PostgreSQL at once. SQLite has one
//! writer of each kind, as it has one connection.

mod batch;
mod begin;
mod receipt_statements;
mod receipts;
mod statements;
mod unnest;

pub(crate) use batch::{Messages, Mode, Request};
pub(crate) use receipts::{ReceiptMove, Receipts};

use crate::error::StoreError;
use crate::pool::{Backend, DbPool};
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most requests one transaction stores (bounded by the number of bind
/// parameters a statement may carry: 13 per message row).
const MAX_BATCH: usize = 256;

/// Requests that may wait for a writer before callers wait to hand theirs over.
const QUEUE: usize = 4096;

/// Writers for PostgreSQL: enough to keep a batch on the wire while the previous
/// one commits, few enough to leave the pool to everything else.
const POSTGRES_WRITERS: usize = 2;

/// One kind of request stored in batches.
pub(crate) trait Batch: Send + Sync + 'static {
    type Request: Send + 'static;
    type Outcome: Send + 'static;
    /// What a batch holds, for the logs.
    const HOLDS: &'static str;

    /// The chat `request` writes to: one chat's requests share a writer.
    fn chat(request: &Self::Request) -> &str;

    /// Stores `requests` in one transaction. Returns one outcome per request, in
    /// order; an error means nothing of the batch was stored.
    fn store(&self, requests: &[Self::Request]) -> impl Future<Output = Result<Vec<Self::Outcome>, StoreError>> + Send;
}

struct Job<B: Batch> {
    request: B::Request,
    reply: oneshot::Sender<Result<B::Outcome, StoreError>>,
}

/// The queues of the writer tasks of one kind of batch. Cheap to clone.
pub(crate) struct Writers<B: Batch> {
    queues: Vec<mpsc::Sender<Job<B>>>,
}

impl<B: Batch> Clone for Writers<B> {
    fn clone(&self) -> Self {
        Self { queues: self.queues.clone() }
    }
}

impl<B: Batch> Writers<B> {
    /// Starts the writers on the current tokio runtime; they stop when the last
    /// clone of the returned value is dropped.
    pub(crate) fn start(pool: &DbPool, batch: impl Fn(DbPool) -> B) -> Self {
        let writers = match pool.backend() {
            Backend::Postgres => POSTGRES_WRITERS,
            Backend::Sqlite => 1,
        };
        let batch = Arc::new(batch(pool.clone()));
        let queues = (0..writers)
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(run(batch.clone(), rx));
                tx
            })
            .collect();
        Self { queues }
    }

    /// Stores `request` with the next batch of its chat's writer and returns
    /// what happened to it once that batch has committed (or failed).
    pub(crate) async fn submit(&self, request: B::Request) -> Result<B::Outcome, StoreError> {
        self.hand_over(request).await?.outcome().await
    }

    /// Hands `request` to its chat's writer, behind every request of the chat
    /// handed over before; its outcome comes once its batch has committed.
    pub(crate) async fn hand_over(&self, request: B::Request) -> Result<Handed<B::Outcome>, StoreError> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        B::chat(&request).hash(&mut hasher);
        let queue = &self.queues[(hasher.finish() % self.queues.len() as u64) as usize];
        let (reply, answer) = oneshot::channel();
        queue.send(Job { request, reply }).await.map_err(|_| StoreError::WriterStopped)?;
        Ok(Handed(answer))
    }
}

/// A request a writer has, and the way its outcome comes back.
pub(crate) struct Handed<O>(oneshot::Receiver<Result<O, StoreError>>);

impl<O> Handed<O> {
    /// What happened to the request, once its batch has committed (or failed).
    pub(crate) async fn outcome(self) -> Result<O, StoreError> {
        self.0.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// A writer: takes whatever has queued up (at least one request, at most
/// `MAX_BATCH`) and stores it as one batch, until the store is dropped.
async fn run<B: Batch>(batch: Arc<B>, mut queue: mpsc::Receiver<Job<B>>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        commit(batch.as_ref(), std::mem::take(&mut jobs)).await;
    }
}

/// Stores `jobs` as one batch and answers each. When the batch fails as a whole
/// (a unique key taken by another instance meanwhile, a deadlock, a lost
/// connection), each request is tried again alone, so that one request's
/// problem is not every request's and nothing is acknowledged that was not
/// committed. A file swept while its message waited (`AttachmentGone`) fails
/// only that message this way.
async fn commit<B: Batch>(batch: &B, jobs: Vec<Job<B>>) {
    let (requests, replies): (Vec<B::Request>, Vec<_>) = jobs.into_iter().map(|j| (j.request, j.reply)).unzip();
    let started = std::time::Instant::now();
    let stored = batch.store(&requests).await;
    // At debug level, the size and time of every batch: what a request waits for.
    tracing::debug!(
        holds = B::HOLDS,
        requests = requests.len(),
        took_us = started.elapsed().as_micros(),
        ok = stored.is_ok(),
        "batch"
    );
    match stored {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // A caller that went away still had its request stored.
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(error) if requests.len() > 1 => {
            tracing::warn!(%error, holds = B::HOLDS, requests = requests.len(), "group commit failed; storing its requests one by one");
            for (request, reply) in requests.into_iter().zip(replies) {
                let alone = std::slice::from_ref(&request);
                let outcome = batch.store(alone).await.and_then(|mut outcomes| {
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
