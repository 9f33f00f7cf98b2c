//! Stored values of the wrong type are the client's problem, never a 5xx: a counter a form
//! made into text, a user name an older version of the app stored as a number.

use serde_json::json;
use session_core::SessionError;

use super::{assert_logged_in, config, login, start, NAME};
use crate::{DemoConfig, DemoSpec, Reply, SetCookie, Storage};

/// `POST /data key=counter value=x` makes the counter text; `POST /counter` then answers
/// 422 with the library's message (never a 5xx), and the session stays as it was.
pub async fn a_text_counter_is_a_client_error(spec: &DemoSpec) {
    let (_demo, mut visitor) = start(&config(spec)).await;
    login(&mut visitor, NAME).await;
    let stored = visitor
        .post_form("/data", &[("key", "counter"), ("value", "x")])
        .await
        .unwrap();
    assert_eq!(stored.status, 200, "POST /data: {}", stored.summary());
    let reply = visitor.post("/counter").await.unwrap();
    assert_eq!(
        (reply.status, reply.text()),
        (422, wrong_type_message("counter")),
        "POST /counter on a text counter must be 422 with the library's message; got {}",
        reply.summary()
    );
    assert_logged_in(&mut visitor, NAME, "after the refused count").await;
}

/// A session whose `username` is a number, written by the demo's own session code for
/// the same store and secret (as an older version of the app, or a Flask app, would
/// write it): `/` and `/show` answer a 4xx with a message or treat the name as absent,
/// never a 5xx. On `flask-cookie` it is a Flask-signed cookie. The memory backend's
/// store is the demo process's own, which no other writer reaches, and `POST /data`
/// stores text only: there a number-like name stays text.
pub async fn a_number_as_user_name_is_not_a_server_error(spec: &DemoSpec) {
    let config = config(spec);
    let (_demo, mut visitor) = start(&config).await;
    if spec.backend.storage() == Storage::Process {
        let stored = visitor
            .post_form("/data", &[("key", "username"), ("value", "42")])
            .await
            .unwrap();
        assert_eq!(stored.status, 200, "POST /data: {}", stored.summary());
        assert_logged_in(&mut visitor, "42", "a name stored through POST /data").await;
        return;
    }
    let cookie = session_written_elsewhere(&config, "username", json!(42)).await;
    visitor.set_session_cookie(Some(&cookie));
    let index = visitor.get("/").await.unwrap();
    let index_ok = if index.status == 200 {
        !index.text().contains("Logged in as")
    } else {
        is_client_error_with_message(&index)
    };
    assert!(
        index_ok,
        "GET / with a numeric `username` must treat it as absent or answer a 4xx with a \
         message; got {}",
        index.summary()
    );
    let show = visitor.get("/show").await.unwrap();
    assert!(
        is_client_error_with_message(&show),
        "GET /show with a numeric `username` must answer a 4xx with a message; got {}",
        show.summary()
    );
}

fn is_client_error_with_message(reply: &Reply) -> bool {
    (400..500).contains(&reply.status) && !reply.text().trim().is_empty()
}

/// What the library answers for a value under `key` that is not of the expected type.
fn wrong_type_message(key: &str) -> String {
    let source = serde_json::from_value::<i64>(json!("x")).unwrap_err();
    SessionError::WrongType {
        key: key.to_owned(),
        source,
    }
    .public_message()
    .into_owned()
}

/// A new session holding `key: value`, written in this process by the demo's own session
/// code ([`DemoConfig::session_manager`]) for `config`'s backend, store, key prefix and
/// secret; its cookie value, as the demo would send it.
async fn session_written_elsewhere(
    config: &DemoConfig,
    key: &str,
    value: serde_json::Value,
) -> String {
    let manager = config.session_manager().await.unwrap();
    let request = manager.request(None);
    request.session().await.unwrap().insert(key, value).unwrap();
    let plan = request.finish().await.unwrap().unwrap();
    let set_cookie = plan.set_cookie.unwrap().encoded().to_string();
    SetCookie::parse(&set_cookie).unwrap().value
}
