//! Password hashing (argon2id), random bearer tokens, and HMAC signatures
//! for links sent by e-mail (unsubscribe).
//!
//! Hashing is deliberately slow (tens of milliseconds); async callers should
//! run it on a blocking thread.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openwarp_core::Password;
use sha2::{Digest, Sha256};

/// Argon2id with the OWASP-recommended minimum (19 MiB, 2 passes, 1 lane).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

/// Hash a new password into a PHC string (`$argon2id$v=19$…`).
pub fn hash_password(password: &Password) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// A hash of a password nobody knows, so that checking a sign-in for an
/// unknown e-mail address costs as much as for a known one.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$3Vl4W2m3tF5fXjH6QJ0cq8Gm0pTqU1wq0m8t8y0l2eQ";

/// Check `candidate` against a stored PHC hash. `None` checks against a decoy
/// (and always fails) so unknown accounts take the same time as known ones.
pub fn verify_password(stored: Option<&str>, candidate: &str) -> bool {
    let hash = stored.unwrap_or(DECOY_HASH);
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let ok = argon2()
        .verify_password(candidate.as_bytes(), &parsed)
        .is_ok();
    ok && stored.is_some()
}

/// A fresh random token: 32 bytes from the OS, base64url (43 characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored in place of a token: its SHA-256, base64url.
pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Compare two secrets without leaking where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use openwarp_core::Email;

    #[test]
    fn hash_and_verify() -> Result<(), Box<dyn std::error::Error>> {
        let email = Email::parse("jane@kent.gov.uk")?;
        let pw = Password::new("correct horse battery staple", &email)?;
        let hash = hash_password(&pw)?;
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(Some(&hash), "correct horse battery staple"));
        assert!(!verify_password(
            Some(&hash),
            "correct horse battery stapler"
        ));
        assert!(!verify_password(None, "anything"));
        assert!(!verify_password(Some("not a hash"), "anything"));
        Ok(())
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
        assert!(!constant_time_eq("a", "ab"));
    }
}

type HmacSha256 = hmac::Hmac<Sha256>;

/// An HMAC-SHA256 signature of `message` under `secret`, base64url: what a
/// one-click link carries so it can be trusted without a session.
pub fn sign(secret: &str, message: &str) -> String {
    use hmac::Mac;
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(message.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` is [`sign`]`(secret, message)`, compared in constant time.
pub fn verify_signature(secret: &str, message: &str, signature: &str) -> bool {
    use hmac::Mac;
    let Ok(sig) = URL_SAFE_NO_PAD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(message.as_bytes());
    mac.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod signature_tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_the_same_secret_and_message() {
        let s = sign("secret", "unsubscribe:7");
        assert!(verify_signature("secret", "unsubscribe:7", &s));
        assert!(!verify_signature("secret", "unsubscribe:8", &s));
        assert!(!verify_signature("other", "unsubscribe:7", &s));
        assert!(!verify_signature("secret", "unsubscribe:7", "not base64!"));
        assert!(!verify_signature("secret", "unsubscribe:7", ""));
    }
}
