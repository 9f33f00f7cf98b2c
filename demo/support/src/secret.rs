//! The demo's keys, from `--secret-key`, by the library's rule for secrets.

use std::fmt;

use session_core::keys::{Key, KeyRing};
use session_core::SettingsError;

/// The demo's secret: `--secret-key` as given (for Flask-compatible backends, which derive
/// keys the way Flask does from the string itself) and the app's [`KeyRing`] made from it
/// as `session_core::SessionSettings` makes one: every key the demo uses is derived from
/// that ring under a label of `session_core::keys::purpose`.
///
/// A given secret must be at least 32 bytes (`openssl rand -base64 48`); an empty one (an
/// unset variable in a compose file) is refused, never hashed into a key anyone who reads
/// the source could recompute. Only when no secret is given at all is a random 64-byte key
/// drawn, and every session ends when the demo restarts.
///
/// # Examples
///
/// ```
/// use demo_support::Secret;
///
/// let secret = "a demo secret, at least thirty-two bytes long";
/// assert_eq!(Secret::new(Some(secret))?.keys(), Secret::new(Some(secret))?.keys());
/// assert!(format!("{:?}", Secret::new(Some(secret))?).contains("REDACTED"));
/// assert!(Secret::new(None)?.is_random());
///
/// let short = Secret::new(Some("")).unwrap_err().to_string();
/// assert!(short.contains("openssl rand"), "{short}");
/// # Ok::<(), session_core::SettingsError>(())
/// ```
#[derive(Clone)]
pub struct Secret {
    given: Option<String>,
    keys: KeyRing,
}

impl Secret {
    /// The secret from `--secret-key`, or a random one when it is absent.
    ///
    /// # Errors
    ///
    /// [`SettingsError::Key`] when the secret is shorter than 32 bytes (or, without one,
    /// the operating system cannot supply random bytes).
    pub fn new(given: Option<&str>) -> Result<Self, SettingsError> {
        let keys = match given {
            // The library's one rule for secrets (at least 32 bytes), as `SessionSettings`
            // applies it to `SESSION_SECRET_KEY`.
            Some(secret) => KeyRing::new(Key::try_from_secret(secret)?),
            None => KeyRing::new(Key::generate()?),
        };
        Ok(Self {
            given: given.map(str::to_owned),
            keys,
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

    /// The app's key ring: what `SessionConfig::with_keys` and the cookie backend take.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("random", &self.is_random())
            .field("signing_key", &self.keys.signing())
            .field("given", &"REDACTED")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a much longer secret than thirty-two bytes, clearly";

    #[test]
    fn short_and_empty_secrets_are_refused_with_advice() {
        for short in ["", "x", &SECRET[..31]] {
            let error = Secret::new(Some(short)).err().map(|e| e.to_string());
            let error = error.unwrap_or_default();
            assert!(error.contains("openssl rand"), "{short:?}: {error}");
        }
    }

    #[test]
    fn different_secrets_make_different_keys_and_random_ones_differ() -> Result<(), SettingsError> {
        let other = "another secret, also longer than thirty-two bytes";
        assert_ne!(
            Secret::new(Some(SECRET))?.keys(),
            Secret::new(Some(other))?.keys()
        );
        assert_ne!(Secret::new(None)?.keys(), Secret::new(None)?.keys());
        Ok(())
    }
}
