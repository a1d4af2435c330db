//! Request bodies must keep arriving. actix-web times out request heads only: a
//! client that announces a large body and then sends nothing, or one byte now and
//! then, would hold its connection (and a file descriptor) for good. Every body is
//! read through `TimedPayload`: each read may wait at most `idle`, the whole body
//! at most its deadline. A body that runs out of time is answered 408
//! `body_timeout` and the connection is closed.

use crate::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::rt::time::{sleep, Instant, Sleep};
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use actix_web::{web, Error, HttpResponse, ResponseError};
use chitchat_domain::{ErrorCode, ErrorKind};
use futures_util::Stream;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long request bodies may take (`BODY_READ_TIMEOUT`, `BODY_DEADLINE`,
/// `UPLOAD_BODY_DEADLINE`).
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeouts {
    /// Longest wait for the next bytes while the server is reading.
    pub idle: Duration,
    /// Longest time for a whole body, from the end of the request head.
    pub deadline: Duration,
    /// The same for `POST /api/attachments`, whose bodies are files.
    pub upload_deadline: Duration,
}

impl Default for BodyTimeouts {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(10),
            deadline: Duration::from_secs(30),
            upload_deadline: Duration::from_secs(15 * 60),
        }
    }
}

/// Which limit a body ran out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expired {
    Idle,
    Deadline,
}

/// The request payload with both clocks on it. Reports expiry through `expired`,
/// and ends the stream with an error so every reader (JSON, multipart, the drain
/// loops) stops.
struct TimedPayload {
    inner: Payload,
    idle: Duration,
    idle_timer: Pin<Box<Sleep>>,
    deadline: Pin<Box<Sleep>>,
    /// Whether a reader is waiting now; the idle clock runs only while one is,
    /// so a handler busy between reads is not held against the client.
    waiting: bool,
    expired: Rc<Cell<Option<Expired>>>,
}

impl Stream for TimedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.expired.get().is_some() {
            return Poll::Ready(Some(Err(timed_out())));
        }
        if !this.waiting {
            this.waiting = true;
            let next = Instant::now() + this.idle;
            this.idle_timer.as_mut().reset(next);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            this.waiting = false;
            return Poll::Ready(item);
        }
        let expired = if this.deadline.as_mut().poll(cx).is_ready() {
            Expired::Deadline
        } else if this.idle_timer.as_mut().poll(cx).is_ready() {
            Expired::Idle
        } else {
            return Poll::Pending;
        };
        this.expired.set(Some(expired));
        Poll::Ready(Some(Err(timed_out())))
    }
}

fn timed_out() -> PayloadError {
    PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body did not arrive in time"))
}

/// The WebSocket route: its connection becomes the socket, whose frames have
/// their own ping and write timeouts. Told by the route, not by an `Upgrade`
/// header, which any request could carry to slip past the clocks.
const WEBSOCKET_ROUTE: &str = "/ws";

fn is_websocket(req: &ServiceRequest) -> bool {
    req.match_pattern().as_deref() == Some(WEBSOCKET_ROUTE)
}

fn deadline_for(req: &ServiceRequest, timeouts: &BodyTimeouts) -> Duration {
    let upload = req.method() == Method::POST && req.match_pattern().as_deref() == Some("/api/attachments");
    if upload {
        timeouts.upload_deadline
    } else {
        timeouts.deadline
    }
}

fn timeout_response(expired: Expired, timeouts: &BodyTimeouts) -> HttpResponse {
    let message = match expired {
        Expired::Idle => format!("the request body stalled for {} s", timeouts.idle.as_secs_f64()),
        Expired::Deadline => "the request body took too long to arrive".to_owned(),
    };
    let mut response = ApiError::new(ErrorKind::Timeout, ErrorCode::BodyTimeout, message).error_response();
    // The rest of the body may still be on its way: the connection cannot be reused.
    response.head_mut().set_connection_type(ConnectionType::Close);
    response
}

/// Middleware: reads every request body under `BodyTimeouts` (from app data,
/// else the defaults); 408 `body_timeout` and a closed connection when it runs out.
pub async fn body_timeouts(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if is_websocket(&req) {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let timeouts = req.app_data::<web::Data<BodyTimeouts>>().map_or_else(BodyTimeouts::default, |t| *t.get_ref());
    let expired = Rc::new(Cell::new(None));
    let started = Instant::now();
    let timed = TimedPayload {
        inner: req.take_payload(),
        idle: timeouts.idle,
        idle_timer: Box::pin(sleep(timeouts.idle)),
        deadline: Box::pin(actix_web::rt::time::sleep_until(started + deadline_for(&req, &timeouts))),
        waiting: false,
        expired: expired.clone(),
    };
    req.set_payload(Payload::Stream { payload: Box::pin(timed) });
    let outcome = next.call(req).await;
    let Some(which) = expired.get() else {
        return outcome.map(ServiceResponse::map_into_boxed_body);
    };
    tracing::info!(
        expired = ?which,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request body timed out; closing the connection"
    );
    metrics::counter!("chitchat_http_body_timeouts_total").increment(1);
    let timed_out = BodyTimedOut { expired: which, timeouts };
    match outcome {
        Ok(response) => Ok(response.into_response(timed_out.error_response())),
        // Turned into its response (the same 408) by actix.
        Err(_) => Err(timed_out.into()),
    }
}

/// The answer to a body that ran out of time, as an error for the paths where
/// the handler failed outright.
#[derive(Debug)]
struct BodyTimedOut {
    expired: Expired,
    timeouts: BodyTimeouts,
}

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request body timed out ({:?})", self.expired)
    }
}

impl ResponseError for BodyTimedOut {
    fn status_code(&self) -> StatusCode {
        crate::error::status_of(ErrorKind::Timeout)
    }

    fn error_response(&self) -> HttpResponse {
        timeout_response(self.expired, &self.timeouts)
    }
}
