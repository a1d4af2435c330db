use chitchat_domain::auth::link::{ClaimSecret, PairingCode};
use chitchat_domain::auth::OtpCode;
use chitchat_domain::ports::{CodeGenerator, LinkSecretGenerator};
use rand::Rng;

/// Six random digits from the operating system's generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomCodes;

impl CodeGenerator for RandomCodes {
    fn generate(&self) -> OtpCode {
        let n: u32 = rand::rng().random_range(0..1_000_000);
        // Six zero-padded digits always parse.
        OtpCode::parse(&format!("{n:06}")).unwrap_or_else(|_| unreachable!("six digits"))
    }
}

/// Pairing codes and claim secrets of device links, from the operating system's
/// generator (a CSPRNG, as for login codes).
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomLinkSecrets;

impl LinkSecretGenerator for RandomLinkSecrets {
    fn pairing_code(&self) -> PairingCode {
        PairingCode::from_random(rand::rng().random())
    }

    fn claim_secret(&self) -> ClaimSecret {
        ClaimSecret::from_random(rand::rng().random())
    }
}

/// The same code every time: development and tests only (`OTP_FIXED_CODE`).
#[derive(Debug, Clone)]
pub struct FixedCode(pub OtpCode);

impl CodeGenerator for FixedCode {
    fn generate(&self) -> OtpCode {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> =
            (0..50).map(|_| RandomCodes.generate().reveal().to_owned()).collect();
        assert!(codes.iter().all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        assert!(codes.len() > 40, "50 random codes should rarely collide");
    }

    #[test]
    fn pairing_codes_and_claim_secrets_are_well_formed_and_vary() {
        let codes: std::collections::HashSet<String> =
            (0..50).map(|_| RandomLinkSecrets.pairing_code().reveal().to_owned()).collect();
        assert_eq!(codes.len(), 50, "40-bit codes do not collide in 50 draws");
        for code in &codes {
            assert_eq!(PairingCode::parse(code).unwrap().reveal(), code);
        }
        let (a, b) = (RandomLinkSecrets.claim_secret(), RandomLinkSecrets.claim_secret());
        assert_ne!(a, b);
        assert_eq!(a.reveal().len(), 43, "256 bits in URL-safe base64");
    }
}
