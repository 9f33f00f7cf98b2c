//! [`LaunchError`]: why [`SessionFairing`](crate::SessionFairing) aborted launch.

use std::error::Error as StdError;

use session_core::{BoxError, ConfigError, KeyError};

/// Why [`SessionFairing`](crate::SessionFairing) aborted Rocket's launch at ignition.
///
/// The fairing logs it (with its causes) and fails, and Rocket then refuses to launch
/// naming the fairing, as `rocket_db_pools` does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The `sessions` table of Rocket's configuration is malformed or has an unknown key.
    #[error("invalid `sessions` table in Rocket's configuration (Rocket.toml or ROCKET_SESSIONS)")]
    Settings(#[source] Box<rocket::figment::Error>),
    /// A duration setting is not a positive number of seconds.
    #[error("`sessions.{setting}` must be a number of seconds greater than zero, not {value}")]
    Duration {
        /// The setting.
        setting: &'static str,
        /// What it was set to.
        value: f64,
    },
    /// A secret key could not be used (too short) or a random one could not be drawn.
    #[error("could not make the session keys from `sessions.secret_key`")]
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
    /// The settings cannot work together (an invalid cookie name, `SameSite=None` without
    /// `Secure`...).
    #[error("invalid session settings")]
    Config(#[from] ConfigError),
    /// The store could not be set up or reached.
    #[error("could not set up the session store (is it running and reachable?)")]
    Connect(#[source] BoxError),
    /// The fairing was already ignited once (it is attached to one Rocket instance).
    #[error("this `SessionFairing` was already used; attach a new one to each Rocket instance")]
    AlreadyUsed,
}

/// `error` and its causes on one line, each cause once.
pub(crate) fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
