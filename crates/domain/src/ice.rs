//! The servers a browser needs to connect a call (WebRTC's ICE servers): STUN to
//! learn its public address, TURN to relay the media when no direct path works.

use serde::Serialize;

/// What the operator configured: `STUN_URLS`, `TURN_URLS` and `TURN_TTL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcePolicy {
    /// `stun:` and `stuns:` URLs, given to everyone as they are; empty: none.
    pub stun_urls: Vec<String>,
    /// `turn:` and `turns:` URLs of one TURN service, given with a credential of
    /// the caller's own; empty: no TURN.
    pub turn_urls: Vec<String>,
    /// How long a TURN credential works from the moment it is handed out.
    pub turn_ttl: chrono::Duration,
}

impl Default for IcePolicy {
    /// No STUN, no TURN; credentials would last an hour.
    fn default() -> Self {
        Self { stun_urls: Vec::new(), turn_urls: Vec::new(), turn_ttl: chrono::Duration::hours(1) }
    }
}

/// A short-lived TURN login, as the TURN server checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCredential {
    pub username: String,
    pub credential: String,
}

/// One entry of `RTCConfiguration.iceServers`, under the names the browser reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IceServer {
    pub urls: Vec<String>,
    /// TURN only: who the credential is for and until when, `expiry:user_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN only: the password that goes with `username`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// What a client hands to `new RTCPeerConnection({iceServers})`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IceServers {
    /// STUN first, then TURN; empty when the server knows of neither.
    pub ice_servers: Vec<IceServer>,
    /// Seconds the TURN credential works (`TURN_TTL`): ask again before a call
    /// that starts later.
    pub ttl: i64,
}

/// Which URLs a list may hold. Browsers refuse to build a connection from a
/// `turn:` URL without a credential, so STUN URLs and TURN URLs are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IceUrlKind {
    Stun,
    Turn,
}

impl IceUrlKind {
    /// The URI schemes of RFC 7064 (STUN) or RFC 7065 (TURN).
    pub fn schemes(self) -> &'static [&'static str] {
        match self {
            Self::Stun => &["stun:", "stuns:"],
            Self::Turn => &["turn:", "turns:"],
        }
    }

    /// A comma-separated list of URLs, each checked; blanks between commas are
    /// skipped. Err names the first URL that is not of this kind.
    pub fn parse_list(self, raw: &str) -> Result<Vec<String>, String> {
        raw.split(',').map(str::trim).filter(|url| !url.is_empty()).map(|url| self.check(url)).collect()
    }

    fn check(self, url: &str) -> Result<String, String> {
        let schemes = self.schemes();
        let host = schemes.iter().find_map(|scheme| url.strip_prefix(scheme));
        match host {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace) => {
                Ok(url.to_owned())
            }
            _ => Err(format!("{url:?} is not a {} URL (such as {}host:3478)", schemes.join(" or "), schemes[0])),
        }
    }
}

/// The one rule of what a caller gets: the STUN URLs when there are any, then the
/// TURN URLs with `turn`, the caller's credential, when TURN is configured (None
/// when it is not). Nothing configured: an empty list, and calls connect only
/// where a direct path exists.
pub fn ice_servers(policy: &IcePolicy, turn: Option<TurnCredential>) -> IceServers {
    let stun = (!policy.stun_urls.is_empty()).then(|| IceServer {
        urls: policy.stun_urls.clone(),
        username: None,
        credential: None,
    });
    let turn = turn.map(|turn| IceServer {
        urls: policy.turn_urls.clone(),
        username: Some(turn.username),
        credential: Some(turn.credential),
    });
    IceServers { ice_servers: stun.into_iter().chain(turn).collect(), ttl: policy.turn_ttl.num_seconds() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(stun: &[&str], turn: &[&str]) -> IcePolicy {
        IcePolicy {
            stun_urls: stun.iter().map(|u| (*u).to_owned()).collect(),
            turn_urls: turn.iter().map(|u| (*u).to_owned()).collect(),
            turn_ttl: chrono::Duration::minutes(30),
        }
    }

    fn credential() -> TurnCredential {
        TurnCredential { username: "1800000000:someone".into(), credential: "c2lnbmVk".into() }
    }

    #[test]
    fn stun_comes_first_and_turn_carries_the_credential() {
        let servers = ice_servers(&policy(&["stun:stun.example.org"], &["turn:turn.example.org"]), Some(credential()));
        assert_eq!(servers.ttl, 1800);
        let json = serde_json::to_value(&servers).unwrap();
        assert_eq!(
            json["ice_servers"],
            serde_json::json!([
                {"urls": ["stun:stun.example.org"]},
                {"urls": ["turn:turn.example.org"], "username": "1800000000:someone", "credential": "c2lnbmVk"},
            ])
        );
    }

    #[test]
    fn without_turn_only_stun_and_without_either_nothing() {
        let stun_only = ice_servers(&policy(&["stun:stun.example.org"], &[]), None);
        let json = serde_json::to_value(&stun_only).unwrap();
        assert_eq!(json["ice_servers"], serde_json::json!([{"urls": ["stun:stun.example.org"]}]));
        assert!(ice_servers(&policy(&[], &[]), None).ice_servers.is_empty());
        let turn_only = ice_servers(&policy(&[], &["turns:b.example.org:5349"]), Some(credential()));
        assert_eq!(turn_only.ice_servers.len(), 1);
        assert_eq!(turn_only.ice_servers[0].username.as_deref(), Some("1800000000:someone"));
    }

    #[test]
    fn url_lists_keep_stun_and_turn_apart() {
        let turn = IceUrlKind::Turn.parse_list(" turn:t.example.org:3478?transport=udp, ,turns:t.example.org:5349 ");
        assert_eq!(turn.unwrap(), ["turn:t.example.org:3478?transport=udp", "turns:t.example.org:5349"]);
        assert_eq!(IceUrlKind::Stun.parse_list("stun:s.example.org,stuns:s.example.org").unwrap().len(), 2);
        assert_eq!(IceUrlKind::Stun.parse_list("").unwrap(), Vec::<String>::new());
        for bad in ["https://t.example.org", "turn:", "stun:s.example.org", "turn:a b", "turn://t.example.org"] {
            let err = IceUrlKind::Turn.parse_list(bad).unwrap_err();
            assert!(err.contains("turn: or turns:"), "{bad}: {err}");
        }
        let err = IceUrlKind::Stun.parse_list("stun:ok.example.org,turn:t.example.org").unwrap_err();
        assert!(err.contains("\"turn:t.example.org\"") && err.contains("stun: or stuns:"), "{err}");
    }
}
