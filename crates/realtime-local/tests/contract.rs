//! The event bus contract against the in-process bus.

use chitchat_realtime_local::{LocalBus, LocalPresence};

async fn local_bus() -> Option<LocalBus> {
    Some(LocalBus::default())
}

chitchat_testkit::event_bus_contract_tests!(local_bus());

mod presence {
    use super::LocalPresence;

    async fn local_presence() -> Option<LocalPresence> {
        Some(LocalPresence::default())
    }

    chitchat_testkit::presence_contract_tests!(local_presence());
}

mod membership_cache {
    use chitchat_realtime_local::LocalMembershipCache;
    use chitchat_testkit::contracts::membership_cache::CachePair;
    use std::sync::Arc;

    async fn local_cache() -> Option<CachePair> {
        let cache = Arc::new(LocalMembershipCache::default());
        Some((cache.clone(), cache))
    }

    chitchat_testkit::membership_cache_contract_tests!(local_cache());
}

mod request_counter {
    use chitchat_realtime_local::LocalRequestCounter;
    use chitchat_testkit::contracts::request_counter::CounterPair;
    use std::sync::Arc;

    async fn local_counter() -> Option<CounterPair> {
        let counter = Arc::new(LocalRequestCounter::default());
        Some((counter.clone(), counter))
    }

    chitchat_testkit::request_counter_contract_tests!(local_counter());
}

mod call_registry {
    use chitchat_realtime_local::LocalCallRegistry;
    use chitchat_testkit::contracts::call_registry::RegistryPair;
    use std::sync::Arc;

    async fn local_registry() -> Option<RegistryPair> {
        let registry = Arc::new(LocalCallRegistry::default());
        Some((registry.clone(), registry))
    }

    chitchat_testkit::call_registry_contract_tests!(local_registry());
}
