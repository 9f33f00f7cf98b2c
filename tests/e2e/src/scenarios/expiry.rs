//! Idle and absolute timeouts, permanent sessions. These scenarios sleep (a few seconds
//! each) but never assert how long anything took: each check is made only once enough
//! time has surely passed, measured from the moment the demo could last have seen the
//! session active.

use std::time::{Duration, Instant};

use cookie::time::OffsetDateTime;

use super::{assert_anonymous, assert_logged_in, config, login, session_cookie, start, NAME};
use crate::DemoSpec;

/// `--idle-timeout 2`: reading the session once a second keeps it alive for 4 s (each
/// read counts as activity, renewed at least every quarter of the timeout); 3 s of
/// silence then end it.
pub async fn idle_timeout_expires_idle_sessions(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec).idle_timeout(2)).await;
    login(&mut visitor, NAME).await;
    for second in 1..=4 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_logged_in(
            &mut visitor,
            NAME,
            &format!("--idle-timeout 2, read every second, read {second}: activity must keep the session alive"),
        )
        .await;
    }
    // The last read's answer has arrived, so the demo saw no activity after this point.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_anonymous(
        &mut visitor,
        "--idle-timeout 2, after 3 s without a request",
    )
    .await;
}

/// `--absolute-timeout 3`: the session ends 3 s after login however active it stays.
pub async fn absolute_timeout_ends_active_sessions(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec).absolute_timeout(3)).await;
    // The session was created after the login was sent and before its answer arrived.
    let created_after = Instant::now();
    login(&mut visitor, NAME).await;
    let created_by = Instant::now();
    assert_logged_in(
        &mut visitor,
        NAME,
        "--absolute-timeout 3, right after login",
    )
    .await;
    // Keep it active, half a second apart, until it is surely past its 3 s (bounded: at
    // most 12 requests).
    let mut requests = 0;
    while created_by.elapsed() < Duration::from_millis(3500) && requests < 12 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let reply = visitor.get("/show").await.unwrap();
        requests += 1;
        // Answered less than 3 s after the login was sent, so surely before the session's
        // deadline: it must still be the visitor's. Later answers may be either, but
        // never anything but "logged in" or "anonymous".
        let surely_live = created_after.elapsed() < Duration::from_secs(3);
        let answer = (reply.status, reply.body.as_slice());
        if surely_live {
            assert_eq!(
                answer,
                (200, NAME.as_bytes()),
                "--absolute-timeout 3, request {requests} within 3 s of login: GET /show should \
                 answer 200 {NAME:?}; got {}",
                reply.summary()
            );
        } else {
            assert!(
                answer == (200, NAME.as_bytes()) || reply.status == 401,
                "--absolute-timeout 3, request {requests}: GET /show should answer 200 {NAME:?} \
                 or 401; got {}",
                reply.summary()
            );
        }
    }
    tokio::time::sleep(Duration::from_millis(3500).saturating_sub(created_by.elapsed())).await;
    assert_anonymous(
        &mut visitor,
        "--absolute-timeout 3, more than 3 s after login despite activity",
    )
    .await;
}

/// `--lifetime 3600`: the login cookie carries `Max-Age`/`Expires` of now + 3600 s, and
/// saving the session renews it.
pub async fn lifetime_makes_cookies_persistent(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec).lifetime(3600)).await;
    let reply = login(&mut visitor, NAME).await;
    check_persistent(
        session_cookie(&reply, "POST /login with --lifetime 3600"),
        "POST /login",
    );
    let counted = visitor.post("/counter").await.unwrap();
    assert_eq!(counted.status, 200, "POST /counter: {}", counted.summary());
    check_persistent(
        session_cookie(
            &counted,
            "POST /counter with --lifetime 3600 (saving renews the cookie)",
        ),
        "POST /counter",
    );
    assert_logged_in(&mut visitor, NAME, "with --lifetime 3600").await;
}

fn check_persistent(cookie: &crate::SetCookie, what: &str) {
    assert!(
        cookie.is_persistent(),
        "{what}: with --lifetime 3600 the cookie needs Max-Age or Expires: {}",
        cookie.raw
    );
    if let Some(age) = cookie.max_age {
        assert!(
            (3500..=3600).contains(&age),
            "{what}: Max-Age should be 3600, is {age}: {}",
            cookie.raw
        );
    }
    if let Some(expires) = cookie.expires {
        let from_now = expires - OffsetDateTime::now_utc().unix_timestamp();
        assert!(
            (3500..=3700).contains(&from_now),
            "{what}: Expires should be in 3600 s, is in {from_now} s: {}",
            cookie.raw
        );
    }
}
