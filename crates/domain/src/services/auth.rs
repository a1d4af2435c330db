mod email;

use super::Ports;
use crate::auth::{otp::hashes_match, Caller, DeviceSession, LoginOutcome, OtpChallenge, OtpCode, Session};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::event::Delivery;
use crate::ids::SessionId;
use crate::ports::{
    CodeEmail, CodeGenerator, ContactRepo, EmailSender, EventBus, ModerationRepo, OtpRepo, OtpSender, PushRepo,
    SessionRepo, TokenCodec, UserEmailRepo, UserRepo,
};
use crate::user::{EmailAddress, Phone, Region, User, UserName};
use crate::ErrorCode;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// The knobs of login, from configuration.
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    pub region: Region,
    pub otp_ttl: Duration,
    pub otp_max_attempts: i32,
    pub token_ttl: Duration,
    /// Secret mixed into stored code hashes, so a leaked table reveals no codes.
    pub otp_pepper: String,
    /// How long a phone must wait before another code is sent: together with the
    /// five tries per code this bounds guessing to a few tries a minute.
    pub otp_resend_cooldown: Duration,
    /// How long a code the operator hands over (`chitchat admin login-code`) works:
    /// longer than a sent one, since a person passes it on.
    pub admin_code_ttl: Duration,
    /// How long the code that verifies an email address works.
    pub email_code_ttl: Duration,
    /// The server's admins (`ADMIN_PHONES`).
    pub admin_phones: Vec<Phone>,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        Self {
            region: Region::default(),
            otp_ttl: Duration::minutes(5),
            otp_max_attempts: 5,
            token_ttl: Duration::hours(168),
            otp_pepper: String::new(),
            otp_resend_cooldown: Duration::seconds(30),
            admin_code_ttl: Duration::minutes(15),
            email_code_ttl: Duration::minutes(15),
            admin_phones: Vec::new(),
        }
    }
}

/// Login by phone and one-time code; device sessions; who is calling.
pub struct AuthService {
    users: Arc<dyn UserRepo>,
    contacts: Arc<dyn ContactRepo>,
    otps: Arc<dyn OtpRepo>,
    sessions: Arc<dyn SessionRepo>,
    moderation: Arc<dyn ModerationRepo>,
    push: Arc<dyn PushRepo>,
    emails: Arc<dyn UserEmailRepo>,
    sender: Option<Arc<dyn OtpSender>>,
    mailer: Option<Arc<dyn EmailSender>>,
    codes: Arc<dyn CodeGenerator>,
    tokens: Arc<dyn TokenCodec>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    policy: AuthPolicy,
}

/// Where one login code goes, decided for the phone that asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChannels {
    /// By SMS (the webhook; the log in development).
    pub sms: bool,
    /// To this address: the phone's person's verified one, when the server sends email.
    pub email: Option<EmailAddress>,
}

/// A login code made for the operator to hand over.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub phone: Phone,
    pub code: OtpCode,
    pub expires_at: DateTime<Utc>,
}

/// A login attempt as the client sent it.
#[derive(Debug, Clone)]
pub struct LoginRequest<'a> {
    pub phone: &'a str,
    pub name: Option<&'a str>,
    pub code: &'a str,
    pub device: &'a str,
}

fn wrong_code() -> DomainError {
    DomainError::unauthorized(ErrorCode::InvalidCode, "the code is wrong; check it and try again")
}

fn too_many_attempts() -> DomainError {
    DomainError::too_many(ErrorCode::TooManyAttempts, "too many wrong codes; request a new code")
}

impl AuthService {
    pub fn new(ports: &Ports, policy: AuthPolicy) -> Self {
        Self {
            users: ports.users.clone(),
            contacts: ports.contacts.clone(),
            otps: ports.otps.clone(),
            sessions: ports.sessions.clone(),
            moderation: ports.moderation.clone(),
            push: ports.push.clone(),
            emails: ports.emails.clone(),
            sender: ports.otp_sender.clone(),
            mailer: ports.email_sender.clone(),
            codes: ports.codes.clone(),
            tokens: ports.tokens.clone(),
            bus: ports.bus.clone(),
            clock: ports.clock.clone(),
            policy,
        }
    }

    pub fn region(&self) -> Region {
        self.policy.region
    }

    /// Whether codes may go by email: people may then give an address.
    pub fn sends_email(&self) -> bool {
        self.mailer.is_some()
    }

    /// Where a code for this phone goes: by SMS when the server has a way to send
    /// them, and by email when it sends email and the phone's person verified an
    /// address. None when neither way is on: codes then come only from the operator.
    pub async fn channels(&self, phone: &Phone) -> DomainResult<Option<CodeChannels>> {
        if self.sender.is_none() && self.mailer.is_none() {
            return Ok(None);
        }
        let email = match &self.mailer {
            Some(_) => self.emails.verified_email_of_phone(phone).await?,
            None => None,
        };
        Ok(Some(CodeChannels { sms: self.sender.is_some(), email }))
    }

    /// Sends a fresh code to the phone by every way `channels` chooses and returns
    /// when it expires. The answer is the same whether or not the phone belongs to a
    /// user, and whether or not they have an email address: a code is stored (and
    /// the cooldown applies) even when no way reaches them. When codes come only from
    /// the operator, nothing is stored, so that no request replaces a code they made.
    pub async fn request_code(&self, raw_phone: &str) -> DomainResult<DateTime<Utc>> {
        let phone = Phone::parse(raw_phone, self.policy.region)?;
        let now = self.clock.now();
        let Some(channels) = self.channels(&phone).await? else {
            return Ok(now + self.policy.otp_ttl);
        };
        let code = self.codes.generate();
        let challenge = self.challenge(&phone, &code, now, self.policy.otp_ttl);
        // The cooldown is checked by the write itself: of concurrent requests, on
        // any instance, only the one that stored its challenge sends a code.
        let cutoff = now - self.policy.otp_resend_cooldown;
        if !self.otps.put_unless_recent(&challenge, cutoff).await? {
            let previous = self.otps.get(&phone).await?.map(|p| p.created_at).unwrap_or(now);
            let wait = previous + self.policy.otp_resend_cooldown - now;
            return Err(DomainError::too_many(
                ErrorCode::CodeRecentlySent,
                format!("a code was just sent; ask again in {} s", wait.num_seconds().max(1)),
            ));
        }
        if let (Some(address), Some(mailer)) = (&channels.email, &self.mailer) {
            // A mail that cannot be sent is logged, not answered: the answer must not
            // tell who has an address.
            if let Err(error) = mailer.send(address, &CodeEmail::Login(code.clone())).await {
                tracing::error!(%error, "could not send a login code by email");
            }
        }
        if let (true, Some(sender)) = (channels.sms, &self.sender) {
            sender.send(&phone, &code).await?;
        }
        Ok(challenge.expires_at)
    }

    /// A code for the operator to hand over (`chitchat admin login-code`): stored
    /// hashed like any code, for `admin_code_ttl`, used once, with the usual limit of
    /// tries, replacing the phone's pending code. It logs in a phone that has no
    /// account yet too (the account is made at login, as always). Sent nowhere.
    pub async fn admin_login_code(&self, raw_phone: &str) -> DomainResult<IssuedCode> {
        let phone = Phone::parse(raw_phone, self.policy.region)?;
        let now = self.clock.now();
        let code = self.codes.generate();
        let challenge = self.challenge(&phone, &code, now, self.policy.admin_code_ttl);
        // The operator's code replaces any pending one, however recent (a cutoff in
        // the future allows for the clocks of other instances).
        if !self.otps.put_unless_recent(&challenge, now + Duration::days(1)).await? {
            return Err(DomainError::unavailable("the login code could not be stored"));
        }
        Ok(IssuedCode { phone, code, expires_at: challenge.expires_at })
    }

    /// The stored side of a fresh `code` for `phone`: its keyed hash, valid for `ttl`.
    fn challenge(&self, phone: &Phone, code: &OtpCode, now: DateTime<Utc>, ttl: Duration) -> OtpChallenge {
        OtpChallenge {
            code_hash: code.hash(phone, &self.policy.otp_pepper),
            phone: phone.clone(),
            expires_at: now + ttl,
            attempts: 0,
            created_at: now,
        }
    }

    /// Checks the code and logs the phone's user in on a new device session,
    /// creating the user on first login.
    pub async fn login(&self, request: LoginRequest<'_>) -> DomainResult<LoginOutcome> {
        let phone = Phone::parse(request.phone, self.policy.region)?;
        let code = OtpCode::parse(request.code)?;
        let now = self.clock.now();
        let max_attempts = self.policy.otp_max_attempts;
        // The try is counted before the code is compared, so that concurrent tries
        // cannot compare more codes than the limit allows.
        let Some(challenge) = self.otps.reserve_attempt(&phone, max_attempts).await? else {
            return Err(match self.otps.get(&phone).await? {
                Some(_) => too_many_attempts(),
                None => wrong_code(),
            });
        };
        if now >= challenge.expires_at {
            return Err(DomainError::unauthorized(ErrorCode::CodeExpired, "the code has expired; request a new code"));
        }
        let hash = code.hash(&phone, &self.policy.otp_pepper);
        if !hashes_match(&hash, &challenge.code_hash) {
            return Err(wrong_code());
        }
        // Single use: of two logins racing with one code, only one consumes it.
        if !self.otps.consume(&phone, &hash, max_attempts).await? {
            return Err(wrong_code());
        }
        let name = match request.name {
            Some(raw) if !raw.trim().is_empty() => UserName::parse(raw)?,
            // Returning users may log in without a name; new ones get their number until they set one.
            _ => UserName::parse(phone.as_str())?,
        };
        let user = self.users.insert_or_get_by_phone(&User::new(phone, name, now)).await?;
        if user.disabled_at.is_some() {
            return Err(account_disabled());
        }
        // Numbers saved before their person registered become contacts now. At every
        // login, not only the first: a save racing the registration is caught up next time.
        self.contacts.claim_pending(&user.phone, user.id).await?;
        let session = Session::open(user.id, request.device, now, self.policy.token_ttl);
        self.sessions.create(&session).await?;
        let token = self.tokens.issue(&session.claims())?;
        Ok(LoginOutcome { token, user, expires_at: session.expires_at })
    }

    /// Who holds this token: it must be genuine, unexpired, and its device session not revoked.
    pub async fn authenticate(&self, token: &str) -> DomainResult<Caller> {
        self.authenticate_until(token).await.map(|(caller, _)| caller)
    }

    /// `authenticate`, and when the session expires: a socket that outlives it is closed then.
    pub async fn authenticate_until(&self, token: &str) -> DomainResult<(Caller, DateTime<Utc>)> {
        let claims = self.tokens.verify(token)?;
        // With the user's state: a session made by a login that raced the account's
        // disabling is refused too.
        let session = self.moderation.session_with_owner_state(claims.session_id).await?;
        match session {
            Some((s, false)) if s.user_id == claims.user_id && s.is_active(self.clock.now()) => {
                Ok((Caller { user_id: s.user_id, session_id: s.id }, s.expires_at))
            }
            _ => Err(DomainError::unauthorized(ErrorCode::InvalidToken, "the session has ended; log in again")),
        }
    }

    /// Whether the caller's session still holds (not revoked or expired, its user
    /// not disabled), for sockets that no event can reach. A failed read answers
    /// true: a database hiccup must not log everyone out.
    pub async fn still_signed_in(&self, caller: Caller) -> bool {
        match self.moderation.session_with_owner_state(caller.session_id).await {
            Ok(Some((s, false))) => s.user_id == caller.user_id && s.is_active(self.clock.now()),
            Ok(_) => false,
            Err(error) => {
                tracing::warn!(%error, session = %caller.session_id, "could not check the session; kept");
                true
            }
        }
    }

    /// The user a token names, if its signature and expiry are good; no lookup of
    /// the session (for cheap per-user accounting such as rate limits).
    pub fn token_subject(&self, token: &str) -> Option<crate::ids::UserId> {
        self.tokens.verify(token).ok().map(|claims| claims.user_id)
    }

    /// Ends the caller's device session; its token stops working and its socket closes at once.
    pub async fn logout(&self, caller: Caller) -> DomainResult<()> {
        self.end_session(caller, caller.session_id).await
    }

    /// The caller's devices that are logged in.
    pub async fn devices(&self, caller: Caller) -> DomainResult<Vec<DeviceSession>> {
        let sessions = self.sessions.list_active(caller.user_id, self.clock.now()).await?;
        Ok(sessions
            .into_iter()
            .map(|s| DeviceSession {
                current: s.id == caller.session_id,
                id: s.id,
                device: s.device,
                created_at: s.created_at,
                expires_at: s.expires_at,
            })
            .collect())
    }

    /// Logs one of the caller's devices out: its token stops working and its socket
    /// closes at once. Another user's session is "not found".
    pub async fn revoke_device(&self, caller: Caller, session_id: SessionId) -> DomainResult<()> {
        match self.sessions.get(session_id).await? {
            Some(s) if s.user_id == caller.user_id && s.is_active(self.clock.now()) => {
                self.end_session(caller, session_id).await
            }
            _ => Err(DomainError::not_found(ErrorCode::SessionNotFound, "no such device session")),
        }
    }

    async fn end_session(&self, caller: Caller, session_id: SessionId) -> DomainResult<()> {
        self.end_session_of(caller.user_id, session_id).await
    }

    /// Ends one session of `user`: its token stops working, its pushes stop, and its
    /// sockets close at once on every instance.
    pub(crate) async fn end_session_of(&self, user: crate::ids::UserId, session_id: SessionId) -> DomainResult<()> {
        self.sessions.revoke(session_id, self.clock.now()).await?;
        // A logged-out device is pushed nothing more.
        self.push.delete_subscriptions(session_id, None).await?;
        if let Err(error) = self.bus.publish(&[user], Delivery::SessionRevoked { session_id }).await {
            // The token is already refused; a socket elsewhere closes at its next check.
            tracing::warn!(%error, session = %session_id, "could not notify the revoked device");
        }
        Ok(())
    }

    /// The caller's own profile.
    pub async fn me(&self, caller: Caller) -> DomainResult<User> {
        self.users
            .get(caller.user_id)
            .await?
            .ok_or_else(|| DomainError::unauthorized(ErrorCode::InvalidToken, "the account no longer exists"))
    }

    /// Whether the user is one of the server's admins (`ADMIN_PHONES`).
    pub fn is_admin(&self, user: &User) -> bool {
        crate::moderation::is_admin(user, &self.policy.admin_phones)
    }
}

fn account_disabled() -> DomainError {
    DomainError::forbidden(ErrorCode::AccountDisabled, "this account is disabled")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenClaims;
    use crate::services::test_support::{ports, MockSet};

    fn policy() -> AuthPolicy {
        AuthPolicy { otp_pepper: "pepper".into(), ..AuthPolicy::default() }
    }

    fn challenge(code: &str, now: DateTime<Utc>, attempts: i32) -> OtpChallenge {
        let phone = Phone::parse("+919876543210", Region::default()).unwrap();
        OtpChallenge {
            code_hash: OtpCode::parse(code).unwrap().hash(&phone, "pepper"),
            phone,
            expires_at: now + Duration::minutes(5),
            attempts,
            created_at: now,
        }
    }

    fn login<'a>(code: &'a str) -> LoginRequest<'a> {
        LoginRequest { phone: "9876543210", name: Some("Asha"), code, device: "test" }
    }

    #[tokio::test]
    async fn a_code_is_stored_hashed_and_sent_to_the_normalised_phone() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        m.codes.expect_generate().returning(|| OtpCode::parse("424242").unwrap());
        m.otps.expect_get().never();
        m.otps
            .expect_put_unless_recent()
            .withf(move |c, cutoff| {
                c.phone.as_str() == "+919876543210"
                    && !c.code_hash.contains("424242")
                    && c.expires_at == now + Duration::minutes(5)
                    && c.attempts == 0
                    && *cutoff == now - Duration::seconds(30)
            })
            .times(1)
            .returning(|_, _| Ok(true));
        m.sender
            .expect_send()
            .withf(|p, c| p.as_str() == "+919876543210" && c.reveal() == "424242")
            .times(1)
            .returning(|_, _| Ok(()));
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.request_code("98765 43210").await.unwrap(), now + Duration::minutes(5));
    }

    #[tokio::test]
    async fn a_new_code_waits_for_the_cooldown() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let recent = challenge("123456", now - Duration::seconds(10), 0);
        m.codes.expect_generate().returning(|| OtpCode::parse("424242").unwrap());
        // The store refuses the write: a code younger than the cooldown is pending.
        m.otps.expect_put_unless_recent().times(1).returning(|_, _| Ok(false));
        m.otps.expect_get().returning(move |_| Ok(Some(recent.clone())));
        m.sender.expect_send().never();
        let service = AuthService::new(&ports(m), policy());
        let err = service.request_code("9876543210").await.unwrap_err();
        assert_eq!(err.code(), "code_recently_sent");
        assert!(err.to_string().contains("20 s"), "{err}");
    }

    #[tokio::test]
    async fn an_invalid_phone_gets_no_code() {
        let service = AuthService::new(&ports(MockSet::new(Utc::now())), policy());
        assert_eq!(service.request_code("12").await.unwrap_err().code(), "invalid_phone");
    }

    /// Mocks where a request for +919876543210 stores its challenge and codes are 424242.
    fn storing(now: DateTime<Utc>) -> MockSet {
        let mut m = MockSet::new(now);
        m.codes.expect_generate().returning(|| OtpCode::parse("424242").unwrap());
        m.otps.expect_put_unless_recent().times(1).returning(|_, _| Ok(true));
        m
    }

    fn mailer_expecting(times: usize) -> crate::ports::MockEmailSender {
        let mut mailer = crate::ports::MockEmailSender::new();
        mailer
            .expect_send()
            .withf(|to, mail| {
                to.as_str() == "asha@example.org" && *mail == CodeEmail::Login(OtpCode::parse("424242").unwrap())
            })
            .times(times)
            .returning(|_, _| Ok(()));
        mailer
    }

    #[tokio::test]
    async fn a_code_goes_by_sms_and_to_a_verified_address() {
        let now = Utc::now();
        let mut m = storing(now);
        m.emails
            .expect_verified_email_of_phone()
            .withf(|p| p.as_str() == "+919876543210")
            .returning(|_| Ok(Some(EmailAddress::parse("asha@example.org").unwrap())));
        m.sender.expect_send().times(1).returning(|_, _| Ok(()));
        m.mailer = Some(mailer_expecting(1));
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.request_code("9876543210").await.unwrap(), now + Duration::minutes(5));
    }

    #[tokio::test]
    async fn without_a_verified_address_email_only_sends_nothing_but_answers_the_same() {
        let now = Utc::now();
        let mut m = storing(now);
        // The repository returns only verified addresses: an unverified one is None.
        m.emails.expect_verified_email_of_phone().returning(|_| Ok(None));
        m.mailer = Some(mailer_expecting(0));
        let mut p = ports(m);
        p.otp_sender = None;
        let service = AuthService::new(&p, policy());
        assert_eq!(service.request_code("9876543210").await.unwrap(), now + Duration::minutes(5));
    }

    #[tokio::test]
    async fn a_mail_that_fails_is_logged_not_answered() {
        let now = Utc::now();
        let mut m = storing(now);
        m.emails
            .expect_verified_email_of_phone()
            .returning(|_| Ok(Some(EmailAddress::parse("asha@example.org").unwrap())));
        let mut mailer = crate::ports::MockEmailSender::new();
        mailer.expect_send().times(1).returning(|_, _| Err(DomainError::unavailable("smtp down")));
        m.mailer = Some(mailer);
        let mut p = ports(m);
        p.otp_sender = None;
        let service = AuthService::new(&p, policy());
        assert!(service.request_code("9876543210").await.is_ok());
    }

    #[tokio::test]
    async fn with_sms_only_no_address_is_looked_up() {
        let now = Utc::now();
        let mut m = storing(now);
        m.emails.expect_verified_email_of_phone().never();
        m.sender.expect_send().times(1).returning(|_, _| Ok(()));
        let service = AuthService::new(&ports(m), policy());
        let channels = service.channels(&Phone::parse("+919876543210", Region::default()).unwrap()).await.unwrap();
        assert_eq!(channels, Some(CodeChannels { sms: true, email: None }));
        service.request_code("9876543210").await.unwrap();
    }

    #[tokio::test]
    async fn when_codes_come_from_the_operator_a_request_stores_and_sends_nothing() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        m.otps.expect_put_unless_recent().never();
        m.emails.expect_verified_email_of_phone().never();
        let mut p = ports(m);
        p.otp_sender = None;
        let service = AuthService::new(&p, policy());
        // The same answer as when a code is sent.
        assert_eq!(service.request_code("9876543210").await.unwrap(), now + Duration::minutes(5));
        assert_eq!(service.request_code("12").await.unwrap_err().code(), "invalid_phone");
    }

    #[tokio::test]
    async fn an_admin_code_lasts_fifteen_minutes_replaces_any_code_and_is_sent_nowhere() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        m.codes.expect_generate().returning(|| OtpCode::parse("424242").unwrap());
        m.otps
            .expect_put_unless_recent()
            .withf(move |c, cutoff| {
                c.phone.as_str() == "+919876543210"
                    && c.code_hash == OtpCode::parse("424242").unwrap().hash(&c.phone, "pepper")
                    && c.expires_at == now + Duration::minutes(15)
                    && c.attempts == 0
                    && *cutoff > now
            })
            .times(1)
            .returning(|_, _| Ok(true));
        m.sender.expect_send().never();
        let service = AuthService::new(&ports(m), policy());
        let issued = service.admin_login_code("98765 43210").await.unwrap();
        assert_eq!((issued.code.reveal(), issued.expires_at), ("424242", now + Duration::minutes(15)));
        assert_eq!(issued.phone.as_str(), "+919876543210");
        assert_eq!(service.admin_login_code("12").await.unwrap_err().code(), "invalid_phone");
    }

    #[tokio::test]
    async fn the_right_code_creates_a_session_and_a_token() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let c = challenge("123456", now, 1);
        m.otps.expect_reserve_attempt().withf(|_, max| *max == 5).times(1).returning(move |_, _| Ok(Some(c.clone())));
        m.otps.expect_consume().withf(|_, _, max| *max == 5).times(1).returning(|_, _, _| Ok(true));
        m.users.expect_insert_or_get_by_phone().returning(|u| Ok(u.clone()));
        // Numbers others saved before this person registered become their contacts.
        m.contacts
            .expect_claim_pending()
            .withf(|phone, _| phone.as_str() == "+919876543210")
            .times(1)
            .returning(|_, _| Ok(()));
        m.sessions.expect_create().times(1).returning(|_| Ok(()));
        m.tokens.expect_issue().returning(|_| Ok("tok".into()));
        let service = AuthService::new(&ports(m), policy());
        let outcome = service.login(login("123456")).await.unwrap();
        assert_eq!(outcome.token, "tok");
        assert_eq!(outcome.user.name, "Asha");
        assert_eq!(outcome.expires_at, now + Duration::hours(168));
    }

    #[tokio::test]
    async fn a_wrong_code_counts_a_try_and_is_refused() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let c = challenge("123456", now, 3);
        // The try is counted (reserved) before the code is compared.
        m.otps.expect_reserve_attempt().withf(|_, max| *max == 5).times(1).returning(move |_, _| Ok(Some(c.clone())));
        m.otps.expect_consume().never();
        let service = AuthService::new(&ports(m), policy());
        let err = service.login(login("654321")).await.unwrap_err();
        assert!(matches!(err, DomainError::Unauthorized { code: ErrorCode::InvalidCode, .. }));
    }

    #[tokio::test]
    async fn after_five_wrong_tries_even_the_right_code_is_refused() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let c = challenge("123456", now, 5);
        // No try is left to reserve: the code is not even compared.
        m.otps.expect_reserve_attempt().times(1).returning(|_, _| Ok(None));
        m.otps.expect_get().returning(move |_| Ok(Some(c.clone())));
        m.otps.expect_consume().never();
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.login(login("123456")).await.unwrap_err().code(), "too_many_attempts");
    }

    #[tokio::test]
    async fn a_code_never_requested_is_wrong() {
        let mut m = MockSet::new(Utc::now());
        m.otps.expect_reserve_attempt().returning(|_, _| Ok(None));
        m.otps.expect_get().returning(|_| Ok(None));
        m.otps.expect_consume().never();
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.login(login("123456")).await.unwrap_err().code(), "invalid_code");
    }

    #[tokio::test]
    async fn an_expired_code_is_refused() {
        let issued = Utc::now();
        let mut m = MockSet::new(issued + Duration::minutes(5));
        let c = challenge("123456", issued, 1);
        m.otps.expect_reserve_attempt().returning(move |_, _| Ok(Some(c.clone())));
        m.otps.expect_consume().never();
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.login(login("123456")).await.unwrap_err().code(), "code_expired");
    }

    #[tokio::test]
    async fn a_code_already_used_is_refused() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let c = challenge("123456", now, 1);
        m.otps.expect_reserve_attempt().returning(move |_, _| Ok(Some(c.clone())));
        m.otps.expect_consume().returning(|_, _, _| Ok(false));
        m.sessions.expect_create().never();
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.login(login("123456")).await.unwrap_err().code(), "invalid_code");
    }

    #[tokio::test]
    async fn a_revoked_session_no_longer_authenticates() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let user_id = crate::ids::UserId::new();
        let session_id = SessionId::new();
        m.tokens
            .expect_verify()
            .returning(move |_| Ok(TokenClaims { user_id, session_id, expires_at: now + Duration::hours(1) }));
        m.moderation.expect_session_with_owner_state().returning(move |_| {
            Ok(Some((
                Session {
                    id: session_id,
                    user_id,
                    device: "d".into(),
                    created_at: now,
                    expires_at: now + Duration::hours(1),
                    revoked_at: Some(now),
                },
                false,
            )))
        });
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.authenticate("t").await.unwrap_err().code(), "invalid_token");
    }

    fn live_session(m: &mut MockSet, now: DateTime<Utc>, disabled: bool) {
        let user_id = crate::ids::UserId::new();
        let session_id = SessionId::new();
        m.tokens
            .expect_verify()
            .returning(move |_| Ok(TokenClaims { user_id, session_id, expires_at: now + Duration::hours(1) }));
        m.moderation.expect_session_with_owner_state().returning(move |_| {
            let session = Session {
                id: session_id,
                user_id,
                device: "d".into(),
                created_at: now,
                expires_at: now + Duration::hours(1),
                revoked_at: None,
            };
            Ok(Some((session, disabled)))
        });
    }

    #[tokio::test]
    async fn a_disabled_users_live_session_no_longer_authenticates() {
        let now = Utc::now();
        let mut enabled = MockSet::new(now);
        live_session(&mut enabled, now, false);
        assert!(AuthService::new(&ports(enabled), policy()).authenticate("t").await.is_ok());
        let mut disabled = MockSet::new(now);
        live_session(&mut disabled, now, true);
        let err = AuthService::new(&ports(disabled), policy()).authenticate("t").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidToken);
    }

    #[tokio::test]
    async fn a_socket_asks_whether_its_session_still_holds() {
        let now = Utc::now();
        let caller = Caller { user_id: crate::ids::UserId::new(), session_id: SessionId::new() };
        let session = Session {
            id: caller.session_id,
            user_id: caller.user_id,
            device: "d".into(),
            created_at: now,
            expires_at: now + Duration::hours(1),
            revoked_at: None,
        };
        for (answer, holds) in [
            (Ok(Some((session.clone(), false))), true),
            (Ok(Some((session.clone(), true))), false),
            (Ok(Some((Session { revoked_at: Some(now), ..session.clone() }, false))), false),
            (Ok(None), false),
            (Err(DomainError::unavailable("db down")), true),
        ] {
            let mut m = MockSet::new(now);
            let answer = std::sync::Mutex::new(Some(answer));
            m.moderation.expect_session_with_owner_state().returning(move |_| answer.lock().unwrap().take().unwrap());
            let service = AuthService::new(&ports(m), policy());
            assert_eq!(service.still_signed_in(caller).await, holds);
        }
    }

    #[tokio::test]
    async fn a_disabled_user_cannot_log_in_even_with_the_right_code() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let c = challenge("123456", now, 1);
        m.otps.expect_reserve_attempt().returning(move |_, _| Ok(Some(c.clone())));
        m.otps.expect_consume().returning(|_, _, _| Ok(true));
        m.users.expect_insert_or_get_by_phone().returning(move |u| Ok(User { disabled_at: Some(now), ..u.clone() }));
        m.sessions.expect_create().never();
        m.tokens.expect_issue().never();
        let service = AuthService::new(&ports(m), policy());
        let err = service.login(login("123456")).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccountDisabled);
        assert_eq!(err.kind().http_status(), 403);
    }
}

#[cfg(test)]
mod device_tests {
    use super::*;
    use crate::ids::UserId;
    use crate::services::test_support::{ports, MockSet};

    fn session(id: SessionId, user_id: UserId, now: DateTime<Utc>) -> Session {
        Session {
            id,
            user_id,
            device: "phone".into(),
            created_at: now,
            expires_at: now + Duration::hours(1),
            revoked_at: None,
        }
    }

    #[tokio::test]
    async fn revoking_an_own_device_ends_it_and_tells_its_socket() {
        let now = Utc::now();
        let caller = Caller { user_id: UserId::new(), session_id: SessionId::new() };
        let other_device = SessionId::new();
        let mut m = MockSet::new(now);
        let owner = caller.user_id;
        m.sessions.expect_get().returning(move |id| Ok(Some(session(id, owner, now))));
        m.sessions.expect_revoke().withf(move |id, _| *id == other_device).times(1).returning(|_, _| Ok(()));
        m.bus
            .expect_publish()
            .withf(move |to, d| to == [owner].as_slice() && *d == Delivery::SessionRevoked { session_id: other_device })
            .times(1)
            .returning(|_, _| Ok(()));
        let service = AuthService::new(&ports(m), AuthPolicy::default());
        service.revoke_device(caller, other_device).await.unwrap();
    }

    #[tokio::test]
    async fn another_users_device_cannot_be_revoked() {
        let now = Utc::now();
        let caller = Caller { user_id: UserId::new(), session_id: SessionId::new() };
        let mut m = MockSet::new(now);
        m.sessions.expect_get().returning(move |id| Ok(Some(session(id, UserId::new(), now))));
        m.sessions.expect_revoke().never();
        m.bus.expect_publish().never();
        let service = AuthService::new(&ports(m), AuthPolicy::default());
        assert_eq!(service.revoke_device(caller, SessionId::new()).await.unwrap_err().code(), "session_not_found");
    }

    #[tokio::test]
    async fn the_device_list_marks_the_current_one() {
        let now = Utc::now();
        let caller = Caller { user_id: UserId::new(), session_id: SessionId::new() };
        let mut m = MockSet::new(now);
        let (owner, current) = (caller.user_id, caller.session_id);
        m.sessions
            .expect_list_active()
            .returning(move |_, _| Ok(vec![session(current, owner, now), session(SessionId::new(), owner, now)]));
        let service = AuthService::new(&ports(m), AuthPolicy::default());
        let devices = service.devices(caller).await.unwrap();
        assert_eq!(devices.iter().map(|d| d.current).collect::<Vec<_>>(), vec![true, false]);
    }
}
