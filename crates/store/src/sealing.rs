//! Secrets the application must be able to use again — second-factor (TOTP)
//! keys, webhook signing keys, the credentials we present to peer WARPs, and
//! the instance's own signing secrets — sealed at rest with
//! ChaCha20-Poly1305 (`ring`) under a 256-bit key kept outside the database
//! (a file named by the `secrets_key_file` setting). A copy of the database
//! or of a backup then gives none of them away.
//!
//! A sealed value is text: `sealed:v1:` and the URL-safe base64 of a random
//! 96-bit nonce followed by the ciphertext and its tag. The column it lives
//! in is bound in as associated data, so a value moved to another column
//! does not open. Values written before a key was configured stay readable
//! as they are and are sealed by [`Store::seal_stored_secrets`].

use crate::{Result, Store, StoreError, on_pool};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The marker that starts every sealed value.
pub const SEALED_PREFIX: &str = "sealed:v1:";

/// Key length in bytes.
pub const KEY_BYTES: usize = 32;

/// Where a sealed value lives; bound into the seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretColumn {
    TotpKey,
    WebhookSecret,
    PeerSecret,
    InstanceSecret,
}

impl SecretColumn {
    fn aad(self) -> &'static [u8] {
        match self {
            SecretColumn::TotpKey => b"openwarp user_mfa.secret",
            SecretColumn::WebhookSecret => b"openwarp webhooks.secret",
            SecretColumn::PeerSecret => b"openwarp peers.outgoing_secret",
            SecretColumn::InstanceSecret => b"openwarp instance_secrets.value",
        }
    }

    fn name(self) -> &'static str {
        match self {
            SecretColumn::TotpKey => "a second-factor key",
            SecretColumn::WebhookSecret => "a webhook signing secret",
            SecretColumn::PeerSecret => "a peer WARP credential",
            SecretColumn::InstanceSecret => "an instance secret",
        }
    }
}

/// Why a secrets key or a sealed value could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealingError {
    #[error(
        "the secrets key must be {KEY_BYTES} bytes written as base64 (make one with `openwarp secrets-key new PATH`)"
    )]
    BadKey,
    #[error(
        "{0} is sealed, but no secrets key is configured (set secrets_key_file to the key it was sealed with)"
    )]
    NoKey(&'static str),
    #[error(
        "{0} does not open with the configured secrets key (a different key, or a damaged value)"
    )]
    WrongKey(&'static str),
    #[error("the system random number generator failed")]
    Random,
}

/// The key that seals and opens stored secrets.
pub struct SealingKey {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    /// A key from its base64 text (standard or URL-safe alphabet; padding
    /// and surrounding white space are ignored).
    pub fn from_base64(text: &str) -> std::result::Result<SealingKey, SealingError> {
        let cleaned: String = text
            .trim()
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        let bytes = URL_SAFE_NO_PAD
            .decode(cleaned.as_bytes())
            .map_err(|_| SealingError::BadKey)?;
        SealingKey::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<SealingKey, SealingError> {
        if bytes.len() != KEY_BYTES {
            return Err(SealingError::BadKey);
        }
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).map_err(|_| SealingError::BadKey)?;
        Ok(SealingKey {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// A new random key, as base64 text (what a key file holds).
    pub fn generate_base64() -> std::result::Result<String, SealingError> {
        let mut bytes = [0u8; KEY_BYTES];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SealingError::Random)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Seal `plain` for `column`.
    pub fn seal(
        &self,
        column: SecretColumn,
        plain: &[u8],
    ) -> std::result::Result<String, SealingError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| SealingError::Random)?;
        let mut in_out = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(column.aad()),
                &mut in_out,
            )
            .map_err(|_| SealingError::Random)?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&in_out);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(blob)))
    }

    /// Open a value sealed for `column`.
    pub fn open(
        &self,
        column: SecretColumn,
        sealed: &str,
    ) -> std::result::Result<Vec<u8>, SealingError> {
        let wrong = || SealingError::WrongKey(column.name());
        let body = sealed.strip_prefix(SEALED_PREFIX).ok_or_else(wrong)?;
        let blob = URL_SAFE_NO_PAD
            .decode(body.as_bytes())
            .map_err(|_| wrong())?;
        if blob.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, rest) = blob.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut in_out = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(column.aad()), &mut in_out)
            .map_err(|_| wrong())?;
        Ok(plain.to_vec())
    }
}

/// Whether a stored value is sealed (rather than written before a key was
/// configured).
pub fn is_sealed(stored: &[u8]) -> bool {
    stored.starts_with(SEALED_PREFIX.as_bytes())
}

impl Store {
    /// Seal secrets written from now on with `key`, and open sealed ones.
    #[must_use]
    pub fn with_sealing_key(mut self, key: SealingKey) -> Store {
        self.sealing = Some(std::sync::Arc::new(key));
        self
    }

    /// Whether secrets are sealed at rest by this store.
    pub fn seals_secrets(&self) -> bool {
        self.sealing.is_some()
    }

    /// A secret as it is to be stored: sealed when a key is configured.
    pub(crate) fn seal_secret(&self, column: SecretColumn, plain: &[u8]) -> Result<Vec<u8>> {
        match &self.sealing {
            Some(key) => Ok(key.seal(column, plain)?.into_bytes()),
            None => Ok(plain.to_vec()),
        }
    }

    /// A text secret as it is to be stored.
    pub(crate) fn seal_text(&self, column: SecretColumn, plain: &str) -> Result<String> {
        match &self.sealing {
            Some(key) => Ok(key.seal(column, plain.as_bytes())?),
            None => Ok(plain.to_string()),
        }
    }

    /// A stored secret, opened if it is sealed.
    pub(crate) fn open_secret(&self, column: SecretColumn, stored: &[u8]) -> Result<Vec<u8>> {
        if !is_sealed(stored) {
            return Ok(stored.to_vec());
        }
        let key = self
            .sealing
            .as_ref()
            .ok_or(SealingError::NoKey(column.name()))?;
        let text =
            std::str::from_utf8(stored).map_err(|_| SealingError::WrongKey(column.name()))?;
        Ok(key.open(column, text)?)
    }

    /// A stored text secret, opened if it is sealed.
    pub(crate) fn open_text(&self, column: SecretColumn, stored: &str) -> Result<String> {
        let plain = self.open_secret(column, stored.as_bytes())?;
        String::from_utf8(plain)
            .map_err(|_| StoreError::from(SealingError::WrongKey(column.name())))
    }

    /// Seal every stored secret still in the clear (written before a key was
    /// configured); returns how many were sealed. Each row is replaced only
    /// if it still holds the value read, so instances starting together do
    /// not trip over each other. Without a key it does nothing.
    pub async fn seal_stored_secrets(&self) -> Result<u64> {
        let Some(key) = &self.sealing else {
            return Ok(0);
        };
        let mut replacements = Vec::new();
        for secret in self.stored_secrets().await? {
            if !is_sealed(&secret.stored) {
                let new = key.seal(secret.column, &secret.stored)?;
                replacements.push((secret, new));
            }
        }
        self.replace_secrets(&replacements, false).await
    }

    /// Seal every stored secret under `new` instead (opening each with this
    /// store's key, or taking it as it is when it was never sealed), in one
    /// transaction: afterwards `new` alone opens them, or, if anything got
    /// in the way, nothing changed. Returns how many. Stop every instance
    /// first and start them with the new key: a running one could not read
    /// what is sealed under `new`.
    pub async fn reseal_secrets(&self, new: &SealingKey) -> Result<u64> {
        let mut replacements = Vec::new();
        for secret in self.stored_secrets().await? {
            let plain = self.open_secret(secret.column, &secret.stored)?;
            let sealed = new.seal(secret.column, &plain)?;
            replacements.push((secret, sealed));
        }
        self.replace_secrets(&replacements, true).await
    }

    /// Every stored secret, as stored.
    async fn stored_secrets(&self) -> Result<Vec<StoredSecret>> {
        let mut out = Vec::new();
        let totp: Vec<(i64, Vec<u8>)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT user_id, secret FROM user_mfa")
                .fetch_all(p)
                .await
        })?;
        out.extend(totp.into_iter().map(|(user, stored)| StoredSecret {
            row: SecretRow::Totp(user),
            column: SecretColumn::TotpKey,
            stored,
        }));
        for (select, update, column) in TEXT_SECRETS {
            let rows: Vec<(i64, String)> =
                on_pool!(self, |p| sqlx::query_as(select).fetch_all(p).await)?;
            out.extend(rows.into_iter().map(|(id, stored)| StoredSecret {
                row: SecretRow::Text(update, id),
                column,
                stored: stored.into_bytes(),
            }));
        }
        let named: Vec<(String, String)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT name, value FROM instance_secrets")
                .fetch_all(p)
                .await
        })?;
        out.extend(named.into_iter().map(|(name, stored)| StoredSecret {
            row: SecretRow::Instance(name),
            column: SecretColumn::InstanceSecret,
            stored: stored.into_bytes(),
        }));
        Ok(out)
    }

    /// Write each replacement in one transaction, each only where the row
    /// still holds what was read; how many were written. `all_or_nothing`:
    /// when any row had changed meanwhile, write none and say so.
    async fn replace_secrets(
        &self,
        replacements: &[(StoredSecret, String)],
        all_or_nothing: bool,
    ) -> Result<u64> {
        if replacements.is_empty() {
            return Ok(0);
        }
        on_pool!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                let mut n = 0u64;
                for (secret, new) in replacements {
                    let old_text = String::from_utf8_lossy(&secret.stored);
                    let done = match &secret.row {
                        SecretRow::Totp(user) => sqlx::query(
                            "UPDATE user_mfa SET secret = $1 WHERE user_id = $2 AND secret = $3",
                        )
                        .bind(new.as_bytes())
                        .bind(user)
                        .bind(&secret.stored)
                        .execute(&mut *tx)
                        .await?,
                        SecretRow::Text(update, id) => {
                            sqlx::query(*update)
                                .bind(new)
                                .bind(id)
                                .bind(old_text.as_ref())
                                .execute(&mut *tx)
                                .await?
                        }
                        SecretRow::Instance(name) => sqlx::query(
                            "UPDATE instance_secrets SET value = $1 WHERE name = $2 AND value = $3",
                        )
                        .bind(new)
                        .bind(name)
                        .bind(old_text.as_ref())
                        .execute(&mut *tx)
                        .await?,
                    };
                    n += done.rows_affected();
                }
                if all_or_nothing && usize::try_from(n).ok() != Some(replacements.len()) {
                    // Dropping the transaction rolls it back: all or nothing.
                    return Err(StoreError::Conflict(
                        "a secret changed while the secrets were being re-sealed (is an \
                         instance still running?); nothing was changed: stop every instance \
                         and run it again"
                            .into(),
                    ));
                }
                tx.commit().await?;
                Ok::<u64, StoreError>(n)
            }
            .await
        })
    }
}

/// The columns holding text secrets with an integer key: how to read them
/// all, and how to replace one only if it still holds the value read.
/// (Instance secrets, keyed by name, are read and written beside them.)
const TEXT_SECRETS: [(&str, &str, SecretColumn); 2] = [
    (
        "SELECT id, secret FROM webhooks",
        "UPDATE webhooks SET secret = $1 WHERE id = $2 AND secret = $3",
        SecretColumn::WebhookSecret,
    ),
    (
        "SELECT id, outgoing_secret FROM federation_peers WHERE outgoing_secret IS NOT NULL",
        "UPDATE federation_peers SET outgoing_secret = $1 WHERE id = $2 AND outgoing_secret = $3",
        SecretColumn::PeerSecret,
    ),
];

/// Where a stored secret lives.
enum SecretRow {
    /// A user's TOTP key (bytes).
    Totp(i64),
    /// A text column of [`TEXT_SECRETS`]: its update, and the row's id.
    Text(&'static str, i64),
    /// An instance secret, by name.
    Instance(String),
}

/// One stored secret, as stored.
struct StoredSecret {
    row: SecretRow,
    column: SecretColumn,
    stored: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SealingKey {
        SealingKey::from_bytes(&[7u8; KEY_BYTES]).expect("key")
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_column_only() {
        let k = key();
        let sealed = k
            .seal(SecretColumn::TotpKey, b"12345678901234567890")
            .unwrap();
        assert!(sealed.starts_with(SEALED_PREFIX));
        assert!(!sealed.contains("12345678901234567890"));
        assert_eq!(
            k.open(SecretColumn::TotpKey, &sealed).unwrap(),
            b"12345678901234567890"
        );
        // Another column, another key, a flipped character: refused.
        assert_eq!(
            k.open(SecretColumn::WebhookSecret, &sealed),
            Err(SealingError::WrongKey("a webhook signing secret"))
        );
        let other = SealingKey::from_bytes(&[8u8; KEY_BYTES]).unwrap();
        assert!(other.open(SecretColumn::TotpKey, &sealed).is_err());
        let mut damaged = sealed.clone().into_bytes();
        let last = damaged.len() - 1;
        damaged[last] = if damaged[last] == b'A' { b'B' } else { b'A' };
        let damaged = String::from_utf8(damaged).unwrap();
        assert!(k.open(SecretColumn::TotpKey, &damaged).is_err());
        // Truncated or not base64 at all: an error, not a panic.
        assert!(k.open(SecretColumn::TotpKey, SEALED_PREFIX).is_err());
        assert!(k.open(SecretColumn::TotpKey, "sealed:v1:!!").is_err());
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let k = key();
        let a = k.seal(SecretColumn::PeerSecret, b"same").unwrap();
        let b = k.seal(SecretColumn::PeerSecret, b"same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn keys_are_32_bytes_of_base64() {
        let text = SealingKey::generate_base64().unwrap();
        assert!(SealingKey::from_base64(&text).is_ok());
        assert!(SealingKey::from_base64(&format!("  {text}\n")).is_ok());
        assert_eq!(
            SealingKey::from_base64("c2hvcnQ=").unwrap_err(),
            SealingError::BadKey
        );
        assert_eq!(
            SealingKey::from_base64("not base64 at all ###").unwrap_err(),
            SealingError::BadKey
        );
    }
}
