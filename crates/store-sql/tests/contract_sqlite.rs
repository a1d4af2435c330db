//! The repository contract against SQLite, each test on its own database file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitchat_store_sql::{Store, StoreConfig};

async fn sqlite_store() -> Option<Store> {
    // Leaked on purpose: the directory must outlive the test's store.
    let dir = Box::leak(Box::new(tempfile_dir()));
    let url = format!("sqlite://{}", dir.join("contract.db").display());
    Some(Store::connect(&StoreConfig { url, max_connections: 4 }).await.expect("sqlite store"))
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("chitchat-contract-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{}-{nanos}-{n}", std::process::id())
}

chitchat_testkit::store_contract_tests!(sqlite_store());
