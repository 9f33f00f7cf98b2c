//! `FlaskCookieStore` beyond the conformance kit, against the crate's own Flask codec
//! (the real-Flask checks are in flask_interop.rs).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{json, Value};
use session_cookie::flask::{FlaskCodec, FlaskSession};
use session_cookie::{FlaskCookieStore, TIMES_KEY};
use session_core::{CookieUpdate, Session, SessionBackend, SessionConfig, SessionError, Timestamp};

const SECRET: &str = "current secret key";
const OLD: &str = "previous secret key";

fn now_secs() -> u64 {
    u64::try_from(Timestamp::now().as_unix_secs()).unwrap()
}

/// A cookie as Flask would write it: a tuple, bytes, a datetime, flashes, permanent.
fn flask_cookie(secret: &str, signed_at: u64) -> String {
    let json = r#"{"_flashes":[{" t":["message","from flask"]}],"_permanent":true,"blob":{" b":"AAH+/w=="},"pair":{" t":["a",1]},"user":"ada","when":{" d":"Wed, 21 Oct 2015 07:28:00 GMT"}}"#;
    FlaskCodec::new(secret).encode(&FlaskSession::from_tagged_json(json).unwrap(), signed_at)
}

async fn save(store: &FlaskCookieStore, session: &Session, config: &SessionConfig) -> CookieUpdate {
    store.save(session.finish(), config).await.unwrap()
}

fn set_value(update: CookieUpdate) -> String {
    match update {
        CookieUpdate::Set { value, .. } => value,
        other => panic!("expected a cookie, got {other:?}"),
    }
}

#[tokio::test]
async fn flask_keys_map_to_the_session_and_untouched_ones_survive_byte_for_byte() {
    let store = FlaskCookieStore::new(SECRET);
    let config = SessionConfig::default();
    let session = store
        .load(Some(&flask_cookie(SECRET, now_secs())), &config)
        .await
        .unwrap();
    assert_eq!(
        session.keys(),
        ["_flashes", "blob", "pair", "user", "when"],
        "_permanent is not data"
    );
    assert!(session.is_permanent());
    assert_eq!(session.get::<Value>("pair").unwrap(), Some(json!(["a", 1])));
    let flashes = session.take_flashes();
    assert_eq!(
        (flashes[0].category.as_str(), flashes[0].message.as_str()),
        ("message", "from flask")
    );
    session.insert("user", "grace").unwrap();
    session.flash_with("info", "from rust").unwrap();
    let cookie = set_value(save(&store, &session, &config).await);

    let (flask, _) = FlaskCodec::new(SECRET).decode(&cookie, None, 0).unwrap();
    assert_eq!(flask.tagged_json("pair"), Some(r#"{" t":["a",1]}"#));
    assert_eq!(flask.tagged_json("blob"), Some(r#"{" b":"AAH+/w=="}"#));
    assert_eq!(
        flask.tagged_json("when"),
        Some(r#"{" d":"Wed, 21 Oct 2015 07:28:00 GMT"}"#)
    );
    assert_eq!(
        flask.tagged_json("_flashes"),
        Some(r#"[{" t":["info","from rust"]}]"#)
    );
    assert_eq!(flask.get("user"), Some(&json!("grace")));
    assert!(flask.is_permanent());
    assert!(flask.get(TIMES_KEY).is_some());
    let session = store.load(Some(&cookie), &config).await.unwrap();
    assert!(
        !session.contains(TIMES_KEY),
        "the timestamps key is not data"
    );
}

#[tokio::test]
async fn fallback_secrets_verify_and_the_next_save_re_signs_with_the_current_one() {
    let config = SessionConfig::default();
    let old_cookie = flask_cookie(OLD, now_secs());
    assert!(FlaskCookieStore::new(SECRET)
        .load(Some(&old_cookie), &config)
        .await
        .unwrap()
        .is_empty());

    let store = FlaskCookieStore::new(SECRET).with_fallbacks([OLD]);
    let session = store.load(Some(&old_cookie), &config).await.unwrap();
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    let cookie = set_value(save(&store, &session, &config).await);
    let (resigned, _) = FlaskCodec::new(SECRET).decode(&cookie, None, 0).unwrap();
    assert_eq!(resigned.get("user"), Some(&json!("ada")));
    // Read again, the re-signed cookie needs no new one.
    let session = store.load(Some(&cookie), &config).await.unwrap();
    assert!(session.contains("user"));
    assert_eq!(
        save(&store, &session, &config).await,
        CookieUpdate::Unchanged
    );
}

#[tokio::test]
async fn a_cookie_flask_made_counts_from_its_signature_second() {
    let store = FlaskCookieStore::new(SECRET);
    let config = SessionConfig::default().with_idle_timeout(Duration::from_secs(2));
    let stale = flask_cookie(SECRET, now_secs() - 3);
    assert!(store.load(Some(&stale), &config).await.unwrap().is_empty());
    let fresh = flask_cookie(SECRET, now_secs());
    assert!(!store.load(Some(&fresh), &config).await.unwrap().is_empty());
    // Flask's own rule: older than the lifetime is expired.
    let lifetime = SessionConfig::default().with_lifetime(Duration::from_secs(2));
    assert!(store
        .load(Some(&stale), &lifetime)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn tampered_cookies_are_anonymous() {
    let store = FlaskCookieStore::new(SECRET);
    let config = SessionConfig::default();
    let cookie = flask_cookie(SECRET, now_secs());
    for i in 0..cookie.len() {
        let mut bytes = cookie.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(
            store
                .load(Some(&tampered), &config)
                .await
                .unwrap()
                .is_empty(),
            "byte {i}"
        );
    }
}

#[tokio::test]
async fn oversized_writes_are_refused_but_a_large_flask_session_can_shrink() {
    let store = FlaskCookieStore::new(SECRET);
    let config = SessionConfig::default();
    let session = store.load(None, &config).await.unwrap();
    let error = session.insert("big", "x".repeat(4_000)).unwrap_err();
    let SessionError::TooLarge {
        size,
        limit,
        backend,
        ..
    } = error
    else {
        panic!("expected TooLarge, got {error}");
    };
    assert_eq!((limit, backend), (4_093, "flask-cookie"));
    assert!(size > 4_093);

    // Flask wrote a compressed session that is larger than the limit uncompressed.
    let mut large = FlaskSession::new();
    large.insert("essay", json!("abc".repeat(2_000)));
    large.push_flash("message", json!("hello"));
    let cookie = FlaskCodec::new(SECRET).encode(&large, now_secs());
    assert!(cookie.len() < 1_000, "compressed");
    let session = store.load(Some(&cookie), &config).await.unwrap();
    assert!(
        session.insert("more", "y".repeat(100)).is_err(),
        "growing stays refused"
    );
    assert_eq!(session.take_flashes().len(), 1, "shrinking works");
    session.insert("essay", "short").unwrap();
    let cookie = set_value(save(&store, &session, &config).await);
    let session = store.load(Some(&cookie), &config).await.unwrap();
    assert_eq!(
        session.get::<String>("essay").unwrap().as_deref(),
        Some("short")
    );
    assert!(session.take_flashes().is_empty());
}
