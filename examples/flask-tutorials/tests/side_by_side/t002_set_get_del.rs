//! Tutorial 002 (`002_set_get_del/app.py`) and `tutorial-set-get-del`.

use crate::harness::{
    flask_refreshes_a_permanent_cookie_on_every_request, rust_answers_instead_of_a_key_error,
    session_cookie_secure_and_lax_in_rust as secure_and_lax, Server, SideBySide,
};

#[tokio::test]
async fn set_get_pop_clear_side_by_side() {
    let both = SideBySide::new(
        Server::flask("002_set_get_del/app.py", &[]).await,
        Server::rust("tutorial-set-get-del", &[]).await,
    );
    // name = session['name'] with no name: KeyError in Flask, a 404 that says so in Rust.
    let step = both.get("/get_session").await;
    step.same_cookies(secure_and_lax);
    rust_answers_instead_of_a_key_error(&step, 404, "the session has no 'name'");

    let step = both.get("/set_session").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.body, "session");
    // session.permanent = True, permanent_session_lifetime = 5 minutes.
    let lifetime = step.rust.cookie("session").unwrap().lifetime.unwrap();
    assert!((295..=300).contains(&lifetime), "{lifetime}");

    // session['name'] and session.get('haha') (None): the same answer.
    let step = both.get("/get_session").await;
    step.same_answer();
    assert_eq!(step.rust.body, "name:python");
    flask_refreshes_a_permanent_cookie_on_every_request(&step);

    // session.pop('name', None) answers the value; session.clear() empties the session,
    // whose cookie both delete.
    let step = both.get("/del_session").await;
    step.same_answer().same_cookies(secure_and_lax);
    assert_eq!(step.rust.body, "删除session python ");
    assert!(step.rust.cookie("session").unwrap().removes());

    // On an empty session: pop answers None. Flask's clear() marks even an empty session
    // modified and sends a deletion cookie for a cookie the browser no longer has; Rust
    // sends nothing. Both browsers hold nothing either way.
    let step = both.get("/del_session").await;
    step.same_answer();
    assert_eq!(step.rust.body, "删除session None ");
    assert!(step.flask.cookie("session").is_some_and(|c| c.removes()));
    assert!(step.rust.cookies.is_empty());
    assert_eq!((step.flask_jar.len(), step.rust_jar.len()), (0, 0));

    let step = both.get("/get_session").await;
    rust_answers_instead_of_a_key_error(&step, 404, "visit /set_session first");
}
