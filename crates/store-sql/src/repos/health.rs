use crate::error::StoreError;
use crate::store::Store;
use async_trait::async_trait;
use chitchat_domain::ports::StoreHealth;
use diesel_async::RunQueryDsl;

impl Store {
    async fn select_one(&self) -> Result<(), StoreError> {
        db_run!(self, |conn| {
            diesel::sql_query("SELECT 1").execute(conn).await?;
        });
        Ok(())
    }
}

#[async_trait]
impl StoreHealth for Store {
    async fn ping(&self) -> bool {
        match self.select_one().await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "database health check failed");
                false
            }
        }
    }
}
