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
}

/// The user name to log in as: the submitted value exactly as given (`/show` answers it
/// byte for byte), unless it is missing, empty or only whitespace.
///
/// # Errors
///
/// [`InvalidUsername`] for a missing field or a blank value.
///
/// # Examples
///
/// ```
/// use demo_support::{username, InvalidUsername};
///
/// assert_eq!(username(Some(" ada ")), Ok(" ada "));
/// assert_eq!(username(Some(" \t\n")), Err(InvalidUsername::Empty));
/// assert_eq!(username(None), Err(InvalidUsername::Missing));
/// ```
pub fn username(submitted: Option<&str>) -> Result<&str, InvalidUsername> {
    match submitted {
        None => Err(InvalidUsername::Missing),
        Some(name) if name.trim().is_empty() => Err(InvalidUsername::Empty),
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
