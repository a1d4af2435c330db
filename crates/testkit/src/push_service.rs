//! A Web Push service as a browser vendor runs one, for black-box tests: a real
//! HTTP server on 127.0.0.1 that takes RFC 8030 pushes, checks their VAPID
//! signature (RFC 8292) and decrypts their aes128gcm payload (RFC 8291) with the
//! keys of a subscription it created the way a browser does.

mod check;
mod registry;
mod server;
#[cfg(test)]
mod tests;
mod vapid;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding as _};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use uuid::Uuid;
use web_push_native::Auth;

use registry::{Shared, SubscriberKeys};

/// The push service; it stops listening when dropped.
pub struct PushService {
    shared: Arc<Shared>,
    origin: String,
    server: JoinHandle<()>,
}

/// What a browser's `PushSubscription` holds; keys are base64url without padding.
#[derive(Clone, Debug)]
pub struct BrowserSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// How the push service answers one push, e.g. 404, 410, 429 with `Retry-After`, 500.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
}

/// A push the service accepted, with its payload decrypted.
#[derive(Clone, Debug)]
pub struct ReceivedPush {
    pub payload: serde_json::Value,
    pub ttl: u64,
    pub urgency: Option<String>,
    pub topic: Option<String>,
    /// The `sub` claim of the VAPID token (`mailto:` or `https:` contact).
    pub subject: String,
    pub at: Instant,
}

impl PushService {
    /// Starts listening on 127.0.0.1 (random port); stops when dropped.
    pub async fn start() -> PushService {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("push service binds a port on 127.0.0.1");
        let port = listener.local_addr().expect("bound listener has an address").port();
        let origin = format!("http://127.0.0.1:{port}");
        let shared = Arc::new(Shared::default());
        let server = tokio::spawn(server::serve(listener, Arc::clone(&shared), Arc::from(origin.as_str())));
        PushService { shared, origin, server }
    }

    /// The VAPID public key every push must carry in `k=` (and verify with); others are refused with 403.
    /// Until it is set, any key a push carries is verified and accepted.
    pub fn expect_vapid_key(&self, public_key_b64url: &str) {
        self.shared.lock().vapid_key = Some(public_key_b64url.to_owned());
    }

    /// A new browser subscription: fresh P-256 key pair + 16 random auth bytes,
    /// endpoint `http://127.0.0.1:PORT/push/<random id>`.
    pub fn subscribe(&self) -> BrowserSubscription {
        let secret = random_secret_key();
        let auth: [u8; 16] = rand::random();
        let endpoint = format!("{}/push/{}", self.origin, Uuid::new_v4().simple());
        let subscription = BrowserSubscription {
            endpoint: endpoint.clone(),
            p256dh: Base64UrlUnpadded::encode_string(secret.public_key().to_encoded_point(false).as_bytes()),
            auth: Base64UrlUnpadded::encode_string(&auth),
        };
        let keys = SubscriberKeys { secret, auth: Auth::from(auth) };
        self.shared.lock().subscribers.insert(endpoint, keys);
        subscription
    }

    /// The next pushes to `endpoint` get these answers, in order; after them, 201 again.
    /// A push refused for breaking the protocol does not use up an answer.
    pub fn answer_next(&self, endpoint: &str, answers: &[Answer]) {
        for answer in answers {
            assert!(
                hyper::StatusCode::from_u16(answer.status).is_ok(),
                "answer_next: {} is not an HTTP status code",
                answer.status
            );
        }
        let mut registry = self.shared.lock();
        assert!(
            registry.subscribers.contains_key(endpoint),
            "answer_next: {endpoint} is not an endpoint this push service handed out"
        );
        registry.log(endpoint).answers.extend(answers.iter().copied());
    }

    /// Pushes accepted (answered 201) for `endpoint`, decrypted, in arrival order.
    pub fn received(&self, endpoint: &str) -> Vec<ReceivedPush> {
        self.shared.lock().logs.get(endpoint).map(|log| log.received.clone()).unwrap_or_default()
    }

    /// Waits until `count` pushes were accepted for `endpoint` (or the timeout), returns what arrived.
    pub async fn wait_for(&self, endpoint: &str, count: usize, timeout: Duration) -> Vec<ReceivedPush> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before looking, so an acceptance in between still wakes us.
            let accepted = self.shared.accepted.notified();
            tokio::pin!(accepted);
            accepted.as_mut().enable();
            let received = self.received(endpoint);
            if received.len() >= count {
                return received;
            }
            if tokio::time::timeout_at(deadline, accepted).await.is_err() {
                return self.received(endpoint);
            }
        }
    }

    /// Every request that reached `endpoint`, whatever it was answered.
    pub fn attempts(&self, endpoint: &str) -> usize {
        self.shared.lock().logs.get(endpoint).map_or(0, |log| log.attempts)
    }

    /// Why requests were refused for breaking the protocol (bad/missing VAPID, wrong key,
    /// bad headers, undecryptable body...), all endpoints.
    pub fn refused(&self) -> Vec<String> {
        self.shared.lock().refused.clone()
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        // Aborting the accept loop drops its set of connections, which aborts them too.
        self.server.abort();
    }
}

impl BrowserSubscription {
    /// `{"endpoint", "expirationTime": null, "keys": {"p256dh", "auth"}}`, as a browser's
    /// `PushSubscription.toJSON()`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": { "p256dh": self.p256dh, "auth": self.auth },
        })
    }
}

/// A P-256 secret key from the thread's CSPRNG; drawn again in the negligible case
/// that 32 random bytes are not a valid scalar.
/// A new VAPID private key in the form `VAPID_PRIVATE_KEY` takes, for servers that
/// must share one (the instances of a cluster).
pub fn new_vapid_private_key() -> String {
    base64ct::Base64UrlUnpadded::encode_string(&random_secret_key().to_bytes())
}

fn random_secret_key() -> p256::SecretKey {
    loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
            return key;
        }
    }
}
