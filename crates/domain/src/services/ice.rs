use super::Ports;
use crate::auth::Caller;
use crate::clock::Clock;
use crate::ice::{ice_servers, IcePolicy, IceServers};
use crate::ports::TurnCredentials;
use std::sync::Arc;

/// The STUN and TURN servers a caller's browser connects calls through.
pub struct IceService {
    policy: IcePolicy,
    /// Present when TURN is configured: URLs, and a way to mint their logins.
    turn: Option<Arc<dyn TurnCredentials>>,
    clock: Arc<dyn Clock>,
}

impl IceService {
    pub fn new(ports: &Ports, policy: IcePolicy) -> Self {
        let turn = ports.turn_credentials.clone().filter(|_| !policy.turn_urls.is_empty());
        Self { policy, turn, clock: ports.clock.clone() }
    }

    /// The list for `caller`, with a TURN login of their own that works for the
    /// policy's TTL from now.
    pub fn servers(&self, caller: Caller) -> IceServers {
        let expires_at = self.clock.now() + self.policy.turn_ttl;
        let turn = self.turn.as_ref().map(|minter| minter.mint(caller.user_id, expires_at));
        ice_servers(&self.policy, turn)
    }

    /// Whether calls may be relayed through TURN, for clients that say so before a call.
    pub fn has_turn(&self) -> bool {
        self.turn.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ice::TurnCredential;
    use crate::ports::MockTurnCredentials;
    use crate::services::test_support::{caller, ports, MockSet};
    use chrono::Utc;

    fn policy(turn_urls: &[&str]) -> IcePolicy {
        IcePolicy {
            stun_urls: vec!["stun:stun.example.org".into()],
            turn_urls: turn_urls.iter().map(|u| (*u).to_owned()).collect(),
            turn_ttl: chrono::Duration::minutes(20),
        }
    }

    #[test]
    fn the_caller_gets_a_turn_login_of_their_own_that_lasts_the_ttl() {
        let me = caller();
        let now = Utc::now();
        let mut minter = MockTurnCredentials::new();
        minter
            .expect_mint()
            .withf(move |user, expires_at| *user == me.user_id && *expires_at == now + chrono::Duration::minutes(20))
            .times(1)
            .returning(|user, _| TurnCredential { username: format!("x:{user}"), credential: "secret-free".into() });
        let mut m = MockSet::new(now);
        m.turn = Some(minter);
        let service = IceService::new(&ports(m), policy(&["turn:turn.example.org"]));
        assert!(service.has_turn());
        let servers = service.servers(me);
        assert_eq!(servers.ttl, 1200);
        assert_eq!(servers.ice_servers.len(), 2);
        assert_eq!(servers.ice_servers[1].urls, ["turn:turn.example.org"]);
        assert_eq!(servers.ice_servers[1].username, Some(format!("x:{}", me.user_id)));
    }

    #[test]
    fn without_turn_urls_or_a_secret_only_stun_is_given() {
        for (minter, urls) in [(None, &["turn:turn.example.org"][..]), (Some(MockTurnCredentials::new()), &[][..])] {
            let mut m = MockSet::new(Utc::now());
            m.turn = minter;
            let service = IceService::new(&ports(m), policy(urls));
            assert!(!service.has_turn());
            let servers = service.servers(caller());
            assert_eq!(servers.ice_servers.len(), 1);
            assert_eq!(servers.ice_servers[0].urls, ["stun:stun.example.org"]);
            assert_eq!(servers.ice_servers[0].credential, None);
        }
    }
}
