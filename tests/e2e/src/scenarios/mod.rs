//! One public async function per scenario of the demo contract, each taking the
//! [`DemoSpec`] to run against and panicking, as an assertion does, when the demo breaks
//! the contract. [`e2e_suite!`](crate::e2e_suite) turns them into `#[tokio::test]`s.
//!
//! A scenario a backend cannot meet by nature follows the backend's
//! [`Capabilities`](crate::Capabilities) and asserts the declared behaviour instead:
//! a cookie backend must show that a replayed cookie still works after logout, the memory
//! backend that a restart forgets everyone. Nothing is skipped.

mod devices;
mod empty;
mod expiry;
mod identity;
mod limits;
mod login;
mod processes;
mod races;
mod raw_cookie;
mod remember;
mod wrong_types;

pub use self::devices::{
    max_sessions_per_user_evicts_the_least_recently_active, revocation_reaches_the_other_process,
    revoking_ends_the_other_browser, sessions_are_listed_per_user,
};
pub use self::empty::a_shown_flash_leaves_no_session;
pub use self::expiry::{
    absolute_timeout_ends_active_sessions, idle_timeout_expires_idle_sessions,
    lifetime_makes_cookies_persistent,
};
pub use self::identity::{
    bad_cookies_are_anonymous, data_from_before_login_survives, login_regenerates_the_id,
    logout_ends_the_session, replayed_cookie_after_logout, strict_mode_issues_a_new_id,
};
pub use self::limits::{concurrent_counters_lose_nothing, oversized_sessions_are_refused};
pub use self::login::{
    anonymous_visitor, empty_usernames_are_refused, flash_is_shown_once,
    insecure_cookie_drops_secure, login_sets_the_session_cookie, show_is_byte_exact,
};
pub use self::processes::{
    database_url_forms, restart_keeps_logins, two_processes_share_one_store,
};
pub use self::races::writes_racing_a_login_are_counted_or_refused;
pub use self::raw_cookie::{
    a_non_utf8_cookie_keeps_the_login, a_utf8_accent_in_another_cookie_keeps_the_login,
};
pub use self::remember::{
    logins_without_remember_me_end_with_the_browser, permanent_cookies_end_with_the_idle_timeout,
    remember_me_is_capped_by_the_absolute_timeout,
};
pub use self::wrong_types::{
    a_number_as_user_name_is_not_a_server_error, a_text_counter_is_a_client_error,
};

use crate::{Demo, DemoConfig, DemoSpec, Reply, SetCookie, Visitor, SESSION_COOKIE};

/// The user most scenarios log in as.
const NAME: &str = "ada";
/// The key the "cookie from elsewhere" demos sign with when the backend keeps sessions in
/// the cookie (a cookie signed with the same key would simply be valid there).
const OTHER_SECRET_KEY: &str = "another deployment's key, unrelated to the suite's";

/// A fresh configuration for `spec`, or a panic saying why there is none.
fn config(spec: &DemoSpec) -> DemoConfig {
    DemoConfig::new(spec).unwrap()
}

/// Starts the demo and a visitor with an empty jar.
async fn start(config: &DemoConfig) -> (Demo, Visitor) {
    let demo = config.start().await.unwrap();
    let visitor = Visitor::new(&demo).unwrap();
    (demo, visitor)
}

/// Logs in as `name` and checks the answer is the contract's 303 to `/` with a session
/// cookie; returns the answer.
async fn login(visitor: &mut Visitor, name: &str) -> Reply {
    login_with(visitor, &[("username", name)]).await
}

/// Logs in with the form `fields` (`username` among them) and checks the answer as
/// [`login`] does.
async fn login_with(visitor: &mut Visitor, fields: &[(&str, &str)]) -> Reply {
    let name = fields
        .iter()
        .find(|(field, _)| *field == "username")
        .map_or("", |(_, value)| *value);
    let reply = visitor.post_form("/login", fields).await.unwrap();
    assert_eq!(
        reply.status,
        303,
        "POST /login as {name:?}: expected 303 to /, got {}",
        reply.summary()
    );
    assert_eq!(
        reply.location(),
        Some("/"),
        "POST /login: Location must be `/`; {}",
        reply.summary()
    );
    let cookie = session_cookie(&reply, "POST /login");
    assert!(
        !cookie.is_removal(),
        "POST /login sent a removal cookie: {}",
        cookie.raw
    );
    reply
}

/// The `session` cookie the reply must carry.
fn session_cookie<'r>(reply: &'r Reply, what: &str) -> &'r SetCookie {
    match reply.cookie(SESSION_COOKIE) {
        Some(cookie) => cookie,
        None => panic!(
            "{what}: expected a `{SESSION_COOKIE}` cookie, got {}",
            reply.summary()
        ),
    }
}

/// `GET /show` answers `name`, byte for byte.
async fn assert_logged_in(visitor: &mut Visitor, name: &str, context: &str) {
    let reply = visitor.get("/show").await.unwrap();
    assert_eq!(
        (reply.status, reply.body.as_slice()),
        (200, name.as_bytes()),
        "{context}: GET /show should answer 200 {name:?}; got {}",
        reply.summary()
    );
}

/// `GET /show` is 401 and `/` says "You are not logged in": an anonymous visitor.
async fn assert_anonymous(visitor: &mut Visitor, context: &str) {
    let show = visitor.get("/show").await.unwrap();
    assert_eq!(
        show.status,
        401,
        "{context}: GET /show should be 401 (anonymous); got {}",
        show.summary()
    );
    let index = visitor.get("/").await.unwrap();
    assert_eq!(
        index.status,
        200,
        "{context}: GET / should be 200; got {}",
        index.summary()
    );
    assert!(
        index.text().contains("You are not logged in"),
        "{context}: GET / should say `You are not logged in`; got {}",
        index.summary()
    );
}

/// `POST /counter` answers 200 and the new value.
async fn count(visitor: &mut Visitor, context: &str) -> u64 {
    let reply = visitor.post("/counter").await.unwrap();
    counter_value(&reply, context)
}

fn counter_value(reply: &Reply, context: &str) -> u64 {
    assert_eq!(
        reply.status,
        200,
        "{context}: POST /counter should be 200; got {}",
        reply.summary()
    );
    match reply.text().trim().parse() {
        Ok(value) => value,
        Err(_) => panic!(
            "{context}: POST /counter should answer an integer; got {}",
            reply.summary()
        ),
    }
}

/// A well-formed, correctly signed session cookie that `config`'s store never issued,
/// logged in as "mallory": from a second demo on a separate store with the same key
/// (server-side backends), or with another key (cookie backends, where the same key would
/// make it valid). The second demo is stopped before this returns.
async fn cookie_from_elsewhere(config: &DemoConfig) -> String {
    let other = if config.spec().backend.capabilities().server_side_revocation {
        config.other_store()
    } else {
        config.other_store().with_secret_key(OTHER_SECRET_KEY)
    };
    let (_demo, mut visitor) = start(&other).await;
    login(&mut visitor, "mallory").await;
    assert_logged_in(&mut visitor, "mallory", "the other demo").await;
    visitor.session_cookie().unwrap_or_default().to_owned()
}
