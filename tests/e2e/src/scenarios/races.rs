//! A write racing a login: the browser sends `POST /counter` on its pre-login cookie
//! while its `POST /login` runs.

use session_core::SessionError;

use super::{assert_logged_in, count, counter_value, login, session_cookie, start, NAME};
use crate::{DemoSpec, Reply, Visitor, SESSION_COOKIE};

/// How many login races each backend runs.
const RACES: usize = 40;

/// 40 times: an anonymous visitor counts once, then sends `POST /login` and `POST
/// /counter` at once on that cookie. The login always stands: its cookie shows the
/// user. Where the backend marks the id a login replaced, every racing write is
/// either counted (200 `2`, and the logged-in session then counts on from 2) or refused
/// (409 with the library's message): none is silently dropped, and none sends a cookie,
/// so none logs the browser out. Elsewhere (Flask-Session's records, cookies) the
/// racing write is declared unguarded: it still never fails with a 5xx.
pub async fn writes_racing_a_login_are_counted_or_refused(spec: &DemoSpec) {
    let (demo, _) = start(&super::config(spec)).await;
    let guarded = spec.backend.capabilities().refuses_writes_racing_login;
    let (mut counted, mut refused) = (0, 0);
    for race in 1..=RACES {
        let context = format!("race {race}/{RACES}");
        let mut visitor = Visitor::new(&demo).unwrap();
        assert_eq!(count(&mut visitor, &context).await, 1);
        let mut logging_in = visitor.clone();
        let mut writing = visitor.clone();
        let (login_reply, write) =
            tokio::join!(login(&mut logging_in, NAME), writing.post("/counter"));
        let write = write.unwrap();
        assert_logged_in(
            &mut logging_in,
            NAME,
            &format!("{context}: the login's cookie"),
        )
        .await;
        if !guarded {
            assert_eq!(
                write.status,
                200,
                "{context}: --backend {} declares racing writes unguarded, but they must \
                 still succeed; got {}",
                spec.backend,
                write.summary()
            );
            continue;
        }
        assert!(
            write.cookie(SESSION_COOKIE).is_none(),
            "{context}: the racing write must send no session cookie (it would replace the \
             login's {}); got {}",
            session_cookie(&login_reply, "POST /login").raw,
            write.summary()
        );
        let next = count(
            &mut logging_in,
            &format!("{context}: the logged-in session"),
        )
        .await;
        match write.status {
            200 => {
                counted += 1;
                assert_eq!(
                    counter_value(&write, &context),
                    2,
                    "{context}: the racing write counted from the pre-login 1"
                );
                assert_eq!(
                    next, 3,
                    "{context}: the racing write answered 200 `2`, so the logged-in session \
                     must hold it (the next count is 3), not drop it"
                );
            }
            409 => {
                refused += 1;
                assert_refused(&write, &context);
                assert_eq!(
                    next, 2,
                    "{context}: the refused write must not reach the logged-in session"
                );
            }
            _ => panic!(
                "{context}: a write racing a login must be counted (200) or refused (409); got {}",
                write.summary()
            ),
        }
    }
    if guarded {
        eprintln!(
            "--backend {}: {counted} racing writes counted, {refused} refused, none lost",
            spec.backend
        );
    }
}

/// A 409 with the library's message for [`SessionError::Superseded`].
fn assert_refused(reply: &Reply, context: &str) {
    let message = SessionError::Superseded.public_message();
    assert_eq!(
        reply.text(),
        message,
        "{context}: the 409 must carry the library's message; got {}",
        reply.summary()
    );
}
