//! The handler's side of the per-user index: tie a session to a principal at login, list
//! the principal's sessions, end some or all of them.

use std::sync::Arc;

use serde_json::Value;

use super::changes::Change;
use super::principal::{index_unsupported, PRINCIPAL_KEY};
use super::{to_value, Host, LiveSession, Principal, Session, SessionHandle};
use crate::backend::Revocation;
use crate::SessionError;

impl Session {
    /// Ties this session to `principal` (the user id the app logs in), so it appears in
    /// that principal's list ([`live_sessions`](Self::live_sessions)) and ends with
    /// "log out everywhere". Call it at login, after [`regenerate`](Self::regenerate);
    /// the tie survives later id changes and ends with the session (logout, expiry,
    /// revocation). [`clear`](Self::clear) unties too, as it removes every key.
    ///
    /// Kept in the session under `_principal`, as Flask-Login keeps `_user_id`. With
    /// [`SessionConfig::with_max_sessions_per_principal`](crate::SessionConfig::with_max_sessions_per_principal),
    /// the save that ties a session ends the principal's least recently active sessions
    /// beyond the cap.
    ///
    /// # Errors
    ///
    /// [`SessionError::Unsupported`] when the backend keeps no per-user index (cookie
    /// sessions, Flask-Session compatible stores); [`SessionError::InvalidPrincipal`] for
    /// a name no store could index ([`Principal::new`]); [`SessionError::TooLarge`] when
    /// the session would no longer fit.
    ///
    /// # Examples
    ///
    /// ```
    /// use session_core::{Principal, Session};
    ///
    /// let session = Session::default();
    /// session.regenerate();
    /// session.set_principal(Principal::new("ada").attach("user_agent", "curl/8"))?;
    /// assert_eq!(session.principal().map(|p| p.name().to_owned()).as_deref(), Some("ada"));
    /// # Ok::<(), session_core::SessionError>(())
    /// ```
    pub fn set_principal(&self, principal: Principal) -> Result<(), SessionError> {
        self.index_host()?;
        if let Some(reason) = principal.name_problem() {
            return Err(SessionError::InvalidPrincipal { reason });
        }
        let value: Value = to_value(PRINCIPAL_KEY, principal)?;
        self.write(Change::Insert(PRINCIPAL_KEY.to_owned(), value))
    }

    /// The principal this session is tied to, if any.
    pub fn principal(&self) -> Option<Principal> {
        let mut state = self.lock();
        state.accessed = true;
        Principal::of(&state.record)
    }

    /// The live sessions of this session's principal, most recently active first, this
    /// one marked [`current`](LiveSession::current). Empty when the session is tied to
    /// nobody. A session tied in this request is listed once it is saved
    /// ([`commit`](Self::commit)), as the list is read from the store.
    ///
    /// # Errors
    ///
    /// [`SessionError::Unsupported`] when the backend keeps no per-user index; the store's
    /// error when it fails.
    pub async fn live_sessions(&self) -> Result<Vec<LiveSession>, SessionError> {
        let (Some(host), Some(principal)) = (self.index_host()?, self.principal()) else {
            return Ok(Vec::new());
        };
        let current = self.current_handle();
        let mut sessions = host.sessions_of(principal.name()).await?;
        for session in &mut sessions {
            session.current = current.as_ref() == Some(&session.handle);
        }
        Ok(sessions)
    }

    /// Ends the principal's session named `handle`, at once and in every process sharing
    /// the store: its cookie is an anonymous visitor's from its next request on. The
    /// current session's own handle destroys this session, as [`destroy`](Self::destroy).
    /// Returns whether a session was ended; a handle of another principal's session ends
    /// nothing.
    ///
    /// # Errors
    ///
    /// As [`live_sessions`](Self::live_sessions).
    pub async fn revoke(&self, handle: &SessionHandle) -> Result<bool, SessionError> {
        self.index_host()?;
        if self.current_handle().as_ref() == Some(handle) {
            self.destroy();
            return Ok(true);
        }
        let (Some(host), Some(principal)) = (self.index_host()?, self.principal()) else {
            return Ok(false);
        };
        let which = Revocation::Handles(std::slice::from_ref(handle));
        let ended = host.revoke(principal.name(), which).await?;
        Ok(ended > 0)
    }

    /// Ends every other session of this session's principal ("sign out my other
    /// devices"); returns how many were ended.
    ///
    /// # Errors
    ///
    /// As [`live_sessions`](Self::live_sessions).
    pub async fn revoke_others(&self) -> Result<u64, SessionError> {
        let (Some(host), Some(principal)) = (self.index_host()?, self.principal()) else {
            return Ok(0);
        };
        let current = self.current_handle();
        host.revoke(principal.name(), Revocation::AllBut(current.as_ref()))
            .await
    }

    /// The request's host when it keeps the per-user index; `None` for a session that
    /// belongs to no request ([`Session::default`]), which has no other sessions.
    fn index_host(&self) -> Result<Option<Arc<dyn Host>>, SessionError> {
        match self.host() {
            Some(host) if !host.indexes_principals() => Err(index_unsupported()),
            host => Ok(host),
        }
    }

    /// Ends every session of this session's principal, this one included ("log out
    /// everywhere", or after a password change); returns how many others were ended.
    /// This session is destroyed as by [`destroy`](Self::destroy).
    ///
    /// # Errors
    ///
    /// As [`live_sessions`](Self::live_sessions); this session is destroyed only when the
    /// others were ended.
    pub async fn log_out_everywhere(&self) -> Result<u64, SessionError> {
        let ended = self.revoke_others().await?;
        self.destroy();
        Ok(ended)
    }
}
