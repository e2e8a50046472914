//! PKCE (RFC 7636) and the random values of a browser sign-in, for every sign-in the app does
//! (SuperOffice's and the rep's mailbox): a verifier of 43 URL-safe characters from 32 random
//! bytes, its S256 challenge, and `state`/`nonce` values.

use base64::Engine as _;
use keychain::Secret;
use sha2::Digest;

/// `bytes` random bytes as unpadded base64url.
pub fn random_url_safe(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// A verifier and its challenge.
pub struct Pkce {
    /// Sent only to the token endpoint, with the code.
    pub verifier: Secret,
    /// `BASE64URL(SHA256(verifier))`, sent in the authorize URL with `code_challenge_method=S256`.
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = Secret::new(random_url_safe(32));
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.expose().as_bytes()));
        Pkce { verifier, challenge }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verifier_is_within_rfc_7636_and_the_challenge_is_its_s256() {
        let p = Pkce::new();
        let v = p.verifier.expose();
        assert_eq!(v.len(), 43, "32 bytes as unpadded base64url");
        assert!(v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        // RFC 7636 appendix B's example.
        let known =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert_eq!(known, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_ne!(Pkce::new().challenge, p.challenge);
    }
}
