//! Multi-factor sign-in: time-based one-time passwords (RFC 6238, through
//! the maintained `totp-rs` crate: HMAC-SHA-1, six digits, 30-second steps,
//! one step of clock drift either way) and single-use recovery codes, plus
//! the rule for who must use them.
//!
//! Pure: the caller brings the secret, the time and the last step already
//! accepted for this user; [`check_code`] answers with the step a code
//! matched, which the caller records so that no code works twice (RFC 6238
//! section 5.2 leaves that to us).

use crate::Role;
use totp_rs::{Builder, Secret, Totp};

/// Bytes of a new secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Recovery codes issued at enrolment (each works once).
pub const RECOVERY_CODES: usize = 10;

/// Why a secret could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the authenticator secret is not usable: {0}")]
pub struct SecretError(String);

fn totp(secret: &[u8], issuer: &str, account: &str) -> Result<Totp, SecretError> {
    Builder::new()
        .with_secret(Secret::from(secret))
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|e| SecretError(e.to_string()))
}

/// The secret as people type it into an authenticator app (base32).
pub fn secret_text(secret: &[u8]) -> String {
    Secret::from(secret).to_base32()
}

/// The secret from the text [`secret_text`] gives (spaces allowed).
pub fn secret_from_text(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    Secret::try_from_base32(compact).ok().map(|s| s.to_vec())
}

/// The `otpauth://` address a QR code carries, naming the WARP and the user.
pub fn provisioning_url(secret: &[u8], issuer: &str, account: &str) -> Result<String, SecretError> {
    totp(secret, issuer, account)?
        .to_url()
        .map_err(|e| SecretError(e.to_string()))
}

/// The step a typed code matches at `unix_time`, if it matches one after
/// `last_step` (so a code already used, or an older one, is refused).
/// Spaces and dashes people type are ignored; anything else that is not
/// six digits matches nothing.
pub fn check_code(secret: &[u8], code: &str, unix_time: u64, last_step: u64) -> Option<u64> {
    let digits: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, "openwarp", "user").ok()?;
    t.check(&digits, unix_time).filter(|step| *step > last_step)
}

/// The code an authenticator shows at `unix_time` (for tests and the demo).
pub fn code_at(secret: &[u8], unix_time: u64) -> Result<String, SecretError> {
    Ok(totp(secret, "openwarp", "user")?
        .generate(unix_time)
        .to_string())
}

/// A recovery code as people type it: upper case, without spaces or dashes.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether this person must sign in with a second factor: every operator,
/// and everyone in an organisation whose lead requires it.
pub fn required(role: Role, organisation_requires: bool) -> bool {
    role == Role::Operator || organisation_requires
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B: the SHA-1 secret "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_are_those_of_rfc_6238() {
        // Appendix B gives 8 digits; six-digit codes are their last six.
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(
                code_at(RFC_SECRET, time).ok().as_deref(),
                Some(&eight[2..]),
                "{time}"
            );
        }
    }

    #[test]
    fn a_code_works_in_its_step_and_one_either_side_and_only_once() {
        let t = 1_234_567_890;
        let code = code_at(RFC_SECRET, t).unwrap_or_default();
        let step = t / 30;
        assert_eq!(check_code(RFC_SECRET, &code, t, 0), Some(step));
        assert_eq!(check_code(RFC_SECRET, &code, t + 30, 0), Some(step));
        assert_eq!(check_code(RFC_SECRET, &code, t - 30, 0), Some(step));
        assert_eq!(
            check_code(RFC_SECRET, &code, t + 60, 0),
            None,
            "two steps late"
        );
        // Once used, the same step (and any before it) is refused.
        assert_eq!(check_code(RFC_SECRET, &code, t, step), None);
        // Typed with a space.
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(check_code(RFC_SECRET, &spaced, t, 0), Some(step));
    }

    #[test]
    fn junk_never_matches_and_never_panics() {
        for junk in [
            "",
            "12345",
            "1234567",
            "abcdef",
            "１２３４５６",
            "123 45x",
            "99999999999999999999",
        ] {
            assert_eq!(check_code(RFC_SECRET, junk, 59, 0), None, "{junk:?}");
        }
    }

    #[test]
    fn the_provisioning_url_names_the_warp_and_the_user() {
        let url = provisioning_url(RFC_SECRET, "SEG:WARP", "ann@kent.gov.uk").unwrap_or_default();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(
            url.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{url}"
        );
        assert!(
            url.contains("issuer=SEG%20WARP") || url.contains("issuer=SEG+WARP"),
            "{url}"
        );
        assert_eq!(secret_text(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn operators_always_need_a_second_factor_members_when_required() {
        assert!(required(Role::Operator, false));
        assert!(!required(Role::MemberLead, false));
        assert!(required(Role::MemberUser, true));
        assert_eq!(normalise_recovery_code(" ab12-cd34 "), "AB12CD34");
    }
}
