//! A person's email address: given, proved theirs by a mailed code, removed. Only
//! a verified address receives login codes (see `AuthService::channels`).

use super::{too_many_attempts, AuthService};
use crate::auth::otp::hashes_match;
use crate::auth::{Caller, OtpCode};
use crate::error::{DomainError, DomainResult};
use crate::ports::CodeEmail;
use crate::user::{EmailAddress, Phone, UserEmail};
use crate::ErrorCode;

fn wrong_email_code() -> DomainError {
    DomainError::invalid(ErrorCode::InvalidCode, "the code is wrong; check the latest mail and try again")
}

fn nothing_pending() -> DomainError {
    DomainError::conflict(ErrorCode::EmailNotPending, "no email address waits for verification")
}

impl AuthService {
    /// The caller's address, verified or not.
    pub async fn email(&self, caller: Caller) -> DomainResult<Option<UserEmail>> {
        self.emails.email_of(caller.user_id).await
    }

    /// Gives the caller's address (replacing theirs) and mails it a code that proves
    /// it theirs; until then it receives no login code. Giving the verified address
    /// again changes nothing and sends nothing.
    pub async fn set_email(&self, caller: Caller, raw: &str) -> DomainResult<UserEmail> {
        let Some(mailer) = &self.mailer else {
            return Err(DomainError::forbidden(ErrorCode::EmailUnavailable, "this server sends no email"));
        };
        let address = EmailAddress::parse(raw)?;
        let user = self.me(caller).await?;
        let now = self.clock.now();
        if let Some(current) = self.emails.email_of(user.id).await? {
            if current.is_verified() && current.address == address {
                return Ok(current);
            }
            let wait = current.created_at + self.policy.otp_resend_cooldown - now;
            if current.code_hash.is_some() && wait > chrono::Duration::zero() {
                return Err(DomainError::too_many(
                    ErrorCode::CodeRecentlySent,
                    format!("a code was just sent; ask again in {} s", wait.num_seconds().max(1)),
                ));
            }
        }
        let code = self.codes.generate();
        let email = UserEmail {
            user_id: user.id,
            code_hash: Some(self.email_code_hash(&code, &user.phone, &address)),
            address,
            verified_at: None,
            code_expires_at: Some(now + self.policy.email_code_ttl),
            attempts: 0,
            created_at: now,
        };
        self.emails.put_email(&email).await?;
        mailer.send(&email.address, &CodeEmail::VerifyAddress(code)).await?;
        Ok(email)
    }

    /// Checks the code mailed to the caller's address and marks the address verified.
    pub async fn verify_email(&self, caller: Caller, raw_code: &str) -> DomainResult<UserEmail> {
        let code = OtpCode::parse(raw_code)?;
        let user = self.me(caller).await?;
        let now = self.clock.now();
        let max_attempts = self.policy.otp_max_attempts;
        // Counted before compared, as login codes are.
        let Some(pending) = self.emails.reserve_email_attempt(user.id, max_attempts).await? else {
            return Err(match self.emails.email_of(user.id).await? {
                Some(email) if email.code_hash.is_some() => too_many_attempts(),
                _ => nothing_pending(),
            });
        };
        if pending.code_expires_at.is_none_or(|expires_at| now >= expires_at) {
            return Err(DomainError::invalid(
                ErrorCode::CodeExpired,
                "the code has expired; give the address again for a new one",
            ));
        }
        let hash = self.email_code_hash(&code, &user.phone, &pending.address);
        if !pending.code_hash.as_deref().is_some_and(|stored| hashes_match(stored, &hash)) {
            return Err(wrong_email_code());
        }
        if !self.emails.confirm_email(user.id, &hash, max_attempts, now).await? {
            return Err(wrong_email_code());
        }
        Ok(UserEmail { verified_at: Some(now), code_hash: None, code_expires_at: None, ..pending })
    }

    /// Forgets the caller's address; login codes stop going there at once.
    pub async fn remove_email(&self, caller: Caller) -> DomainResult<()> {
        self.emails.delete_email(caller.user_id).await?;
        Ok(())
    }

    /// A verification code's stored form: bound to the address as well as the
    /// phone, so that it proves exactly the address it was mailed to, and apart
    /// from login codes, so that neither kind can stand for the other.
    fn email_code_hash(&self, code: &OtpCode, phone: &Phone, address: &EmailAddress) -> String {
        code.hash(phone, &format!("{}\0email\0{}", self.policy.otp_pepper, address.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::ports::{MockCodeGenerator, MockEmailSender};
    use crate::services::test_support::{caller, ports, user, MockSet};
    use crate::services::AuthPolicy;
    use chrono::{DateTime, Duration, Utc};

    fn policy() -> AuthPolicy {
        AuthPolicy { otp_pepper: "pepper".into(), ..AuthPolicy::default() }
    }

    /// Mocks where the caller exists and codes are always 424242.
    fn mocks(now: DateTime<Utc>, who: Caller) -> MockSet {
        let mut m = MockSet::new(now);
        let id = who.user_id;
        m.users.expect_get().returning(move |_| Ok(Some(user(id, "Asha"))));
        let mut codes = MockCodeGenerator::new();
        codes.expect_generate().returning(|| OtpCode::parse("424242").unwrap());
        m.codes = codes;
        m
    }

    fn pending(service: &AuthService, who: UserId, now: DateTime<Utc>, code: &str, attempts: i32) -> UserEmail {
        let address = EmailAddress::parse("asha@example.org").unwrap();
        let phone = Phone::parse("+919876543210", crate::user::Region::default()).unwrap();
        UserEmail {
            user_id: who,
            code_hash: Some(service.email_code_hash(&OtpCode::parse(code).unwrap(), &phone, &address)),
            address,
            verified_at: None,
            code_expires_at: Some(now + Duration::minutes(15)),
            attempts,
            created_at: now,
        }
    }

    #[tokio::test]
    async fn a_new_address_is_stored_unverified_and_mailed_a_code() {
        let (now, who) = (Utc::now(), caller());
        let mut m = mocks(now, who);
        m.emails.expect_email_of().returning(|_| Ok(None));
        m.emails
            .expect_put_email()
            .withf(move |e| {
                e.address.as_str() == "asha@example.org"
                    && e.verified_at.is_none()
                    && e.code_hash.as_deref().is_some_and(|h| !h.contains("424242"))
                    && e.code_expires_at == Some(now + Duration::minutes(15))
            })
            .times(1)
            .returning(|_| Ok(()));
        let mut mailer = MockEmailSender::new();
        mailer
            .expect_send()
            .withf(|to, mail| {
                to.as_str() == "asha@example.org"
                    && *mail == CodeEmail::VerifyAddress(OtpCode::parse("424242").unwrap())
            })
            .times(1)
            .returning(|_, _| Ok(()));
        m.mailer = Some(mailer);
        let service = AuthService::new(&ports(m), policy());
        let email = service.set_email(who, " asha@example.org ").await.unwrap();
        assert!(!email.is_verified());
    }

    #[tokio::test]
    async fn without_a_mail_server_no_address_is_taken() {
        let (now, who) = (Utc::now(), caller());
        let mut m = mocks(now, who);
        m.emails.expect_put_email().never();
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.set_email(who, "asha@example.org").await.unwrap_err().code(), "email_unavailable");
    }

    #[tokio::test]
    async fn a_bad_address_is_refused_before_anything_is_stored() {
        let (now, who) = (Utc::now(), caller());
        let mut m = mocks(now, who);
        m.emails.expect_put_email().never();
        m.mailer = Some(MockEmailSender::new());
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.set_email(who, "asha@").await.unwrap_err().code(), "invalid_email");
    }

    #[tokio::test]
    async fn the_mailed_code_verifies_the_address() {
        let (now, who) = (Utc::now(), caller());
        let probe = AuthService::new(&ports(MockSet::new(now)), policy());
        let record = pending(&probe, who.user_id, now, "424242", 1);
        let mut m = mocks(now, who);
        let reserved = record.clone();
        m.emails
            .expect_reserve_email_attempt()
            .withf(|_, max| *max == 5)
            .returning(move |_, _| Ok(Some(reserved.clone())));
        let hash = record.code_hash.clone().unwrap();
        m.emails
            .expect_confirm_email()
            .withf(move |_, h, max, at| h == hash && *max == 5 && *at == now)
            .times(1)
            .returning(|_, _, _, _| Ok(true));
        let service = AuthService::new(&ports(m), policy());
        let email = service.verify_email(who, "424242").await.unwrap();
        assert_eq!(email.verified_at, Some(now));
    }

    #[tokio::test]
    async fn a_wrong_expired_or_unasked_code_verifies_nothing() {
        let (now, who) = (Utc::now(), caller());
        let probe = AuthService::new(&ports(MockSet::new(now)), policy());
        let record = pending(&probe, who.user_id, now, "424242", 1);

        let mut m = mocks(now, who);
        let reserved = record.clone();
        m.emails.expect_reserve_email_attempt().returning(move |_, _| Ok(Some(reserved.clone())));
        m.emails.expect_confirm_email().never();
        let service = AuthService::new(&ports(m), policy());
        let err = service.verify_email(who, "111111").await.unwrap_err();
        assert_eq!((err.code(), err.kind().http_status()), (ErrorCode::InvalidCode, 422));

        let mut m = mocks(now + Duration::minutes(15), who);
        let reserved = record.clone();
        m.emails.expect_reserve_email_attempt().returning(move |_, _| Ok(Some(reserved.clone())));
        m.emails.expect_confirm_email().never();
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.verify_email(who, "424242").await.unwrap_err().code(), "code_expired");

        // No try left: the pending code is locked.
        let mut m = mocks(now, who);
        let locked = UserEmail { attempts: 5, ..record };
        m.emails.expect_reserve_email_attempt().returning(|_, _| Ok(None));
        m.emails.expect_email_of().returning(move |_| Ok(Some(locked.clone())));
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.verify_email(who, "424242").await.unwrap_err().code(), "too_many_attempts");

        // Nothing waits: no address, or a verified one.
        let mut m = mocks(now, who);
        m.emails.expect_reserve_email_attempt().returning(|_, _| Ok(None));
        m.emails.expect_email_of().returning(|_| Ok(None));
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.verify_email(who, "424242").await.unwrap_err().code(), "email_not_pending");
    }

    #[tokio::test]
    async fn a_new_code_waits_for_the_cooldown_but_the_verified_address_is_kept_as_is() {
        let (now, who) = (Utc::now(), caller());
        let probe = AuthService::new(&ports(MockSet::new(now)), policy());
        let recent = pending(&probe, who.user_id, now - Duration::seconds(10), "424242", 0);
        let mut m = mocks(now, who);
        m.emails.expect_email_of().returning(move |_| Ok(Some(recent.clone())));
        m.emails.expect_put_email().never();
        let mut mailer = MockEmailSender::new();
        mailer.expect_send().never();
        m.mailer = Some(mailer);
        let service = AuthService::new(&ports(m), policy());
        assert_eq!(service.set_email(who, "asha@example.org").await.unwrap_err().code(), "code_recently_sent");

        let verified = UserEmail {
            verified_at: Some(now - Duration::days(1)),
            code_hash: None,
            code_expires_at: None,
            ..pending(&probe, who.user_id, now - Duration::seconds(10), "424242", 0)
        };
        let mut m = mocks(now, who);
        m.emails.expect_email_of().returning(move |_| Ok(Some(verified.clone())));
        m.emails.expect_put_email().never();
        let mut mailer = MockEmailSender::new();
        mailer.expect_send().never();
        m.mailer = Some(mailer);
        let service = AuthService::new(&ports(m), policy());
        assert!(service.set_email(who, "asha@example.org").await.unwrap().is_verified());
    }
}
