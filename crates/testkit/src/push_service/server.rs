//! The HTTP side: accepting connections and answering each push as a push
//! service does (RFC 8030 section 5).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, LOCATION, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::check::{check_push, ValidPush};
use super::registry::Shared;
use super::{Answer, ReceivedPush};

/// Accepts connections until aborted; aborting drops `connections`, which ends them.
pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>, origin: Arc<str>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (shared, origin) = (Arc::clone(&shared), Arc::clone(&origin));
                let service = service_fn(move |request| handle(Arc::clone(&shared), Arc::clone(&origin), request));
                connections.spawn(async move {
                    // A client that goes away mid-request is no concern of the tests.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            Some(_) = connections.join_next() => {}
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    origin: Arc<str>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let endpoint = format!("{origin}{}", request.uri().path());
    let (keys, expected_key) = {
        let mut registry = shared.lock();
        registry.log(&endpoint).attempts += 1;
        (registry.subscribers.get(&endpoint).cloned(), registry.vapid_key.clone())
    };
    let Some(keys) = keys else {
        return Ok(text(StatusCode::NOT_FOUND, "no such subscription".to_owned()));
    };
    let (parts, body) = request.into_parts();
    let push = match check_push(&parts, body, &keys, &origin, expected_key.as_deref()).await {
        Ok(push) => push,
        Err(refusal) => {
            let status = refusal.status();
            shared.lock().refused.push(format!("{} {}: {status} {refusal}", parts.method, parts.uri.path()));
            return Ok(text(status, refusal.to_string()));
        }
    };
    let answer = shared.lock().log(&endpoint).answers.pop_front();
    match answer {
        Some(answer) if answer.status != StatusCode::CREATED.as_u16() => Ok(scripted(answer)),
        _ => Ok(accept(&shared, &origin, &endpoint, push)),
    }
}

fn accept(shared: &Shared, origin: &str, endpoint: &str, push: ValidPush) -> Response<Full<Bytes>> {
    let ttl = push.ttl;
    let received = ReceivedPush {
        payload: push.payload,
        ttl,
        urgency: push.urgency,
        topic: push.topic,
        subject: push.subject,
        at: Instant::now(),
    };
    shared.lock().log(endpoint).received.push(received);
    shared.accepted.notify_waiters();
    let mut response = text(StatusCode::CREATED, String::new());
    let message = format!("{origin}/message/{}", Uuid::new_v4().simple());
    if let Ok(location) = HeaderValue::from_str(&message) {
        response.headers_mut().insert(LOCATION, location);
    }
    // RFC 8030 section 5.2: the push service says which TTL it applies.
    response.headers_mut().insert("ttl", HeaderValue::from(ttl));
    response
}

fn scripted(answer: Answer) -> Response<Full<Bytes>> {
    // `answer_next` only takes valid status codes.
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = text(status, status.canonical_reason().unwrap_or("scripted answer").to_owned());
    if let Some(seconds) = answer.retry_after {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
