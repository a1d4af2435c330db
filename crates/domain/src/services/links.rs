//! Linking a new device from a device already logged in (as WhatsApp Web's QR code):
//! the new device asks for a link as a phone number and shows its pairing code; a
//! device logged in as that number's person confirms the code, which opens a device
//! session for the new device; the new device claims that session, once.

use super::Ports;
use crate::auth::link::{
    ClaimOutcome, ClaimSecret, DeviceLink, LinkConfirmation, LinkPolicy, LinkSummary, NewLink, PairingCode,
};
use crate::auth::{device_label, Caller, LoginOutcome, Session};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::ids::LinkId;
use crate::ports::{DeviceLinkRepo, LinkSecretGenerator, SessionRepo, TokenCodec, UserRepo};
use crate::services::AuthPolicy;
use crate::user::{Phone, Region};
use crate::ErrorCode;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// How many fresh codes are tried when a new one happens to be taken.
const CODE_TRIES: usize = 4;

/// Device links: asking, looking up, confirming and claiming.
pub struct LinkService {
    links: Arc<dyn DeviceLinkRepo>,
    users: Arc<dyn UserRepo>,
    sessions: Arc<dyn SessionRepo>,
    secrets: Arc<dyn LinkSecretGenerator>,
    tokens: Arc<dyn TokenCodec>,
    clock: Arc<dyn Clock>,
    policy: LinkPolicy,
    region: Region,
    /// The login codes' pepper, mixed into stored pairing code hashes too.
    pepper: String,
    /// A linked device's session lasts as long as a login's.
    session_ttl: Duration,
}

fn not_found() -> DomainError {
    DomainError::not_found(ErrorCode::LinkNotFound, "no device is waiting with this code")
}

fn expired() -> DomainError {
    DomainError::gone(ErrorCode::LinkExpired, "the code has expired; the new device shows a fresh one")
}

impl LinkService {
    pub fn new(ports: &Ports, auth: &AuthPolicy, policy: LinkPolicy) -> Self {
        Self {
            links: ports.device_links.clone(),
            users: ports.users.clone(),
            sessions: ports.sessions.clone(),
            secrets: ports.link_secrets.clone(),
            tokens: ports.tokens.clone(),
            clock: ports.clock.clone(),
            policy,
            region: auth.region,
            pepper: auth.otp_pepper.clone(),
            session_ttl: auth.token_ttl,
        }
    }

    /// A new device asks to be logged in as the person of `raw_phone`. The answer
    /// is the same whether or not that phone has an account.
    pub async fn create(&self, raw_phone: &str, raw_device: &str) -> DomainResult<NewLink> {
        let phone = Phone::parse(raw_phone, self.region)?;
        let now = self.clock.now();
        self.links.remove_expired(now - self.policy.keep_expired).await?;
        let device = device_label(raw_device);
        for _ in 0..CODE_TRIES {
            let (pairing_code, claim_secret) = (self.secrets.pairing_code(), self.secrets.claim_secret());
            let link = DeviceLink {
                id: LinkId::new(),
                phone: phone.clone(),
                code_hash: pairing_code.hash(&self.pepper),
                claim_hash: claim_secret.hash(),
                device: device.clone(),
                created_at: now,
                expires_at: now + self.policy.ttl,
                confirmed: None,
                claimed_at: None,
            };
            // A code another waiting device holds is drawn again.
            if self.links.insert(&link).await? {
                return Ok(NewLink { id: link.id, pairing_code, claim_secret, expires_at: link.expires_at });
            }
        }
        Err(DomainError::unavailable("no free pairing code was drawn"))
    }

    /// What the caller would confirm with this code: the new device's label.
    pub async fn lookup(&self, caller: Caller, raw_code: &str) -> DomainResult<LinkSummary> {
        let (link, _) = self.confirmable(caller, raw_code).await?;
        Ok(summary(&link, None))
    }

    /// The caller confirms the code: the new device gets a session of its own,
    /// as the caller. Works once, whatever the number of racing confirmations.
    pub async fn confirm(&self, caller: Caller, raw_code: &str) -> DomainResult<LinkSummary> {
        let (link, now) = self.confirmable(caller, raw_code).await?;
        let session = Session::open(caller.user_id, &link.device, now, self.session_ttl);
        if !self.links.confirm(link.id, &session, now).await? {
            // Another confirmation won in between (the expiry was checked at `now`).
            return Err(used());
        }
        tracing::info!(link = %link.id, session = %session.id, user = %caller.user_id, "device linked");
        Ok(summary(&link, Some(&session)))
    }

    /// The link behind the code, if the caller may confirm it now. The checks, in
    /// order: a link has this code, it asks for the caller's own number, it is not
    /// confirmed yet, it has not expired.
    async fn confirmable(&self, caller: Caller, raw_code: &str) -> DomainResult<(DeviceLink, DateTime<Utc>)> {
        let code = PairingCode::parse(raw_code)?;
        let link = self.links.find_by_code(&code.hash(&self.pepper)).await?.ok_or_else(not_found)?;
        let me = self
            .users
            .get(caller.user_id)
            .await?
            .ok_or_else(|| DomainError::unauthorized(ErrorCode::InvalidToken, "the account no longer exists"))?;
        if me.phone != link.phone {
            return Err(DomainError::forbidden(
                ErrorCode::LinkWrongAccount,
                "the new device asked to log in with another phone number; enter yours there",
            ));
        }
        if link.confirmed.is_some() {
            return Err(used());
        }
        let now = self.clock.now();
        if now >= link.expires_at {
            return Err(expired());
        }
        Ok((link, now))
    }

    /// The new device asks whether its link was confirmed; once it was, it gets its
    /// login, once. Only the holder of the claim secret can ask.
    pub async fn claim(&self, raw_link_id: &str, raw_secret: &str) -> DomainResult<ClaimOutcome> {
        let id: LinkId = raw_link_id.trim().parse().map_err(|_| not_found())?;
        let link = self.links.get(id).await?.ok_or_else(not_found)?;
        if !ClaimSecret::from_client(raw_secret).matches(&link.claim_hash) {
            return Err(not_found());
        }
        if link.claimed_at.is_some() {
            return Err(DomainError::gone(ErrorCode::LinkUsed, "this link has already logged a device in"));
        }
        let now = self.clock.now();
        let Some(LinkConfirmation { session_id, at, .. }) = link.confirmed else {
            return if now >= link.expires_at { Err(expired()) } else { Ok(ClaimOutcome::Pending) };
        };
        if now >= at + self.policy.ttl {
            return Err(expired());
        }
        if !self.links.claim(id, now).await? {
            return Err(DomainError::gone(ErrorCode::LinkUsed, "this link has already logged a device in"));
        }
        // The session may have been revoked from another device in between.
        let session = self.sessions.get(session_id).await?.filter(|s| s.is_active(now)).ok_or_else(expired)?;
        let user = self
            .users
            .get(session.user_id)
            .await?
            .ok_or_else(|| DomainError::unauthorized(ErrorCode::InvalidToken, "the account no longer exists"))?;
        let token = self.tokens.issue(&session.claims())?;
        Ok(ClaimOutcome::LoggedIn(LoginOutcome { token, user, expires_at: session.expires_at }))
    }
}

fn used() -> DomainError {
    DomainError::conflict(ErrorCode::LinkUsed, "this code was already confirmed")
}

fn summary(link: &DeviceLink, session: Option<&Session>) -> LinkSummary {
    LinkSummary {
        link_id: link.id,
        device: link.device.clone(),
        expires_at: link.expires_at,
        session_id: session.map(|s| s.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenClaims;
    use crate::ids::{SessionId, UserId};
    use crate::services::test_support::{caller, ports, user, MockSet};

    const CODE: &str = "ABCD2345";
    const SECRET: &str = "the-claim-secret";

    fn auth() -> AuthPolicy {
        AuthPolicy { otp_pepper: "pepper".into(), ..AuthPolicy::default() }
    }

    fn service(m: MockSet) -> LinkService {
        LinkService::new(&ports(m), &auth(), LinkPolicy::default())
    }

    fn phone() -> Phone {
        Phone::parse("+919876543210", Region::default()).unwrap()
    }

    /// A link made at `created` for the phone of `test_support::user`.
    fn link(created: DateTime<Utc>) -> DeviceLink {
        DeviceLink {
            id: LinkId::new(),
            phone: phone(),
            code_hash: PairingCode::parse(CODE).unwrap().hash("pepper"),
            claim_hash: ClaimSecret::from_client(SECRET).hash(),
            device: "Firefox on Linux".into(),
            created_at: created,
            expires_at: created + Duration::minutes(2),
            confirmed: None,
            claimed_at: None,
        }
    }

    fn with_link(m: &mut MockSet, stored: DeviceLink) {
        let by_code = stored.clone();
        m.device_links
            .expect_find_by_code()
            .withf(|hash| *hash == PairingCode::parse(CODE).unwrap().hash("pepper"))
            .returning(move |_| Ok(Some(by_code.clone())));
        m.device_links.expect_get().returning(move |_| Ok(Some(stored.clone())));
    }

    fn with_caller_named(m: &mut MockSet, who: Caller, phone_number: &str) {
        let mut person = user(who.user_id, "Asha");
        person.phone = Phone::parse(phone_number, Region::default()).unwrap();
        m.users.expect_get().returning(move |_| Ok(Some(person.clone())));
    }

    #[test]
    fn codes_use_an_alphabet_without_look_alikes_and_read_back_as_typed() {
        let code = PairingCode::from_random([0, 31, 32, 255, 7, 8, 100, 200]);
        assert_eq!(code.reveal().len(), 8);
        assert!(code.reveal().bytes().all(|b| PairingCode::ALPHABET.contains(&b)));
        for confusing in [b'0', b'O', b'1', b'I'] {
            assert!(!PairingCode::ALPHABET.contains(&confusing));
        }
        assert_eq!(PairingCode::parse(" abcd-2345 ").unwrap(), PairingCode::parse("ABCD2345").unwrap());
        for bad in ["ABCD234", "ABCD23456", "ABCD2340", "ABCDO345", "ABCD 234I", "", "ÄBCD2345"] {
            assert_eq!(PairingCode::parse(bad).unwrap_err().code(), "invalid_pairing_code", "{bad}");
        }
        assert!(!format!("{:?}", PairingCode::parse(CODE).unwrap()).contains(CODE));
    }

    #[test]
    fn stored_hashes_reveal_neither_code_nor_secret() {
        let code = PairingCode::parse(CODE).unwrap();
        assert!(!code.hash("pepper").contains(CODE));
        assert_ne!(code.hash("pepper"), code.hash("other pepper"));
        let secret = ClaimSecret::from_random([7; 32]);
        assert_eq!(secret.reveal().len(), 43);
        assert!(secret.matches(&secret.hash()));
        assert!(!ClaimSecret::from_client("guess").matches(&secret.hash()));
    }

    #[tokio::test]
    async fn a_link_expires_in_two_minutes_and_is_stored_hashed() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        m.link_secrets.expect_pairing_code().returning(|| PairingCode::parse(CODE).unwrap());
        m.link_secrets.expect_claim_secret().returning(|| ClaimSecret::from_client(SECRET));
        m.device_links
            .expect_remove_expired()
            .withf(move |before| *before == now - Duration::hours(1))
            .times(1)
            .returning(|_| Ok(0));
        m.device_links
            .expect_insert()
            .withf(move |l| {
                l.phone.as_str() == "+919876543210"
                    && l.expires_at == now + Duration::minutes(2)
                    && !l.code_hash.contains(CODE)
                    && l.claim_hash != SECRET
                    && l.device == "Firefox on Linux"
                    && l.confirmed.is_none()
            })
            .times(1)
            .returning(|_| Ok(true));
        let created = service(m).create("98765 43210", "Firefox on Linux").await.unwrap();
        assert_eq!(created.pairing_code.reveal(), CODE);
        assert_eq!(created.claim_secret.reveal(), SECRET);
        assert_eq!(created.expires_at, now + Duration::minutes(2));
    }

    #[tokio::test]
    async fn a_code_already_taken_is_drawn_again() {
        let mut m = MockSet::new(Utc::now());
        let mut drawn = 0;
        m.link_secrets.expect_pairing_code().times(2).returning(move || {
            drawn += 1;
            PairingCode::parse(if drawn == 1 { "AAAA2222" } else { "BBBB3333" }).unwrap()
        });
        m.link_secrets.expect_claim_secret().returning(|| ClaimSecret::from_client(SECRET));
        m.device_links.expect_remove_expired().returning(|_| Ok(0));
        let taken = PairingCode::parse("AAAA2222").unwrap().hash("pepper");
        m.device_links.expect_insert().times(2).returning(move |l| Ok(l.code_hash != taken));
        let created = service(m).create("9876543210", "").await.unwrap();
        assert_eq!(created.pairing_code.reveal(), "BBBB3333");
    }

    #[tokio::test]
    async fn an_invalid_phone_gets_no_link() {
        let mut m = MockSet::new(Utc::now());
        m.device_links.expect_insert().never();
        assert_eq!(service(m).create("12", "x").await.unwrap_err().code(), "invalid_phone");
    }

    #[tokio::test]
    async fn the_same_person_confirms_and_the_new_device_gets_its_own_session() {
        let now = Utc::now();
        let me = caller();
        let mut m = MockSet::new(now + Duration::seconds(30));
        let stored = link(now);
        let id = stored.id;
        with_link(&mut m, stored);
        with_caller_named(&mut m, me, "+919876543210");
        m.device_links
            .expect_confirm()
            .withf(move |link, session, at| {
                *link == id
                    && session.user_id == me.user_id
                    && session.id != me.session_id
                    && session.device == "Firefox on Linux"
                    && session.expires_at == *at + Duration::hours(168)
            })
            .times(1)
            .returning(|_, _, _| Ok(true));
        let confirmed = service(m).confirm(me, "abcd-2345").await.unwrap();
        assert_eq!(confirmed.device, "Firefox on Linux");
        assert!(confirmed.session_id.is_some());
    }

    #[tokio::test]
    async fn another_person_cannot_confirm() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        with_link(&mut m, link(now));
        with_caller_named(&mut m, caller(), "+919876543299");
        m.device_links.expect_confirm().never();
        let err = service(m).confirm(caller(), CODE).await.unwrap_err();
        assert_eq!((err.kind().http_status(), err.code()), (403, ErrorCode::LinkWrongAccount));
    }

    #[tokio::test]
    async fn a_code_is_refused_once_two_minutes_have_passed() {
        let created = Utc::now();
        let mut m = MockSet::new(created + Duration::minutes(2));
        with_link(&mut m, link(created));
        with_caller_named(&mut m, caller(), "+919876543210");
        m.device_links.expect_confirm().never();
        let err = service(m).confirm(caller(), CODE).await.unwrap_err();
        assert_eq!((err.kind().http_status(), err.code()), (410, ErrorCode::LinkExpired));
    }

    #[tokio::test]
    async fn a_shorter_policy_expires_sooner() {
        let created = Utc::now();
        let mut m = MockSet::new(created + Duration::seconds(11));
        let mut short = link(created);
        short.expires_at = created + Duration::seconds(10);
        with_link(&mut m, short);
        m.link_secrets.expect_pairing_code().never();
        let policy = LinkPolicy { ttl: Duration::seconds(10), ..LinkPolicy::default() };
        let service = LinkService::new(&ports(m), &auth(), policy);
        assert_eq!(service.claim(&LinkId::new().to_string(), SECRET).await.unwrap_err().code(), "link_expired");
    }

    #[tokio::test]
    async fn a_confirmed_code_is_not_confirmed_again() {
        let now = Utc::now();
        let me = caller();
        let mut m = MockSet::new(now);
        let mut stored = link(now);
        stored.confirmed = Some(LinkConfirmation { user_id: me.user_id, session_id: SessionId::new(), at: now });
        with_link(&mut m, stored);
        with_caller_named(&mut m, me, "+919876543210");
        m.device_links.expect_confirm().never();
        let err = service(m).confirm(me, CODE).await.unwrap_err();
        assert_eq!((err.kind().http_status(), err.code()), (409, ErrorCode::LinkUsed));
    }

    #[tokio::test]
    async fn of_racing_confirmations_the_store_lets_one_through() {
        let now = Utc::now();
        let me = caller();
        let mut m = MockSet::new(now);
        with_link(&mut m, link(now));
        with_caller_named(&mut m, me, "+919876543210");
        // The check passed, but another confirmation was written first.
        m.device_links.expect_confirm().times(1).returning(|_, _, _| Ok(false));
        assert_eq!(service(m).confirm(me, CODE).await.unwrap_err().code(), "link_used");
    }

    #[tokio::test]
    async fn unknown_and_malformed_codes_are_refused_without_a_lookup_of_anyone() {
        let mut m = MockSet::new(Utc::now());
        m.device_links.expect_find_by_code().returning(|_| Ok(None));
        m.users.expect_get().never();
        let service = service(m);
        assert_eq!(service.confirm(caller(), "ZZZZ9999").await.unwrap_err().code(), "link_not_found");
        assert_eq!(service.lookup(caller(), "nope").await.unwrap_err().code(), "invalid_pairing_code");
    }

    #[tokio::test]
    async fn a_waiting_device_hears_pending_until_confirmed_then_expired() {
        let created = Utc::now();
        let mut m = MockSet::new(created + Duration::seconds(119));
        with_link(&mut m, link(created));
        let outcome = service(m).claim(&LinkId::new().to_string(), SECRET).await.unwrap();
        assert_eq!(outcome, ClaimOutcome::Pending);

        let mut m = MockSet::new(created + Duration::seconds(120));
        with_link(&mut m, link(created));
        assert_eq!(service(m).claim(&LinkId::new().to_string(), SECRET).await.unwrap_err().code(), "link_expired");
    }

    #[tokio::test]
    async fn only_the_holder_of_the_claim_secret_learns_anything() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        with_link(&mut m, link(now));
        m.device_links.expect_claim().never();
        let service = service(m);
        assert_eq!(service.claim(&LinkId::new().to_string(), "guess").await.unwrap_err().code(), "link_not_found");
        assert_eq!(service.claim("not-an-id", SECRET).await.unwrap_err().code(), "link_not_found");
    }

    fn confirmed_link(now: DateTime<Utc>, session: &Session) -> DeviceLink {
        let mut stored = link(now);
        stored.confirmed = Some(LinkConfirmation { user_id: session.user_id, session_id: session.id, at: now });
        stored
    }

    #[tokio::test]
    async fn a_confirmed_link_hands_out_its_session_once() {
        let now = Utc::now();
        let owner = UserId::new();
        let session = Session::open(owner, "Firefox on Linux", now, Duration::hours(168));
        let mut m = MockSet::new(now + Duration::seconds(1));
        with_link(&mut m, confirmed_link(now, &session));
        let (sid, expires) = (session.id, session.expires_at);
        m.sessions.expect_get().withf(move |id| *id == sid).returning(move |_| Ok(Some(session.clone())));
        m.device_links.expect_claim().times(1).returning(|_, _| Ok(true));
        m.users.expect_get().returning(move |id| Ok(Some(user(id, "Asha"))));
        m.tokens
            .expect_issue()
            .withf(move |c: &TokenClaims| c.session_id == sid && c.user_id == owner && c.expires_at == expires)
            .times(1)
            .returning(|_| Ok("linked-token".into()));
        let ClaimOutcome::LoggedIn(login) = service(m).claim(&LinkId::new().to_string(), SECRET).await.unwrap() else {
            panic!("not logged in");
        };
        assert_eq!((login.token.as_str(), login.user.id, login.expires_at), ("linked-token", owner, expires));
    }

    #[tokio::test]
    async fn a_claimed_link_is_gone_and_a_racing_claim_loses() {
        let now = Utc::now();
        let session = Session::open(UserId::new(), "d", now, Duration::hours(1));
        let mut m = MockSet::new(now);
        let mut claimed = confirmed_link(now, &session);
        claimed.claimed_at = Some(now);
        with_link(&mut m, claimed);
        m.tokens.expect_issue().never();
        let err = service(m).claim(&LinkId::new().to_string(), SECRET).await.unwrap_err();
        assert_eq!((err.kind().http_status(), err.code()), (410, ErrorCode::LinkUsed));

        let mut m = MockSet::new(now);
        with_link(&mut m, confirmed_link(now, &session));
        m.device_links.expect_claim().times(1).returning(|_, _| Ok(false));
        m.tokens.expect_issue().never();
        assert_eq!(service(m).claim(&LinkId::new().to_string(), SECRET).await.unwrap_err().code(), "link_used");
    }

    #[tokio::test]
    async fn a_confirmed_link_left_unclaimed_too_long_expires() {
        let now = Utc::now();
        let session = Session::open(UserId::new(), "d", now, Duration::hours(1));
        let mut m = MockSet::new(now + Duration::minutes(2));
        with_link(&mut m, confirmed_link(now, &session));
        m.device_links.expect_claim().never();
        assert_eq!(service(m).claim(&LinkId::new().to_string(), SECRET).await.unwrap_err().code(), "link_expired");
    }

    #[tokio::test]
    async fn a_session_revoked_before_its_claim_is_not_handed_out() {
        let now = Utc::now();
        let mut session = Session::open(UserId::new(), "d", now, Duration::hours(1));
        let mut m = MockSet::new(now);
        with_link(&mut m, confirmed_link(now, &session));
        session.revoked_at = Some(now);
        m.sessions.expect_get().returning(move |_| Ok(Some(session.clone())));
        m.device_links.expect_claim().returning(|_, _| Ok(true));
        m.tokens.expect_issue().never();
        assert_eq!(service(m).claim(&LinkId::new().to_string(), SECRET).await.unwrap_err().code(), "link_expired");
    }
}
