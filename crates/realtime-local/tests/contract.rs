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
