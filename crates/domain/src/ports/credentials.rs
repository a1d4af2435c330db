//! Login codes, bearer tokens, signed download links and TURN logins.

use crate::auth::link::{ClaimSecret, PairingCode};
use crate::auth::{OtpCode, TokenClaims};
use crate::error::DomainResult;
use crate::ice::TurnCredential;
use crate::ids::UserId;
use crate::user::{EmailAddress, Phone};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Delivers a login code to a phone (SMS in production, the log in development).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OtpSender: Send + Sync {
    async fn send(&self, phone: &Phone, code: &OtpCode) -> DomainResult<()>;
}

/// What a code mail is for; the mail says no more than the code and the server's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeEmail {
    /// A login code for the phone whose verified address this is.
    Login(OtpCode),
    /// The code that proves the address belongs to the person who gave it.
    VerifyAddress(OtpCode),
}

impl CodeEmail {
    pub fn code(&self) -> &OtpCode {
        match self {
            Self::Login(code) | Self::VerifyAddress(code) => code,
        }
    }
}

/// Delivers codes by email (SMTP), when the server has a mail server to send through.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EmailSender: Send + Sync {
    async fn send(&self, to: &EmailAddress, mail: &CodeEmail) -> DomainResult<()>;
}

/// Makes new login codes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait CodeGenerator: Send + Sync {
    fn generate(&self) -> OtpCode;
}

/// Makes the random parts of a device link, from a cryptographically secure generator.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait LinkSecretGenerator: Send + Sync {
    fn pairing_code(&self) -> PairingCode;
    fn claim_secret(&self) -> ClaimSecret;
}

/// Issues and checks bearer tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenCodec: Send + Sync {
    fn issue(&self, claims: &TokenClaims) -> DomainResult<String>;
    /// Err(`Unauthorized`) for a token that is malformed, forged or expired.
    fn verify(&self, token: &str) -> DomainResult<TokenClaims>;
}

/// Signs and checks download links (`attachment::LinkGrant::signed_text`) with a
/// key only the server knows.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait LinkSigner: Send + Sync {
    fn sign(&self, text: &str) -> String;
    /// True only for a signature `sign` made of exactly this text; compared in
    /// constant time.
    fn verify(&self, text: &str, signature: &str) -> bool;
}

/// Mints logins for the TURN server, which checks them with a secret it shares
/// with this server; nothing is stored on either side.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TurnCredentials: Send + Sync {
    /// A login for `user` that the TURN server accepts until `expires_at`.
    fn mint(&self, user: UserId, expires_at: DateTime<Utc>) -> TurnCredential;
}
