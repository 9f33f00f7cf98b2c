//! The purpose label of every key the workspace derives from the app's keys.
//!
//! One secret becomes several keys, one per job, each [`Key::derive`](super::Key::derive)d
//! under one of these labels, so no key material is used for two purposes and an Axum and
//! a Rocket service given the same secret derive the same keys. Backends outside this
//! crate take their labels from here, never spell their own.
//!
//! # Examples
//!
//! ```
//! use session_core::keys::{purpose, Key};
//!
//! let master = Key::try_from_secret("one secret for every key, 32 bytes or more")?;
//! assert_ne!(master.derive(purpose::ID_COOKIE), master.derive(purpose::COOKIE_SIGNING));
//! # Ok::<(), session_core::keys::KeyError>(())
//! ```

/// Signs the id cookies of server-side sessions
/// ([`ServerSide`](crate::store::ServerSide)), so a forged id is refused before any
/// store lookup.
pub const ID_COOKIE: &str = "session-core/id-cookie";

/// Signs client-side session cookies (`session-cookie`'s `CookieBackend`).
pub const COOKIE_SIGNING: &str = "session-cookie/sign";

/// Encrypts client-side session cookies with AES-256-GCM (`CookieBackend` with
/// encryption on).
pub const COOKIE_ENCRYPTION: &str = "session-cookie/encrypt";
