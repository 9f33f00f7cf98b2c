//! The demo's keys, derived from `--secret-key`.

use std::fmt;

use session_core::{Key, KeyError, KeyRing};
use sha2::{Digest, Sha256};

/// Domain separation, so the demo's master key is not the SHA-256 of the bare secret that
/// some other program might also compute.
const DERIVATION_LABEL: &[u8] = b"sessions demo: master key from --secret-key, v1\0";

/// The demo's secret: `--secret-key` as given (for Flask-compatible backends, which derive
/// keys the way Flask does from the string itself), and a master key the demo's own keys
/// are derived from.
///
/// `--secret-key` takes any string, so the master key is `SHA-256(label || secret)`:
/// always 32 bytes, whatever the secret's length. Hashing adds no strength: a short or
/// guessable secret stays guessable, so production deployments should pass 32+ random
/// bytes (`openssl rand -base64 48`). Without a secret, a random 64-byte key is drawn and
/// every session ends when the demo restarts.
///
/// # Examples
///
/// ```
/// use demo_support::Secret;
///
/// let a = Secret::new(Some("hunter2"))?;
/// let b = Secret::new(Some("hunter2"))?;
/// assert_eq!(a.keys("id cookie"), b.keys("id cookie"), "same secret, same keys");
/// assert_ne!(a.keys("id cookie"), a.keys("cookie"), "one subkey per purpose");
/// assert!(format!("{a:?}").contains("REDACTED"));
/// assert!(Secret::new(None)?.is_random());
/// # Ok::<(), session_core::KeyError>(())
/// ```
#[derive(Clone)]
pub struct Secret {
    given: Option<String>,
    master: Key,
}

impl Secret {
    /// The secret from `--secret-key`, or a random one when it is absent.
    ///
    /// # Errors
    ///
    /// [`KeyError::RandomSource`] when no secret is given and the operating system cannot
    /// supply random bytes.
    pub fn new(given: Option<&str>) -> Result<Self, KeyError> {
        let master = match given {
            Some(secret) => Key::try_from_bytes(
                &Sha256::new()
                    .chain_update(DERIVATION_LABEL)
                    .chain_update(secret.as_bytes())
                    .finalize(),
            )?,
            None => Key::generate()?,
        };
        Ok(Self {
            given: given.map(str::to_owned),
            master,
        })
    }

    /// Whether the key is random (no `--secret-key`): sessions end at restart.
    pub fn is_random(&self) -> bool {
        self.given.is_none()
    }

    /// `--secret-key` exactly as given, for backends that must derive keys the way another
    /// framework does (Flask's `SECRET_KEY`).
    pub fn given(&self) -> Option<&str> {
        self.given.as_deref()
    }

    /// The master key.
    pub fn master(&self) -> &Key {
        &self.master
    }

    /// A key ring holding the master key's subkey for `purpose`, so each use of the secret
    /// (signing id cookies, signing or encrypting cookie sessions) has its own key.
    pub fn keys(&self, purpose: &str) -> KeyRing {
        KeyRing::new(self.master.derive(purpose))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("random", &self.is_random())
            .field("master", &self.master)
            .field("given", &"REDACTED")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_string_makes_a_key_even_an_empty_one() -> Result<(), KeyError> {
        for secret in [
            "",
            "x",
            "a much longer secret than thirty-two bytes, clearly",
        ] {
            let secret = Secret::new(Some(secret))?;
            assert_eq!(secret.master().as_bytes().len(), 32);
            assert!(!secret.is_random());
        }
        Ok(())
    }

    #[test]
    fn different_secrets_make_different_keys_and_random_ones_differ() -> Result<(), KeyError> {
        assert_ne!(
            Secret::new(Some("a"))?.master(),
            Secret::new(Some("b"))?.master()
        );
        assert_ne!(Secret::new(None)?.master(), Secret::new(None)?.master());
        Ok(())
    }
}
