use chitchat_domain::auth::OtpCode;
use chitchat_domain::ports::CodeGenerator;
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
}
