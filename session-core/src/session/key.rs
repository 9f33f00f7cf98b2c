//! [`SessionKey`]: a session key declared once with its value's type.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Session;
use crate::SessionError;

/// A session key and the type of the value stored under it, declared once as a `const`
/// so every handler reads and writes the same type under the same name.
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use session_core::{Session, SessionKey};
///
/// #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
/// struct Cart {
///     items: Vec<String>,
/// }
///
/// const CART: SessionKey<Cart> = SessionKey::new("cart");
///
/// let session = Session::default();
/// assert_eq!(CART.get_or_default(&session)?, Cart::default());
///
/// let item = String::from("tea"); // request data moves into the closure
/// let cart = CART.update(&session, move |cart| {
///     let mut cart = cart.unwrap_or_default();
///     cart.items.push(item.clone());
///     cart
/// })?;
/// assert_eq!(cart.items, ["tea"]);
/// assert_eq!(CART.get(&session)?, Some(cart));
/// # Ok::<(), session_core::SessionError>(())
/// ```
pub struct SessionKey<T> {
    name: &'static str,
    // `fn() -> T`: the key holds no `T`, so it is `Send`, `Sync` and `Copy` whatever `T` is.
    value: PhantomData<fn() -> T>,
}

impl<T> SessionKey<T> {
    /// The key `name`, holding values of type `T`.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            value: PhantomData,
        }
    }

    /// The key's name in the session.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T: Serialize + DeserializeOwned + 'static> SessionKey<T> {
    /// The value, or `None` when there is none ([`Session::get`]).
    ///
    /// # Errors
    ///
    /// [`SessionError::WrongType`] when the stored value is not a `T`.
    pub fn get(&self, session: &Session) -> Result<Option<T>, SessionError> {
        session.get(self.name)
    }

    /// The value, or `T::default()` when there is none.
    ///
    /// # Errors
    ///
    /// [`SessionError::WrongType`] when the stored value is not a `T`.
    pub fn get_or_default(&self, session: &Session) -> Result<T, SessionError>
    where
        T: Default,
    {
        Ok(self.get(session)?.unwrap_or_default())
    }

    /// Stores `value` ([`Session::insert`]).
    ///
    /// # Errors
    ///
    /// As [`Session::insert`].
    pub fn insert(&self, session: &Session, value: T) -> Result<(), SessionError> {
        session.insert(self.name, value)
    }

    /// A read-modify-write that is never lost ([`Session::update`]).
    ///
    /// # Errors
    ///
    /// As [`Session::update`].
    pub fn update<F>(&self, session: &Session, f: F) -> Result<T, SessionError>
    where
        F: Fn(Option<T>) -> T + Send + Sync + 'static,
    {
        session.update(self.name, f)
    }

    /// A read-modify-write that answers with the value that was stored
    /// ([`Session::update_committed`]).
    ///
    /// # Errors
    ///
    /// As [`Session::update_committed`].
    pub async fn update_committed<F>(&self, session: &Session, f: F) -> Result<T, SessionError>
    where
        F: Fn(Option<T>) -> T + Send + Sync + 'static,
    {
        session.update_committed(self.name, f).await
    }

    /// Removes the value and returns it ([`Session::pop`]).
    ///
    /// # Errors
    ///
    /// As [`Session::pop`].
    pub fn pop(&self, session: &Session) -> Result<Option<T>, SessionError> {
        session.pop(self.name)
    }
}

impl<T> Clone for SessionKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SessionKey<T> {}

impl<T> fmt::Debug for SessionKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SessionKey").field(&self.name).finish()
    }
}
