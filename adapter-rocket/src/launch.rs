//! [`LaunchError`]: why [`SessionFairing`](crate::SessionFairing) aborted launch.

use session_core::keys::KeyError;
use session_core::store::BoxError;
use session_core::{ConfigError, SettingsError};

/// Why [`SessionFairing`](crate::SessionFairing) aborted Rocket's launch at ignition.
///
/// The fairing logs it (with its causes, through
/// [`error_chain`](session_core::adapter::error_chain)) and fails, and Rocket then refuses
/// to launch naming the fairing, as `rocket_db_pools` does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The `sessions` table of Rocket's configuration is malformed or has an unknown key.
    #[error("invalid `sessions` table in Rocket's configuration (Rocket.toml or ROCKET_SESSIONS)")]
    Figment(#[source] Box<rocket::figment::Error>),
    /// A setting cannot be used: a duration that is not a positive number of seconds, a
    /// secret key shorter than 32 bytes, settings that cannot work together.
    #[error("invalid `sessions` settings")]
    Settings(#[from] SettingsError),
    /// A random key could not be drawn (debug profile without a secret key).
    #[error("could not draw a random session key")]
    Key(#[from] KeyError),
    /// Keys were needed outside the `debug` profile and `sessions.secret_key` is not set.
    #[error(
        "the `{profile}` profile needs `sessions.secret_key`: outside `debug`, session keys are \
         never random (sessions would end at every restart). Set at least 32 random bytes, e.g. \
         ROCKET_SESSIONS='{{secret_key=\"'$(openssl rand -base64 48)'\"}}'"
    )]
    SecretKeyRequired {
        /// The selected profile.
        profile: String,
    },
    /// The backend cannot work with the settings (a cookie backend given other keys).
    #[error("invalid session settings")]
    Config(#[from] ConfigError),
    /// The store could not be set up or reached.
    #[error("could not set up the session store (is it running and reachable?)")]
    Connect(#[source] BoxError),
    /// The fairing was already ignited once (it is attached to one Rocket instance).
    #[error("this `SessionFairing` was already used; attach a new one to each Rocket instance")]
    AlreadyUsed,
}
