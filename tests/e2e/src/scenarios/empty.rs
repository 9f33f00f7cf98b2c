//! Empty sessions are not kept: a session whose last value goes is deleted and its cookie
//! removed, as Flask-Session does.

use super::{config, count, session_cookie, start};
use crate::{DemoSpec, SESSION_COOKIE};

/// The message an anonymous visitor leaves with `POST /flash`.
const MESSAGE: &str = "See you on the next page";

/// An anonymous visitor's `POST /flash` makes a session holding only the message; the
/// `GET /` that shows it empties the session, so that answer removes the cookie, and a
/// server-side store forgets the session: the old cookie replayed shows nothing, and a
/// write on it gets a brand-new id (strict mode), which an empty record kept under the
/// old id would not. A cookie backend cannot forget a cookie it issued: the replay shows
/// the message again (declared).
pub async fn a_shown_flash_leaves_no_session(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    let reply = visitor
        .post_form("/flash", &[("message", MESSAGE)])
        .await
        .unwrap();
    assert_eq!(
        (reply.status, reply.location()),
        (303, Some("/")),
        "POST /flash: expected 303 to /; {}",
        reply.summary()
    );
    let flashed = session_cookie(&reply, "POST /flash").clone();
    assert!(
        !flashed.is_removal(),
        "POST /flash must store the message in a session: {}",
        flashed.raw
    );
    let mut replay = visitor.clone();

    let shown = visitor.get("/").await.unwrap();
    assert!(
        shown.status == 200 && shown.text().contains(MESSAGE),
        "GET / must show the flashed message; got {}",
        shown.summary()
    );
    let removal = session_cookie(&shown, "GET / that showed the session's only value");
    assert!(
        removal.is_removal(),
        "GET / emptied the session (its only value was the flash): it must remove the \
         cookie; got {}",
        removal.raw
    );
    assert_eq!(visitor.session_cookie(), None);
    let again = visitor.get("/").await.unwrap();
    assert!(
        !again.text().contains(MESSAGE) && again.cookie(SESSION_COOKIE).is_none(),
        "the message shows once, and an empty visit sets no cookie; got {}",
        again.summary()
    );

    let replayed = replay.get("/").await.unwrap();
    if !spec.backend.capabilities().server_side_revocation {
        assert!(
            replayed.text().contains(MESSAGE),
            "--backend {} declares unrevocable cookies: the replayed cookie still holds the \
             message; got {}",
            spec.backend,
            replayed.summary()
        );
        return;
    }
    assert!(
        !replayed.text().contains(MESSAGE) && replayed.cookie(SESSION_COOKIE).is_none(),
        "the emptied session must be gone from the store; its cookie replayed got {}",
        replayed.summary()
    );
    assert_eq!(
        count(&mut replay, "a write on the replayed cookie").await,
        1
    );
    assert!(
        replay
            .session_cookie()
            .is_some_and(|value| value != flashed.value),
        "a write on the emptied session's cookie must get a brand-new id: nothing may be \
         stored under the old one"
    );
}
