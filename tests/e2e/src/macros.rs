//! The macro that expands every scenario into a `#[tokio::test]`.

/// Expands every [`scenarios`](crate::scenarios) function into a
/// `#[tokio::test(flavor = "multi_thread")]` in a module named `$name`, each starting
/// its own demo process(es) of `package`/`bin` with `--backend backend`. The crate using
/// it needs `tokio` (with `macros`) among its dev-dependencies.
///
/// ```ignore
/// session_e2e::e2e_suite!(sqlite, package = "demo-axum", bin = "demo-axum", backend = "sqlite");
/// ```
#[macro_export]
macro_rules! e2e_suite {
    ($name:ident, package = $package:expr, bin = $bin:expr, backend = $backend:expr $(,)?) => {
        mod $name {
            $crate::__e2e_scenarios!(($package, $bin, $backend) [
                anonymous_visitor,
                login_sets_the_session_cookie,
                insecure_cookie_drops_secure,
                flash_is_shown_once,
                show_is_byte_exact,
                empty_usernames_are_refused,
                logout_ends_the_session,
                login_regenerates_the_id,
                data_from_before_login_survives,
                replayed_cookie_after_logout,
                bad_cookies_are_anonymous,
                strict_mode_issues_a_new_id,
                idle_timeout_expires_idle_sessions,
                absolute_timeout_ends_active_sessions,
                lifetime_makes_cookies_persistent,
                oversized_sessions_are_refused,
                concurrent_counters_lose_nothing,
                two_processes_share_one_store,
                restart_keeps_logins,
                database_url_forms,
            ]);
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __e2e_scenarios {
    (($package:expr, $bin:expr, $backend:expr) [$($scenario:ident),* $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let spec = $crate::DemoSpec::new($package, $bin, $crate::Backend::from_flag($backend));
                $crate::scenarios::$scenario(&spec).await;
            }
        )*
    };
}
