//! The repository contract against PostgreSQL, each test on its own fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitchat_store_sql::{Store, StoreConfig};

async fn postgres_store() -> Option<Store> {
    let url = chitchat_testkit::services::fresh_postgres_database().await?;
    Some(Store::connect(&StoreConfig { url, max_connections: 4 }).await.expect("postgres store"))
}

chitchat_testkit::store_contract_tests!(postgres_store());
