//! The macro that expands every scenario into a `#[tokio::test]`.

/// Expands every [`scenarios`](crate::scenarios) function into a
/// `#[tokio::test(flavor = "multi_thread")]` in a module named `$name`, each starting
/// its own demo process(es) of `package`/`bin` with `--backend backend`. The crate using
/// it needs `tokio` (with `macros`) among its dev-dependencies.
///
/// ```ignore
/// session_e2e::e2e_suite!(sqlite, package = "demo-axum", bin = "demo-axum", backend = "sqlite");
/// ```
///
/// The scenarios about how the framework reads raw HTTP (today: a `Cookie` header that is
/// not UTF-8) test the framework more than the demo; a framework that cannot meet them
/// says why with `raw_http = unmet("reason")`, which marks those tests `#[ignore]` with
/// the reason (`cargo test -- --ignored` still runs them, and they fail):
///
/// ```ignore
/// session_e2e::e2e_suite!(
///     sqlite, package = "demo-rocket", bin = "demo-rocket", backend = "sqlite",
///     raw_http = unmet("Rocket 0.5 drops header values that are not UTF-8"),
/// );
/// ```
#[macro_export]
macro_rules! e2e_suite {
    (
        $name:ident, package = $package:expr, bin = $bin:expr, backend = $backend:expr
        $(, raw_http = unmet($reason:literal))? $(,)?
    ) => {
        mod $name {
            $crate::__e2e_scenarios!(($package, $bin, $backend) {} [
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
                remember_me_is_capped_by_the_absolute_timeout,
                permanent_cookies_end_with_the_idle_timeout,
                logins_without_remember_me_end_with_the_browser,
                oversized_sessions_are_refused,
                concurrent_counters_lose_nothing,
                writes_racing_a_login_are_counted_or_refused,
                a_shown_flash_leaves_no_session,
                a_text_counter_is_a_client_error,
                a_number_as_user_name_is_not_a_server_error,
                two_processes_share_one_store,
                restart_keeps_logins,
                database_url_forms,
                a_utf8_accent_in_another_cookie_keeps_the_login,
                sessions_are_listed_per_user,
                revoking_ends_the_other_browser,
                max_sessions_per_user_evicts_the_least_recently_active,
                revocation_reaches_the_other_process,
            ]);
            $crate::__e2e_scenarios!(($package, $bin, $backend) { $(#[ignore = $reason])? } [
                a_non_utf8_cookie_keeps_the_login,
            ]);
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __e2e_scenarios {
    (($package:expr, $bin:expr, $backend:expr) $attributes:tt [$($scenario:ident),* $(,)?]) => {
        $(
            $crate::__e2e_scenario!(($package, $bin, $backend) $attributes $scenario);
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __e2e_scenario {
    (($package:expr, $bin:expr, $backend:expr) { $(#[$attribute:meta])* } $scenario:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[$attribute])*
        async fn $scenario() {
            let spec = $crate::DemoSpec::new($package, $bin, $crate::Backend::from_flag($backend));
            $crate::scenarios::$scenario(&spec).await;
        }
    };
}
