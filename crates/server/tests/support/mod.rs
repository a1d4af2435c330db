//! Shared by the black-box tests: start the real binary on each backend.
#![allow(dead_code)]

use chitchat_testkit::{TestBackend, TestServer};

pub const BINARY: &str = env!("CARGO_BIN_EXE_chitchat");

/// How long test servers keep a user online after their last device leaves:
/// short, so presence tests run quickly.
pub const PRESENCE_GRACE: &str = "1500ms";

/// Starts the binary with `env` on top of the test defaults.
pub async fn start(backend: TestBackend, env: &[(&str, &str)]) -> Option<TestServer> {
    let mut all = vec![("PRESENCE_GRACE_PERIOD", PRESENCE_GRACE)];
    all.extend_from_slice(env);
    TestServer::start_with_env(BINARY, backend, &all).await
}

/// Starts `instances` servers on one fresh PostgreSQL database and one Redis
/// channel, with the test presence grace period; None when PostgreSQL or Redis is
/// unavailable and not required.
pub async fn start_cluster(instances: usize) -> Option<Vec<TestServer>> {
    TestServer::start_cluster(BINARY, instances, &[("PRESENCE_GRACE_PERIOD", PRESENCE_GRACE)]).await
}

/// Defines `async fn $name(server: TestServer)` once and runs it as two tests,
/// `sqlite::$name` and `postgres::$name`, each on a fresh database. With
/// `env = [(VAR, value), ...];` first, every server starts with those variables.
#[macro_export]
macro_rules! on_both_backends {
    (env = $env:expr; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = chitchat_testkit::TestBackend::Sqlite;
                    let Some(server) = $crate::support::start(backend, &$env).await else { return };
                    super::$name(server).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = chitchat_testkit::TestBackend::Postgres;
                    let Some(server) = $crate::support::start(backend, &$env).await else { return };
                    super::$name(server).await;
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!(env = []; $($name),*);
    };
}
