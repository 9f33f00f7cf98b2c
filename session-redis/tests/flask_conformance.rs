//! The conformance kit's backend checks against `FlaskSessionStore` (Flask-Session's
//! records) on the real Redis.
//!
//! Not run here, on purpose:
//! - the record-store checks: they hand the store hashed keys and explicit version
//!   numbers, while this mode is keyed by raw sids and versions by content fingerprints
//!   (a hashed key names `<prefix><64 hex digits>`, a sid like any other, see
//!   `hashed_keys_name_no_flask_record`);
//!
//! The idle- and absolute-timeout checks run against stores built for those timeouts, as
//! this mode requires: it reconstructs last activity from the TTL and the configured
//! window, and records the creation time (`_rs_created`) only when an absolute timeout is
//! configured. The kit's checks use 20-minute timeouts on a manual clock, so the stores
//! are built for 20 minutes too.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_conformance::{backend, index, BackendHarness};
use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{RecordStore, ServerSide, SessionId, StorageKey};
use session_core::SessionConfig;
use session_redis::FlaskSessionStore;

use crate::common::{flask_store, unique_prefix, Cleanup};

struct FlaskHarness {
    config: SessionConfig,
    cleanup: Cleanup,
}

impl FlaskHarness {
    fn new(config: SessionConfig) -> Self {
        Self {
            config,
            cleanup: Cleanup::default(),
        }
    }
}

#[async_trait]
impl BackendHarness for FlaskHarness {
    type Backend = ServerSide<FlaskSessionStore>;

    async fn backend(&self) -> Self::Backend {
        let prefix = unique_prefix("flask-backend");
        self.cleanup.track(&prefix);
        flask_store(&prefix, &self.config).await.backend()
    }

    async fn second_process(&self, first: &Self::Backend) -> Self::Backend {
        flask_store(first.store().prefix(), &self.config)
            .await
            .backend()
    }

    fn config(&self) -> SessionConfig {
        self.config.clone()
    }

    fn expires_natively(&self) -> bool {
        true
    }

    /// The cookie is the sid; its key is the prefix and the sid, as Flask-Session's.
    async fn native_deadline(&self, backend: &Self::Backend, cookie: &str) -> Option<Timestamp> {
        let key = StorageKey::raw_for_flask_session_compat(&SessionId::parse(cookie).ok()?);
        common::native_deadline(&backend.store().redis_key(&key))
    }
}

macro_rules! flask_checks {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                backend::$check(&FlaskHarness::new(SessionConfig::default())).await;
            }
        )*
    };
}

flask_checks!(
    round_trip_every_json_type,
    bad_cookies_are_anonymous,
    untouched_sessions_write_nothing,
    regenerate_changes_the_cookie_and_keeps_data,
    destroy_removes_the_session,
    writes_after_destroy_start_a_new_session,
    flashes_are_shown_once,
    permanent_sessions_get_persistent_cookies,
    concurrent_updates,
    oversized_writes_are_refused,
);

/// This mode keeps no per-user index (a Flask app writing the same records would not keep
/// it up): it says so, and refuses to tie or list sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn declares_no_per_user_index() {
    let harness = FlaskHarness::new(SessionConfig::default());
    assert!(!harness.backend().await.store().indexes_principals());
    index::per_user_index_matches_the_declaration(&harness).await;
}

/// The timeout the kit's timeout checks configure.
const KIT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_timeout_expires_idle_sessions() {
    let config = SessionConfig::default().with_idle_timeout(KIT_TIMEOUT);
    backend::idle_timeout_expires_idle_sessions(&FlaskHarness::new(config)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn absolute_timeout_ends_active_sessions() {
    let config = SessionConfig::default().with_absolute_timeout(KIT_TIMEOUT);
    backend::absolute_timeout_ends_active_sessions(&FlaskHarness::new(config)).await;
}

/// A hashed storage key handed to the store directly is a sid like any other (a cookie of
/// 64 hex digits reaches the store the same way, and must be an anonymous visitor, not an
/// error): it names no Flask-Session record, and never a `RedisStore` one.
#[tokio::test(flavor = "multi_thread")]
async fn hashed_keys_name_no_flask_record() {
    let harness = FlaskHarness::new(SessionConfig::default());
    let prefix = unique_prefix("flask-hashed");
    harness.cleanup.track(&prefix);
    let store = Arc::new(flask_store(&prefix, &harness.config).await);
    let key = StorageKey::hashed(&SessionId::generate().unwrap());
    assert_eq!(store.redis_key(&key), format!("{prefix}{}", key.as_str()));
    let now = ManualClock::starting_now().now();
    assert_eq!(store.load(&key, now).await.unwrap(), None);
}
