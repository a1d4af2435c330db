//! Shared by the black-box tests: start the real binary on each backend.
#![allow(dead_code)]

pub mod roaming;

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

/// Asha on instance `a`, and Ravi with a phone on `b` and a laptop on `a`, in a
/// direct chat: the people of the tests across two instances.
pub struct AcrossInstances {
    pub asha: chitchat_testkit::Login,
    pub ravi_phone: chitchat_testkit::Login,
    pub ravi_laptop: chitchat_testkit::Login,
    pub chat: String,
}

pub async fn asha_and_ravi_across(a: &chitchat_testkit::ApiClient, b: &chitchat_testkit::ApiClient) -> AcrossInstances {
    let asha = a.login("9876543210", "Asha").await;
    let ravi_phone = b.login("9876543211", "Ravi").await;
    let ravi_laptop = a.login("9876543211", "Ravi").await;
    let chat = a.direct_chat(&asha, &ravi_phone.user_id()).await;
    AcrossInstances { asha, ravi_phone, ravi_laptop, chat }
}
