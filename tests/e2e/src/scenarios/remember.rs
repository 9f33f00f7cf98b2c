//! "Remember me" and permanent sessions: a persistent cookie's `Max-Age` is the session's
//! real deadline when it is sent, the earliest of the idle window, the absolute timeout
//! and the lifetime. Read from the login's `Set-Cookie`: nothing waits.

use super::{assert_logged_in, config, login, login_with, session_cookie, start, NAME};
use crate::{DemoSpec, SetCookie};

/// `--idle-timeout 60 --absolute-timeout 7200 --remember-for 86400`: a login with
/// `remember=on` is permanent with a day as its idle window, so the absolute timeout
/// comes first: `Max-Age` 7200.
pub async fn remember_me_is_capped_by_the_absolute_timeout(spec: &DemoSpec) {
    let config = config(spec)
        .idle_timeout(60)
        .absolute_timeout(7200)
        .remember_for(86_400);
    let (_demo, mut visitor) = start(&config).await;
    let reply = login_with(&mut visitor, &[("username", NAME), ("remember", "on")]).await;
    let cookie = session_cookie(&reply, "POST /login with remember=on");
    assert_max_age(
        cookie,
        7200,
        "a remembered login (--remember-for 86400) under --absolute-timeout 7200",
    );
    assert_logged_in(&mut visitor, NAME, "after a remembered login").await;
}

/// `--lifetime 600 --idle-timeout 60`: sessions are permanent, and the idle timeout ends
/// them first: `Max-Age` 60, not the lifetime's 600.
pub async fn permanent_cookies_end_with_the_idle_timeout(spec: &DemoSpec) {
    let config = config(spec).lifetime(600).idle_timeout(60);
    let (_demo, mut visitor) = start(&config).await;
    let reply = login(&mut visitor, NAME).await;
    let cookie = session_cookie(&reply, "POST /login with --lifetime 600");
    assert_max_age(cookie, 60, "--lifetime 600 --idle-timeout 60");
    assert_logged_in(&mut visitor, NAME, "after login").await;
}

/// `--remember-for` alone makes nothing permanent: a login without `remember` (and no
/// `--lifetime`) gets a cookie without `Max-Age` or `Expires`, which ends with the
/// browser.
pub async fn logins_without_remember_me_end_with_the_browser(spec: &DemoSpec) {
    let config = config(spec).idle_timeout(60).remember_for(86_400);
    let (_demo, mut visitor) = start(&config).await;
    let reply = login(&mut visitor, NAME).await;
    let cookie = session_cookie(&reply, "POST /login without remember");
    assert!(
        cookie.max_age.is_none() && cookie.expires.is_none(),
        "a login without remember=on on a non-permanent configuration must send no Max-Age \
         or Expires: {}",
        cookie.raw
    );
    assert_logged_in(&mut visitor, NAME, "after login").await;
}

/// `Max-Age` is `secs`, give or take the second the request took.
fn assert_max_age(cookie: &SetCookie, secs: i64, what: &str) {
    assert!(
        cookie
            .max_age
            .is_some_and(|age| (secs - 1..=secs + 1).contains(&age)),
        "{what}: the cookie's Max-Age must be {secs} (±1), the session's deadline: {}",
        cookie.raw
    );
}
