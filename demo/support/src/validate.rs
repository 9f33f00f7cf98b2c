//! Checking what visitors submit.

/// Why a submitted user name was refused (answered with `400 Bad Request`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidUsername {
    /// The form had no `username` field.
    #[error("The form must have a `username` field.")]
    Missing,
    /// The field was empty or only whitespace.
    #[error("Please enter a user name.")]
    Empty,
    /// The name is longer than a session can be tied to
    /// ([`Principal::MAX_NAME_BYTES`](session_core::Principal::MAX_NAME_BYTES)).
    #[error("Please enter a user name of at most 1024 bytes.")]
    TooLong,
    /// The name has control characters (a NUL, a line break...).
    #[error("A user name cannot contain control characters such as line breaks.")]
    ControlCharacters,
}

/// The user name to log in as: the submitted value exactly as given (`/show` answers it
/// byte for byte), unless it is missing, empty or only whitespace, longer than a session
/// can be tied to, or has control characters.
///
/// # Errors
///
/// [`InvalidUsername`] for a missing field, a blank value, or a name the per-user index
/// could not hold.
///
/// # Examples
///
/// ```
/// use demo_support::{username, InvalidUsername};
///
/// assert_eq!(username(Some(" ada ")), Ok(" ada "));
/// assert_eq!(username(Some(" \t\n")), Err(InvalidUsername::Empty));
/// assert_eq!(username(None), Err(InvalidUsername::Missing));
/// assert_eq!(username(Some("a\nb")), Err(InvalidUsername::ControlCharacters));
/// assert_eq!(username(Some(&"a".repeat(1025))), Err(InvalidUsername::TooLong));
/// ```
pub fn username(submitted: Option<&str>) -> Result<&str, InvalidUsername> {
    match submitted {
        None => Err(InvalidUsername::Missing),
        Some(name) if name.trim().is_empty() => Err(InvalidUsername::Empty),
        Some(name) if name.len() > session_core::Principal::MAX_NAME_BYTES => {
            Err(InvalidUsername::TooLong)
        }
        Some(name) if name.chars().any(char::is_control) => Err(InvalidUsername::ControlCharacters),
        Some(name) => Ok(name),
    }
}

/// The flash message shown after logging in as `name`.
pub fn welcome(name: &str) -> String {
    format!("Welcome, {name}!")
}

/// Whether the login form asked to remember this browser: the "Remember me" checkbox,
/// which a browser submits as `remember=on` when it is ticked and leaves out otherwise.
///
/// # Examples
///
/// ```
/// use demo_support::remember_me;
///
/// assert!(remember_me(Some("on")));
/// assert!(!remember_me(None));
/// assert!(!remember_me(Some("off")));
/// ```
pub fn remember_me(submitted: Option<&str>) -> bool {
    submitted == Some("on")
}

/// Why a submitted flash message was refused (answered with `400 Bad Request`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidMessage {
    /// The form had no `message` field.
    #[error("The form must have a `message` field.")]
    Missing,
    /// The field was empty or only whitespace.
    #[error("Please enter a message.")]
    Empty,
}

/// The message to flash: the submitted value as given, unless it is missing, empty or
/// only whitespace.
///
/// # Errors
///
/// [`InvalidMessage`] for a missing field or a blank value.
///
/// # Examples
///
/// ```
/// use demo_support::{message, InvalidMessage};
///
/// assert_eq!(message(Some("See you soon")), Ok("See you soon"));
/// assert_eq!(message(Some("  ")), Err(InvalidMessage::Empty));
/// assert_eq!(message(None), Err(InvalidMessage::Missing));
/// ```
pub fn message(submitted: Option<&str>) -> Result<&str, InvalidMessage> {
    match submitted {
        None => Err(InvalidMessage::Missing),
        Some(text) if text.trim().is_empty() => Err(InvalidMessage::Empty),
        Some(text) => Ok(text),
    }
}
