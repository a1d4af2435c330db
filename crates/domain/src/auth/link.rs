//! Linking a new device from one already logged in: the new device shows a short
//! pairing code (and a QR code of it), the logged-in device confirms it, and the new
//! device claims its own session with a secret only it holds.

use super::otp::hashes_match;
use super::LoginOutcome;
use crate::error::DomainError;
use crate::ids::{LinkId, SessionId, UserId};
use crate::user::Phone;
use crate::ErrorCode;
use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// The rules of linking that are knobs rather than facts.
#[derive(Debug, Clone)]
pub struct LinkPolicy {
    /// How long a pairing code can be confirmed, and how long a confirmed link can
    /// be claimed after its confirmation.
    pub ttl: Duration,
    /// How long an expired link is kept (so that late calls hear "expired" rather
    /// than "not found") before it is removed.
    pub keep_expired: Duration,
}

impl Default for LinkPolicy {
    fn default() -> Self {
        Self { ttl: Duration::minutes(2), keep_expired: Duration::hours(1) }
    }
}

/// Eight characters a person reads off one screen and types on another. The
/// alphabet leaves out 0, O, 1 and I, which are easily confused; 32 symbols make
/// 40 bits, and only a device logged in as the same person can use a code at all.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode(String);

impl std::fmt::Debug for PairingCode {
    // A code logs a device in: keep it out of debug output and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairingCode(********)")
    }
}

impl PairingCode {
    pub const ALPHABET: &'static [u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    pub const LEN: usize = 8;

    /// The code these random bytes pick: each byte chooses a symbol (256 is a
    /// multiple of 32, so every symbol is equally likely).
    pub fn from_random(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes.iter().map(|b| char::from(Self::ALPHABET[usize::from(b % 32)])).collect())
    }

    /// A code as a person typed it: case, spaces and dashes do not matter.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let code: String =
            raw.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
        let valid = code.len() == Self::LEN && code.bytes().all(|b| Self::ALPHABET.contains(&b));
        if !valid {
            return Err(DomainError::invalid(
                ErrorCode::InvalidPairingCode,
                "the pairing code is 8 letters and digits, as the new device shows it",
            ));
        }
        Ok(Self(code))
    }

    /// The code without separators, as the API returns it.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// The stored form: a keyed hash, so a leaked table reveals no usable code.
    pub fn hash(&self, pepper: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"device-link\0");
        hasher.update(pepper.as_bytes());
        hasher.update([0]);
        hasher.update(self.0.as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// The secret the new device keeps to collect its session: only the device that
/// asked for the link can claim it, whoever else saw the code.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimSecret(String);

impl std::fmt::Debug for ClaimSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClaimSecret(******)")
    }
}

impl ClaimSecret {
    /// 256 random bits, as URL-safe base64.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        Self(Base64UrlUnpadded::encode_string(&bytes))
    }

    /// A secret as the client sent it back; anything is accepted, it is only compared.
    pub fn from_client(raw: &str) -> Self {
        Self(raw.trim().to_owned())
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// The stored form. The secret is random and long, so a plain hash is enough.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// Whether this is the secret of that stored hash, in constant time.
    pub fn matches(&self, stored_hash: &str) -> bool {
        hashes_match(&self.hash(), stored_hash)
    }
}

/// A request of a new device to log in as the person of `phone`, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLink {
    pub id: LinkId,
    pub phone: Phone,
    pub code_hash: String,
    pub claim_hash: String,
    /// The new device's label, from its user agent.
    pub device: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Set once, by the one confirmation that won.
    pub confirmed: Option<LinkConfirmation>,
    /// When the new device collected its session.
    pub claimed_at: Option<DateTime<Utc>>,
}

/// Who confirmed a link, when, and the session it opened for the new device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfirmation {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub at: DateTime<Utc>,
}

/// What the new device is given when it asks for a link.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub id: LinkId,
    pub pairing_code: PairingCode,
    pub claim_secret: ClaimSecret,
    pub expires_at: DateTime<Utc>,
}

/// What a logged-in device is shown of a link before and after confirming it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LinkSummary {
    pub link_id: LinkId,
    /// The new device, from its user agent.
    pub device: String,
    pub expires_at: DateTime<Utc>,
    /// The new device's session, once confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
}

/// The new device's answer while it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// Nobody confirmed the code yet.
    Pending,
    /// Confirmed: this device's own login.
    LoggedIn(LoginOutcome),
}
