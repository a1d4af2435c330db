use chitchat_domain::ports::LinkSigner;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What sets link keys apart from every other use of the server's secret.
const KEY_PURPOSE: &[u8] = b"chitchat attachment download links v1";

/// HMAC-SHA256 signatures of download links, hex-encoded. The key is derived
/// from the token secret (HMAC of a fixed purpose under it), so a link signature
/// is never a valid token signature and the other way round, and no second
/// secret needs to be kept.
pub struct HmacLinkSigner {
    /// Keyed once; each signature starts from a copy.
    keyed: HmacSha256,
}

impl HmacLinkSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self { keyed: keyed(&mac(secret, KEY_PURPOSE)) }
    }

    fn mac_of(&self, text: &str) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(text.as_bytes());
        mac
    }
}

/// HMAC accepts keys of any length, so `new_from_slice` cannot fail.
fn keyed(key: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

fn mac(key: &[u8], text: &[u8]) -> Vec<u8> {
    let mut mac = keyed(key);
    mac.update(text);
    mac.finalize().into_bytes().to_vec()
}

impl LinkSigner for HmacLinkSigner {
    fn sign(&self, text: &str) -> String {
        hex::encode(self.mac_of(text).finalize().into_bytes())
    }

    fn verify(&self, text: &str, signature: &str) -> bool {
        let Ok(given) = hex::decode(signature) else { return false };
        self.mac_of(text).verify_slice(&given).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_for_its_text_and_key_only() {
        let signer = HmacLinkSigner::new(b"0123456789abcdef0123456789abcdef");
        let signature = signer.sign("link one");
        assert_eq!(signature.len(), 64);
        assert!(signer.verify("link one", &signature));
        assert!(!signer.verify("link two", &signature));
        assert!(!signer.verify("link one", &signature[..62]));
        assert!(!signer.verify("link one", "not hex"));
        assert!(!signer.verify("link one", ""));
        let other = HmacLinkSigner::new(b"another-secret-another-secret-xx");
        assert!(!other.verify("link one", &signature));
    }

    #[test]
    fn the_link_key_is_not_the_secret_itself() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let signer = HmacLinkSigner::new(secret);
        assert_ne!(signer.sign("text"), hex::encode(mac(secret, b"text")));
    }
}
