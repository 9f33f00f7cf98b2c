//! The conformance kit against `FlaskSessionFileStore` (Flask-Session's filesystem
//! sessions), on real directories.
//!
//! Run: every backend check, and the record-store checks that hold for a store whose
//! records are Flask's dicts. Not run, on purpose:
//! - the record-store checks that compare a loaded record with the stored one field by
//!   field, or save with explicit version numbers: this mode keeps no timestamps but the
//!   expiry header (whole seconds) and versions records by a fingerprint of their pickle
//!   (`round_trip_every_json_type`, `create_refuses_a_colliding_key`,
//!   `compare_and_swap_refuses_stale_versions`, `save_of_a_missing_record_is_a_conflict`,
//!   `change_key_is_atomic`, `touch_extends_expiry_without_rewriting_data`,
//!   `expired_records_are_never_returned`); `tests/flask_store.rs` checks the same rules
//!   in this mode's terms;
//! - `ids_are_stored_hashed`: the storage key is the raw sid by design (files are named by
//!   a digest of `session:` + sid, as Flask-Session names them); `tests/flask_store.rs`
//!   checks that no sid is ever at rest.
//!
//! The idle- and absolute-timeout checks run against stores built for those timeouts, as
//! this mode requires: it reconstructs last activity from the expiry header and the
//! configured window, and records the creation time (`_rs_created`) only when an absolute
//! timeout is configured. The kit's checks use 20-minute timeouts, so the stores are
//! built for 20 minutes too.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use session_conformance::{backend, record_store, BackendHarness, StoreHarness};
use session_core::store::ServerSide;
use session_core::SessionConfig;
use session_files::FlaskSessionFileStore;

struct FlaskHarness {
    dir: tempfile::TempDir,
    dirs: AtomicUsize,
    config: SessionConfig,
}

impl FlaskHarness {
    fn new(config: SessionConfig) -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temp dir"),
            dirs: AtomicUsize::new(0),
            config,
        }
    }

    async fn open(&self) -> FlaskSessionFileStore {
        let n = self.dirs.fetch_add(1, Ordering::Relaxed);
        FlaskSessionFileStore::open(
            self.dir.path().join(format!("flask_session-{n}")),
            &self.config,
        )
        .await
        .expect("a new directory opens")
    }
}

#[async_trait]
impl StoreHarness for FlaskHarness {
    type Store = FlaskSessionFileStore;

    async fn store(&self) -> FlaskSessionFileStore {
        self.open().await
    }

    async fn dump(&self, store: &FlaskSessionFileStore) -> Vec<u8> {
        common::dump(store.dir())
    }

    async fn broken_store(&self) -> Option<FlaskSessionFileStore> {
        let store = self.open().await;
        std::fs::remove_dir_all(store.dir()).expect("remove the directory");
        Some(store)
    }
}

#[async_trait]
impl BackendHarness for FlaskHarness {
    type Backend = ServerSide<FlaskSessionFileStore>;

    async fn backend(&self) -> Self::Backend {
        self.open().await.backend()
    }

    async fn second_process(&self, first: &Self::Backend) -> Self::Backend {
        FlaskSessionFileStore::open(first.store().dir(), &self.config)
            .await
            .expect("the directory opens twice")
            .backend()
    }

    fn config(&self) -> SessionConfig {
        self.config.clone()
    }
}

macro_rules! checks {
    ($module:ident: $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                $module::$check(&FlaskHarness::new(SessionConfig::default())).await;
            }
        )*
    };
}

mod backend_checks {
    use super::*;

    checks!(backend:
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
}

mod record_store_checks {
    use super::*;

    checks!(record_store:
        missing_key_loads_none,
        delete_removes_the_record,
        delete_expired_removes_exactly_the_expired,
        concurrent_updates_all_survive,
        store_errors_surface_as_errors,
    );
}
