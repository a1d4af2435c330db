//! Who the client is behind reverse proxies: `TRUSTED_PROXIES` names the proxies
//! (addresses or CIDR ranges) whose `X-Forwarded-For` is believed.

use actix_web::dev::ServiceRequest;
use ipnet::IpNet;
use std::net::IpAddr;
use std::str::FromStr;

/// The proxies whose `X-Forwarded-For` names the real client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `TRUSTED_PROXIES` entry that is neither an address nor a CIDR range.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an IP address or a CIDR range such as 10.0.0.0/8")]
pub struct BadProxy(pub String);

impl FromStr for TrustedProxies {
    type Err = BadProxy;

    /// Comma-separated addresses (`127.0.0.1`, `::1`) and ranges (`10.0.0.0/8`).
    fn from_str(list: &str) -> Result<Self, BadProxy> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| BadProxy(entry.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl TrustedProxies {
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the
    /// nearest address in `X-Forwarded-For` that is not itself a trusted proxy
    /// (proxies append what they saw, so the list is read from the right).
    pub fn client_ip(&self, req: &ServiceRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        Some(self.client_behind(peer, forwarded))
    }

    fn client_behind(&self, peer: IpAddr, forwarded: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded.unwrap_or_default().rsplit(',') {
            // A malformed entry ends the walk: what is left of it cannot be believed.
            let Ok(ip) = hop.trim().parse::<IpAddr>() else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_ranges_are_accepted_and_anything_else_is_named() {
        let proxies: TrustedProxies = "127.0.0.1, ::1,10.0.0.0/8,fd00::/8".parse().unwrap();
        assert!(proxies.trusts(ip("10.1.2.3")));
        assert!(proxies.trusts(ip("::1")));
        assert!(proxies.trusts(ip("fd12::1")));
        assert!(!proxies.trusts(ip("11.0.0.1")));
        assert_eq!("10.0.0.0/33".parse::<TrustedProxies>(), Err(BadProxy("10.0.0.0/33".into())));
        assert_eq!("nginx".parse::<TrustedProxies>(), Err(BadProxy("nginx".into())));
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::default()));
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        // Not from a proxy: the header is the client's own claim and is ignored.
        assert_eq!(proxies.client_behind(ip("203.0.113.9"), Some("1.2.3.4")), ip("203.0.113.9"));
        // Load balancer → ingress → server: both proxies are skipped.
        assert_eq!(proxies.client_behind(ip("10.0.0.5"), Some("6.6.6.6, 198.51.100.7, 10.9.9.9")), ip("198.51.100.7"));
        // No header from a proxy: the proxy is all there is.
        assert_eq!(proxies.client_behind(ip("10.0.0.5"), None), ip("10.0.0.5"));
        // Garbage stops the walk at the last address believed.
        assert_eq!(proxies.client_behind(ip("10.0.0.5"), Some("1.2.3.4, junk, 10.1.1.1")), ip("10.1.1.1"));
    }
}
