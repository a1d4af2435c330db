//! Shared by the black-box tests: start the real binary on each backend.
#![allow(dead_code)]

use chitchat_testkit::{TestBackend, TestServer};

pub const BINARY: &str = env!("CARGO_BIN_EXE_chitchat");

/// How long test servers keep a user online after their last device leaves:
/// short, so presence tests run quickly.
pub const PRESENCE_GRACE: &str = "400ms";

pub async fn start(backend: TestBackend) -> Option<TestServer> {
    TestServer::start_with_env(BINARY, backend, &[("PRESENCE_GRACE_PERIOD", PRESENCE_GRACE)]).await
}

/// Defines `async fn $name(server: TestServer)` once and runs it as two tests,
/// `sqlite::$name` and `postgres::$name`, each on a fresh database.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(server) = $crate::support::start(chitchat_testkit::TestBackend::Sqlite).await else { return };
                    super::$name(server).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(server) = $crate::support::start(chitchat_testkit::TestBackend::Postgres).await else { return };
                    super::$name(server).await;
                }
            )*
        }
    };
}
