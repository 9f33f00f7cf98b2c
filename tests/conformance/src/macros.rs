//! Macros that expand the checks into `#[tokio::test]`s.

/// Expands every [`record_store`](crate::record_store) check into a
/// `#[tokio::test(flavor = "multi_thread")]`, building the harness from `$harness` in each.
///
/// ```
/// session_conformance::record_store_tests!(session_conformance::MemoryHarness);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! record_store_tests {
    ($harness:expr) => {
        $crate::__checks!($harness, record_store: [
            round_trip_every_json_type,
            missing_key_loads_none,
            create_refuses_a_colliding_key,
            compare_and_swap_refuses_stale_versions,
            save_of_a_missing_record_is_a_conflict,
            change_key_is_atomic,
            delete_removes_the_record,
            touch_extends_expiry_without_rewriting_data,
            expired_records_are_never_returned,
            delete_expired_removes_exactly_the_expired,
            ids_are_stored_hashed,
            concurrent_updates_all_survive,
            store_errors_surface_as_errors,
            principal_index_follows_every_write,
        ]);
    };
}

/// Expands every [`backend`](crate::backend) and [`index`](crate::index) check into a
/// `#[tokio::test(flavor = "multi_thread")]`, building the harness from `$harness` in each.
///
/// ```
/// session_conformance::backend_tests!(session_conformance::MemoryBackendHarness);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($harness:expr) => {
        $crate::__checks!($harness, backend: [
            round_trip_every_json_type,
            bad_cookies_are_anonymous,
            untouched_sessions_write_nothing,
            regenerate_changes_the_cookie_and_keeps_data,
            destroy_removes_the_session,
            writes_after_destroy_start_a_new_session,
            flashes_are_shown_once,
            permanent_sessions_get_persistent_cookies,
            idle_timeout_expires_idle_sessions,
            absolute_timeout_ends_active_sessions,
            concurrent_updates,
            committed_answers_are_each_requests_own,
            oversized_writes_are_refused,
        ]);
        $crate::__checks!($harness, index: [
            per_user_index_matches_the_declaration,
            a_principal_lists_its_sessions,
            revoke_one_others_and_all,
            the_cap_ends_the_least_recently_active,
            expired_sessions_leave_the_list,
            regeneration_keeps_the_tie,
            revocation_reaches_every_process,
            racing_logins_and_revocations_lose_nothing,
        ]);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __checks {
    ($harness:expr, $module:ident: [$($check:ident),* $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                $crate::$module::$check(&$harness).await;
            }
        )*
    };
}
