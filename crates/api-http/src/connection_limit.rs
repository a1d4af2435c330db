//! `MAX_CONNECTIONS_PER_IP`: how many connections one address may hold open,
//! for servers that face clients without a reverse proxy in front (behind one,
//! every connection comes from the proxy, and the proxy limits its clients).
//! Each connection is counted from accept to close; a request on a connection
//! over the limit is answered 429 `too_many_connections` and the connection closed.

use crate::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::http::{header, ConnectionType};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use chitchat_domain::{ErrorCode, ErrorKind};
use std::any::Any;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

type OpenConnections = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// The open connections per client address, when limited.
#[derive(Debug, Clone, Default)]
pub struct ConnectionLimit {
    max_per_ip: Option<usize>,
    open: OpenConnections,
}

/// Held in a connection's data while it is open; gives its count back on close.
#[derive(Debug)]
struct ConnectionSlot {
    ip: IpAddr,
    over_limit: bool,
    open: OpenConnections,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl ConnectionLimit {
    /// `None`: no limit (the default).
    pub fn new(max_per_ip: Option<usize>) -> Self {
        Self { max_per_ip, open: OpenConnections::default() }
    }

    /// For `HttpServer::on_connect`: counts a new TCP connection against its peer address.
    pub fn on_connect(&self, connection: &dyn Any, data: &mut Extensions) {
        let Some(max) = self.max_per_ip else { return };
        let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else { return };
        let Ok(peer) = stream.peer_addr() else { return };
        let ip = peer.ip();
        let over_limit = {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let count = open.entry(ip).or_insert(0);
            *count += 1;
            *count > max
        };
        if over_limit {
            tracing::warn!(client_ip = %ip, max_connections_per_ip = max, "client over its connection limit");
            metrics::counter!("chitchat_http_connections_refused_total").increment(1);
        }
        data.insert(ConnectionSlot { ip, over_limit, open: self.open.clone() });
    }
}

/// Middleware: refuses requests on a connection that was over the limit when it opened.
pub async fn connection_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.conn_data::<ConnectionSlot>().is_some_and(|slot| slot.over_limit) {
        let mut response = ApiError::new(
            ErrorKind::TooManyRequests,
            ErrorCode::TooManyConnections,
            "too many open connections from this address; close some and try again",
        )
        .error_response();
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        response.head_mut().set_connection_type(ConnectionType::Close);
        return Ok(req.into_response(response));
    }
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}
