//! The event relay contract against the Redis at `TEST_REDIS_URL`, each test on a
//! channel of its own so that tests running together do not hear each other.

use chitchat_realtime_redis::{RedisRelay, RedisRelayConfig};
use chitchat_testkit::services::{skip_or_fail, test_redis_url};

async fn relay_pair() -> Option<(RedisRelay, RedisRelay)> {
    let channel = format!("chitchat:test:{}", uuid::Uuid::new_v4().simple());
    let config = RedisRelayConfig { channel, ..RedisRelayConfig::new(test_redis_url()) };
    let connect = async {
        Ok::<_, chitchat_realtime_redis::RelayError>((
            RedisRelay::connect(config.clone()).await?,
            RedisRelay::connect(config).await?,
        ))
    };
    match connect.await {
        Ok(pair) => Some(pair),
        Err(error) => skip_or_fail("Redis (TEST_REDIS_URL)", error),
    }
}

chitchat_testkit::event_relay_contract_tests!(relay_pair());
