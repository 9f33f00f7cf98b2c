//! Group commit: the writes of one busy session, queued behind the one in flight, stored
//! together in one compare-and-swap.
//!
//! Requests on one session in this process run one after another (`locks`). Without group
//! commit each holds the session until its write is stored, so a session many requests
//! write at once is written once per store round trip, one request at a time. With it, a
//! writer others wait for queues its write, hands the session *as written* to the next
//! request and lets it in; that one builds on it, and so on. While one write is in flight,
//! the writes queued behind it gather into a batch; when the write lands, the batch's
//! newest record is stored in one compare-and-swap against the version that write left,
//! and each request of the batch answers with its own view of the session.
//!
//! What keeps this exact:
//! - A view not stored yet is built on only while every write before it succeeds. A
//!   failed write (a conflict with another process, a store error, a cancelled request)
//!   starts a new *epoch*: views of the old one are never stored; their requests reload
//!   the session and replay their own changes, as a save racing another process does.
//! - A batch only takes a view built on its own newest one, so no request's changes can
//!   be stored over by a view that lacks them.
//! - A request that only read a view not stored yet answers once that view is stored, and
//!   fails if it never is: no handler shows data that was not kept.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use super::locks::SessionRef;
use crate::store::Record;

/// One session's group writes in this process.
#[derive(Default)]
pub(crate) struct WriteQueue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    /// A write is on its way to the store; new writes join `next`.
    in_flight: bool,
    /// Writes waiting for the one in flight.
    next: Option<Batch>,
    /// Bumped by every failed or abandoned write: views of an older epoch are never stored.
    epoch: u64,
    /// The version of the newest view in the chain: what the next view must be built on.
    tip: u64,
    /// The newest version a write of this epoch stored.
    stored: u64,
    /// Readers waiting for a write to land.
    watchers: Vec<oneshot::Sender<()>>,
}

/// Writes gathered behind the one in flight: the newest view and who waits for it.
pub(crate) struct Batch {
    /// The version the store must hold for the batch to be stored.
    pub(crate) expected: u64,
    /// The newest view: every other member's changes are in it.
    pub(crate) record: Record,
    members: Vec<oneshot::Sender<Turn>>,
}

/// What a queued writer is told.
pub(crate) enum Turn {
    /// Its view is stored.
    Stored,
    /// The write before finished: it now writes the batch it is in.
    Lead(Lease, Batch),
    /// Its view will not be stored: reload and replay its own changes.
    Replay,
}

/// A writer's place in the queue, and the epoch its view belongs to (what it hands on).
pub(crate) struct Joined {
    pub(crate) epoch: u64,
    pub(crate) place: Place,
}

/// Where a queued writer stands.
pub(crate) enum Place {
    /// Nothing was in flight: it writes its view now, holding the lease.
    Lead(Lease),
    /// Queued behind the write in flight: it waits for its turn.
    Wait(oneshot::Receiver<Turn>),
}

impl WriteQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // Every critical section leaves the state whole: poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether views of `epoch` are still on their way to the store (a write of that
    /// epoch is in flight).
    pub(crate) fn pending_in(&self, epoch: u64) -> bool {
        let state = self.lock();
        state.in_flight && state.epoch == epoch
    }
}

/// Queues `record`, a view built on version `record.version - 1`: from a view of epoch
/// `queued_in`, or from what the store holds (`None`). `None` when the view cannot join
/// (an older epoch, or not built on the newest view): it is saved alone.
pub(crate) fn join(
    session: &SessionRef,
    record: &Record,
    queued_in: Option<u64>,
) -> Option<Joined> {
    let mut state = session.writes().lock();
    let base = record.version.saturating_sub(1);
    if queued_in.is_some_and(|epoch| epoch != state.epoch) {
        return None;
    }
    let place = if !state.in_flight {
        state.in_flight = true;
        Place::Lead(Lease {
            session: session.clone_ref(),
            done: false,
        })
    } else if base == state.tip && queued_in.is_some() {
        let (sender, receiver) = oneshot::channel();
        match &mut state.next {
            Some(batch) => {
                batch.record = record.clone();
                batch.members.push(sender);
            }
            None => {
                state.next = Some(Batch {
                    expected: base,
                    record: record.clone(),
                    members: vec![sender],
                });
            }
        }
        Place::Wait(receiver)
    } else {
        return None;
    };
    state.tip = record.version;
    Some(Joined {
        epoch: state.epoch,
        place,
    })
}

/// Waits until the view of `version`, queued in `epoch`, is stored: `true`, or `false`
/// when it never will be.
pub(crate) async fn stored(session: &SessionRef, version: u64, epoch: u64) -> bool {
    watch(session, |state| {
        if state.epoch != epoch {
            Some(false)
        } else if state.stored >= version {
            Some(true)
        } else {
            (!state.in_flight).then_some(false)
        }
    })
    .await
}

/// Waits until no write of this session is in flight.
pub(crate) async fn settled(session: &SessionRef) {
    watch(session, |state| (!state.in_flight).then_some(())).await;
}

/// Looks at the queue after every write that lands until `decide` answers.
async fn watch<T>(session: &SessionRef, decide: impl Fn(&QueueState) -> Option<T>) -> T {
    loop {
        let wake = {
            let mut state = session.writes().lock();
            if let Some(answer) = decide(&state) {
                return answer;
            }
            let (sender, receiver) = oneshot::channel();
            state.watchers.push(sender);
            receiver
        };
        // Woken (or the queue dropped the sender): look again.
        let _ = wake.await;
    }
}

/// The right to write: one per session at a time. Dropped unfinished (its request was
/// cancelled mid-write), it counts as a failed write.
pub(crate) struct Lease {
    session: SessionRef,
    done: bool,
}

impl Lease {
    /// Reports the write: `stored_version` when it was stored, `None` when it failed.
    /// Hands the next batch to one of its members to write, or tells them to replay.
    pub(crate) fn finish(mut self, stored_version: Option<u64>) {
        self.done = true;
        finish(&self.session, stored_version);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.done {
            finish(&self.session, None);
        }
    }
}

fn finish(session: &SessionRef, stored_version: Option<u64>) {
    let mut state = session.writes().lock();
    let next = state.next.take();
    match (stored_version, next) {
        (Some(version), Some(batch)) => {
            state.stored = state.stored.max(version);
            if !hand_lead(session, batch) {
                // Every member of the batch is gone: its views are never stored.
                start_epoch(&mut state);
            }
        }
        (Some(version), None) => {
            state.stored = state.stored.max(version);
            state.in_flight = false;
        }
        (None, next) => {
            start_epoch(&mut state);
            if let Some(batch) = next {
                batch.answer(false);
            }
        }
    }
    for watcher in state.watchers.drain(..) {
        let _ = watcher.send(());
    }
}

fn start_epoch(state: &mut QueueState) {
    state.epoch += 1;
    state.stored = 0;
    state.in_flight = false;
}

/// Gives `batch` to its first member still waiting, with the lease; `false` when none is.
fn hand_lead(session: &SessionRef, mut batch: Batch) -> bool {
    while !batch.members.is_empty() {
        let leader = batch.members.remove(0);
        let lease = Lease {
            session: session.clone_ref(),
            done: false,
        };
        match leader.send(Turn::Lead(lease, batch)) {
            Ok(()) => return true,
            Err(refused) => {
                let Turn::Lead(mut lease, returned) = refused else {
                    unreachable!("the turn sent was a lead");
                };
                // Never used: dropping it must not report a failure (the queue is locked).
                lease.done = true;
                batch = returned;
            }
        }
    }
    false
}

impl Batch {
    /// Tells the other members their views are stored (`true`) or must be replayed.
    pub(crate) fn answer(self, stored: bool) {
        for member in self.members {
            let _ = member.send(if stored { Turn::Stored } else { Turn::Replay });
        }
    }
}
