//! The event bus contract against the in-process bus.

use chitchat_realtime_local::LocalBus;

async fn local_bus() -> Option<LocalBus> {
    Some(LocalBus::default())
}

chitchat_testkit::event_bus_contract_tests!(local_bus());
