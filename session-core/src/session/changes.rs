//! The writes one request made, kept in order so they can be replayed on fresher data.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::store::Record;
use crate::SessionError;

/// The session key Flask keeps flash messages under.
pub(crate) const FLASHES_KEY: &str = "_flashes";
/// The session key [`Session::remember_for`](crate::Session::remember_for) keeps its idle
/// window under, in milliseconds.
pub(crate) const REMEMBER_KEY: &str = "_remember_for";

/// A read-modify-write kept as code, so it can run again on the latest value.
pub(crate) type UpdateFn = Arc<dyn Fn(Option<&Value>) -> Result<Value, SessionError> + Send + Sync>;

/// One write to a session.
#[derive(Clone)]
pub(crate) enum Change {
    Insert(String, Value),
    Remove(String),
    Clear,
    Update(String, UpdateFn),
    PushFlash(Value),
    /// Removes the first `n` flashes: the ones this request read, not ones another request
    /// added meanwhile.
    DrainFlashes(usize),
    SetPermanent(bool),
}

/// What a change displaced, so a write that breaks a size limit can be taken back.
pub(crate) enum Undo {
    Key(String, Option<Value>),
    All(Map<String, Value>),
    Permanent(bool),
}

impl Change {
    /// Applies the change to `record`, returning how to undo it.
    pub(crate) fn apply(&self, record: &mut Record) -> Result<Undo, SessionError> {
        let data = &mut record.data;
        Ok(match self {
            Self::Insert(key, value) => {
                Undo::Key(key.clone(), data.insert(key.clone(), value.clone()))
            }
            Self::Remove(key) => Undo::Key(key.clone(), data.remove(key)),
            Self::Clear => Undo::All(std::mem::take(data)),
            Self::Update(key, update) => {
                let new = update(data.get(key))?;
                Undo::Key(key.clone(), data.insert(key.clone(), new))
            }
            Self::PushFlash(flash) => {
                let old = data.get(FLASHES_KEY).cloned();
                match data.get_mut(FLASHES_KEY) {
                    Some(Value::Array(flashes)) => flashes.push(flash.clone()),
                    // Anything else under `_flashes` is not ours to keep: start a list.
                    _ => {
                        data.insert(FLASHES_KEY.to_owned(), Value::Array(vec![flash.clone()]));
                    }
                }
                Undo::Key(FLASHES_KEY.to_owned(), old)
            }
            Self::DrainFlashes(count) => {
                let old = data.get(FLASHES_KEY).cloned();
                if let Some(Value::Array(flashes)) = data.get_mut(FLASHES_KEY) {
                    flashes.drain(..(*count).min(flashes.len()));
                    if flashes.is_empty() {
                        data.remove(FLASHES_KEY);
                    }
                }
                Undo::Key(FLASHES_KEY.to_owned(), old)
            }
            Self::SetPermanent(permanent) => {
                Undo::Permanent(std::mem::replace(&mut record.permanent, *permanent))
            }
        })
    }

    fn describe(&self) -> String {
        match self {
            Self::Insert(key, _) => format!("insert {key:?}"),
            Self::Remove(key) => format!("remove {key:?}"),
            Self::Clear => "clear".to_owned(),
            Self::Update(key, _) => format!("update {key:?}"),
            Self::PushFlash(_) => "flash".to_owned(),
            Self::DrainFlashes(n) => format!("take {n} flashes"),
            Self::SetPermanent(p) => format!("set permanent {p}"),
        }
    }
}

impl Undo {
    pub(crate) fn revert(self, record: &mut Record) {
        match self {
            Self::Key(key, Some(old)) => {
                record.data.insert(key, old);
            }
            Self::Key(key, None) => {
                record.data.remove(&key);
            }
            Self::All(old) => record.data = old,
            Self::Permanent(old) => record.permanent = old,
        }
    }
}

/// The writes a request made to its session, in order.
///
/// Backends replay them with [`ChangeSet::apply_to`] on the latest stored record when a
/// compare-and-swap save finds that another process changed the session meanwhile: writes
/// to different keys merge, and [`Session::update`](crate::Session::update) closures run
/// again on the fresh value, so no write is lost.
#[derive(Clone, Default)]
pub struct ChangeSet {
    changes: Vec<Change>,
}

impl ChangeSet {
    /// Whether the request wrote nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many writes the request made.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Replays every write, in order, on `record`.
    ///
    /// # Errors
    ///
    /// [`SessionError::WrongType`] when an `update` closure finds a value of the wrong type
    /// in the fresher record.
    pub fn apply_to(&self, record: &mut Record) -> Result<(), SessionError> {
        for change in &self.changes {
            change.apply(record)?;
        }
        Ok(())
    }

    /// Whether the request tied the session to a principal
    /// ([`Session::set_principal`](crate::Session::set_principal)): the save that enforces
    /// the cap on a principal's sessions.
    pub fn ties_principal(&self) -> bool {
        self.changes
            .iter()
            .any(|change| matches!(change, Change::Insert(key, _) if key == super::PRINCIPAL_KEY))
    }

    pub(crate) fn push(&mut self, change: Change) {
        self.changes.push(change);
    }
}

impl fmt::Debug for ChangeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.changes.iter().map(Change::describe))
            .finish()
    }
}
