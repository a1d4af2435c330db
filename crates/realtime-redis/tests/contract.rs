//! The event relay and presence contracts against the Redis at `TEST_REDIS_URL`, each test on a
//! channel (or key prefix) of its own so that tests running together do not hear each other.

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

/// Two instances' adapters on one key prefix of their own, each made by `connect`
/// from the connection settings and the prefix.
async fn two_on_a_prefix<T, F, Fut>(connect: F) -> Option<(T, T)>
where
    F: Fn(RedisRelayConfig, String) -> Fut,
    Fut: std::future::Future<Output = Result<T, chitchat_realtime_redis::RelayError>>,
{
    let config = RedisRelayConfig::new(test_redis_url());
    let prefix = format!("chitchat:test:{}", uuid::Uuid::new_v4().simple());
    let pair = async {
        Ok::<_, chitchat_realtime_redis::RelayError>((
            connect(config.clone(), prefix.clone()).await?,
            connect(config, prefix).await?,
        ))
    };
    match pair.await {
        Ok(pair) => Some(pair),
        Err(error) => skip_or_fail("Redis (TEST_REDIS_URL)", error),
    }
}

mod presence {
    use chitchat_realtime_redis::{RedisPresence, RedisPresenceConfig, RedisRelayConfig};
    use chitchat_testkit::contracts::presence::Instances;
    use chitchat_testkit::services::{skip_or_fail, test_redis_url};
    use std::time::Duration;

    /// A tracker of a deployment of its own (its own key prefix), so each case starts empty.
    async fn redis_presence() -> Option<RedisPresence> {
        let config = RedisPresenceConfig {
            prefix: format!("chitchat:test:{}", uuid::Uuid::new_v4().simple()),
            ..RedisPresenceConfig::new(RedisRelayConfig::new(test_redis_url()), Duration::from_secs(30))
        };
        match RedisPresence::connect(config).await {
            Ok(presence) => Some(presence),
            Err(error) => skip_or_fail("Redis (TEST_REDIS_URL)", error),
        }
    }

    chitchat_testkit::presence_contract_tests!(redis_presence());

    /// Two instances of a deployment of its own, with a short TTL so that the one
    /// dropped (a crash) is noticed quickly.
    async fn redis_instances() -> Option<Instances<RedisPresence>> {
        let config = RedisPresenceConfig {
            prefix: format!("chitchat:test:{}", uuid::Uuid::new_v4().simple()),
            ..RedisPresenceConfig::new(RedisRelayConfig::new(test_redis_url()), Duration::from_secs(1))
        };
        let connect = async {
            Ok::<_, chitchat_realtime_redis::RelayError>(Instances {
                here: RedisPresence::connect(config.clone()).await?,
                there: RedisPresence::connect(config).await?,
            })
        };
        match connect.await {
            Ok(instances) => Some(instances),
            Err(error) => skip_or_fail("Redis (TEST_REDIS_URL)", error),
        }
    }

    chitchat_testkit::presence_instances_contract_tests!(redis_instances());
}

mod membership_cache {
    use chitchat_realtime_redis::{RedisMembershipCache, DEFAULT_MEMBERS_TTL};
    use chitchat_testkit::contracts::membership_cache::CachePair;
    use std::sync::Arc;

    /// Two instances' caches on one key prefix of their own.
    async fn redis_caches() -> Option<CachePair> {
        let (a, b) = super::two_on_a_prefix(|config, prefix| async move {
            RedisMembershipCache::connect(&config, &prefix, DEFAULT_MEMBERS_TTL).await
        })
        .await?;
        Some((Arc::new(a), Arc::new(b)))
    }

    chitchat_testkit::membership_cache_contract_tests!(redis_caches());
}

mod request_counter {
    use chitchat_realtime_redis::RedisRequestCounter;
    use chitchat_testkit::contracts::request_counter::CounterPair;
    use std::sync::Arc;

    /// Two instances' counters on one key prefix of their own.
    async fn redis_counters() -> Option<CounterPair> {
        let (a, b) =
            super::two_on_a_prefix(
                |config, prefix| async move { RedisRequestCounter::connect(&config, &prefix).await },
            )
            .await?;
        Some((Arc::new(a), Arc::new(b)))
    }

    chitchat_testkit::request_counter_contract_tests!(redis_counters());
}

mod call_registry {
    use chitchat_realtime_redis::RedisCallRegistry;
    use chitchat_testkit::contracts::call_registry::RegistryPair;
    use std::sync::Arc;

    /// Two instances' registries on one key prefix of their own.
    async fn redis_registries() -> Option<RegistryPair> {
        let (a, b) =
            super::two_on_a_prefix(|config, prefix| async move { RedisCallRegistry::connect(&config, &prefix).await })
                .await?;
        Some((Arc::new(a), Arc::new(b)))
    }

    chitchat_testkit::call_registry_contract_tests!(redis_registries());
}
