//! [`Lifecycle`]: where a session stands between load and save.

/// Where a request's session stands, as the handler left it. One value, not a set of
/// flags, so an impossible combination (renamed *and* destroyed) cannot be written down.
///
/// | from | `regenerate()` | `destroy()` |
/// |---|---|---|
/// | `New` | `New` (it gets a fresh id anyway) | `Destroyed` |
/// | `Loaded` | `Renamed` | `Destroyed` |
/// | `Renamed` | `Renamed` | `Destroyed` |
/// | `Destroyed` | `Destroyed` | `Destroyed` |
/// | `Superseded` | `Superseded` | `Superseded` |
///
/// # Examples
///
/// ```
/// use session_core::backend::Lifecycle;
///
/// assert_eq!(Lifecycle::Loaded.regenerated(), Lifecycle::Renamed);
/// assert_eq!(Lifecycle::New.regenerated(), Lifecycle::New);
/// assert!(Lifecycle::Destroyed.is_modified());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lifecycle {
    /// No stored session: a visitor without a valid cookie. Saved (under a fresh id) only
    /// if the request wrote something.
    New,
    /// The stored session the cookie named, keeping its id.
    Loaded,
    /// The stored session, to be moved to a new id at save ([`regenerate`]).
    ///
    /// [`regenerate`]: crate::Session::regenerate
    Renamed,
    /// Ended ([`destroy`]): deleted on the server, a removal cookie sent; writes made after
    /// it start a brand-new session, never the old one.
    ///
    /// [`destroy`]: crate::Session::destroy
    Destroyed,
    /// The cookie named a session that a login renamed moments ago (another request of
    /// the same browser, racing it). Reads see an empty session, writes fail with
    /// [`SessionError::Superseded`](crate::SessionError::Superseded), and nothing is
    /// saved or sent: forwarding the write to the new id would be fixation, and starting
    /// a new session would replace the login's cookie.
    Superseded,
}

impl Lifecycle {
    /// The state after `regenerate()`.
    pub fn regenerated(self) -> Self {
        match self {
            Self::Loaded => Self::Renamed,
            other => other,
        }
    }

    /// Whether the state alone (no data written) calls for a save.
    pub fn is_modified(self) -> bool {
        matches!(self, Self::Renamed | Self::Destroyed)
    }
}
