//! `CookieStore` beyond the conformance kit: key rotation, tampering, cookie-name binding,
//! encryption, the exact size limit and rolling refresh.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use session_cookie::CookieStore;
use session_core::{
    CookieUpdate, Key, KeyRing, Session, SessionBackend, SessionConfig, SessionError,
};

fn key(byte: u8) -> Key {
    Key::from_bytes(&[byte; 32])
}

fn config() -> SessionConfig {
    SessionConfig::default()
}

async fn save(store: &CookieStore, session: &Session, config: &SessionConfig) -> CookieUpdate {
    store.save(session.finish(), config).await.unwrap()
}

async fn save_value(store: &CookieStore, session: &Session) -> String {
    match save(store, session, &config()).await {
        CookieUpdate::Set { value, .. } => value,
        other => panic!("expected a cookie, got {other:?}"),
    }
}

async fn new_cookie(store: &CookieStore, key: &str, value: serde_json::Value) -> String {
    let session = store.load(None, &config()).await.unwrap();
    session.insert(key, value).unwrap();
    save_value(store, &session).await
}

/// The key id part of a cookie value.
fn kid(value: &str) -> String {
    value.split('.').nth(1).unwrap().to_owned()
}

fn kid_of(store: &CookieStore) -> String {
    URL_SAFE_NO_PAD.encode(store.codec().signing_key_id().to_bytes())
}

#[tokio::test]
async fn rotated_keys_verify_and_the_next_save_re_signs_with_the_newest() {
    let before = CookieStore::new(KeyRing::new(key(1)));
    let old_cookie = new_cookie(&before, "user", json!("ada")).await;
    assert_eq!(kid(&old_cookie), kid_of(&before));

    let after = CookieStore::new(KeyRing::new(key(2)).with_verifying(key(1)));
    assert_ne!(kid_of(&after), kid_of(&before));
    // An unchanged session signed by the old key is re-signed as soon as it is read.
    let session = after.load(Some(&old_cookie), &config()).await.unwrap();
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    let resigned = save_value(&after, &session).await;
    assert_eq!(kid(&resigned), kid_of(&after));
    // A write re-signs too; and a cookie of the newest key is left alone when only read.
    let session = after.load(Some(&old_cookie), &config()).await.unwrap();
    session.insert("visits", 1).unwrap();
    assert_eq!(kid(&save_value(&after, &session).await), kid_of(&after));
    let session = after.load(Some(&resigned), &config()).await.unwrap();
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    assert_eq!(
        save(&after, &session, &config()).await,
        CookieUpdate::Unchanged
    );

    // Once the old key is retired, its cookies are anonymous.
    let retired = CookieStore::new(KeyRing::new(key(2)));
    assert!(retired
        .load(Some(&old_cookie), &config())
        .await
        .unwrap()
        .is_empty());
    assert!(!retired
        .load(Some(&resigned), &config())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn any_flipped_or_missing_byte_makes_the_visitor_anonymous() {
    for encrypt in [false, true] {
        let store = CookieStore::new(KeyRing::new(key(3))).with_encryption(encrypt);
        let cookie = new_cookie(&store, "user", json!("ada")).await;
        assert!(!store
            .load(Some(&cookie), &config())
            .await
            .unwrap()
            .is_empty());
        for i in 0..cookie.len() {
            let mut bytes = cookie.clone().into_bytes();
            // Another character that is valid where it stands (base64 or the dot).
            bytes[i] = match bytes[i] {
                b'A' => b'B',
                b'.' => b'_',
                _ => b'A',
            };
            let tampered = String::from_utf8(bytes).unwrap();
            let session = store.load(Some(&tampered), &config()).await.unwrap();
            assert!(
                session.is_empty(),
                "byte {i} flipped (encrypt: {encrypt}) still loaded"
            );
            let truncated = &cookie[..i];
            assert!(store
                .load(Some(truncated), &config())
                .await
                .unwrap()
                .is_empty());
        }
    }
}

#[tokio::test]
async fn a_cookie_only_works_under_its_own_name() {
    for encrypt in [false, true] {
        let store = CookieStore::new(KeyRing::new(key(4))).with_encryption(encrypt);
        let cookie = new_cookie(&store, "role", json!("admin")).await;
        let other = config().with_cookie_name("cart");
        assert!(store.load(Some(&cookie), &other).await.unwrap().is_empty());
        assert!(!store
            .load(Some(&cookie), &config())
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn encryption_hides_the_payload() {
    const SECRET: &str = "plaintext-that-must-not-leak";
    let payload_of = |cookie: &str| {
        URL_SAFE_NO_PAD
            .decode(cookie.split('.').nth(3).unwrap())
            .unwrap()
    };
    let contains = |haystack: &[u8]| {
        haystack
            .windows(SECRET.len())
            .any(|w| w == SECRET.as_bytes())
    };

    let signed = CookieStore::new(KeyRing::new(key(5)));
    let cookie = new_cookie(&signed, "note", json!(SECRET)).await;
    assert!(
        contains(&payload_of(&cookie)),
        "signed cookies are readable: the check can fail"
    );

    let encrypted = CookieStore::new(KeyRing::new(key(5))).with_encryption(true);
    let cookie = new_cookie(&encrypted, "note", json!(SECRET)).await;
    assert!(cookie.starts_with("e1."));
    assert!(!contains(cookie.as_bytes()) && !contains(&payload_of(&cookie)));
    let session = encrypted.load(Some(&cookie), &config()).await.unwrap();
    assert_eq!(
        session.get::<String>("note").unwrap().as_deref(),
        Some(SECRET)
    );
}

#[tokio::test]
async fn the_limit_is_the_exact_cookie_length() {
    for encrypt in [false, true] {
        let store = CookieStore::new(KeyRing::new(key(6))).with_encryption(encrypt);
        let session = store.load(None, &config()).await.unwrap();
        // Grow a value one byte at a time from well below the limit until it is refused.
        let mut len = 2_000;
        while session.insert("blob", "x".repeat(len)).is_ok() {
            len += 1;
        }
        let error = session.insert("blob", "x".repeat(len)).unwrap_err();
        let SessionError::TooLarge {
            size,
            limit,
            backend,
            advice,
        } = error
        else {
            panic!("expected TooLarge, got {error}");
        };
        assert_eq!((limit, backend), (4_093, "cookie"));
        assert!(advice.contains("server-side store"), "{advice}");
        assert_eq!(
            session.get::<String>("blob").unwrap().map(|v| v.len()),
            Some(len - 1),
            "left as it was"
        );
        let cookie = save_value(&store, &session).await;
        let largest = "session=".len() + cookie.len();
        // One more byte of JSON adds one or two characters of base64: the limit is exact.
        assert!(
            largest <= 4_093 && 4_093 < size && size <= largest + 2,
            "{largest} {size}"
        );
        assert_eq!(store.capabilities().max_session_bytes, Some(4_093));
    }
    let small = CookieStore::new(KeyRing::new(key(6))).with_max_cookie_bytes(200);
    let session = small.load(None, &config()).await.unwrap();
    assert!(matches!(
        session.insert("k", "x".repeat(200)),
        Err(SessionError::TooLarge { limit: 200, .. })
    ));
}

#[tokio::test]
async fn unchanged_sessions_are_re_issued_once_a_quarter_of_the_idle_window_passed() {
    let store = CookieStore::new(KeyRing::new(key(7)));
    let config = config().with_idle_timeout(Duration::from_millis(800));
    let session = store.load(None, &config).await.unwrap();
    session.insert("user", "ada").unwrap();
    let CookieUpdate::Set { value: cookie, .. } = save(&store, &session, &config).await else {
        panic!("a write sets a cookie");
    };
    tokio::time::sleep(Duration::from_millis(250)).await;
    let session = store.load(Some(&cookie), &config).await.unwrap();
    assert!(session.contains("user"));
    let CookieUpdate::Set {
        value: refreshed, ..
    } = save(&store, &session, &config).await
    else {
        panic!("a session read after a quarter of its idle window is re-issued");
    };
    let issued = |cookie: &str| cookie.split('.').nth(2).unwrap().to_owned();
    assert!(issued(&refreshed) > issued(&cookie), "a later timestamp");
    let session = store.load(Some(&refreshed), &config).await.unwrap();
    assert_eq!(
        save(&store, &session, &config).await,
        CookieUpdate::Unchanged,
        "just refreshed"
    );
}

#[tokio::test]
async fn regenerate_without_writes_still_changes_the_cookie() {
    let store = CookieStore::new(KeyRing::new(key(8)));
    let cookie = new_cookie(&store, "user", json!("ada")).await;
    let session = store.load(Some(&cookie), &config()).await.unwrap();
    session.regenerate();
    let regenerated = save_value(&store, &session).await;
    assert_ne!(regenerated, cookie);
    let session = store.load(Some(&regenerated), &config()).await.unwrap();
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    // An anonymous session that only asked for a new id has nothing to store.
    let anonymous = store.load(None, &config()).await.unwrap();
    anonymous.regenerate();
    assert_eq!(
        save(&store, &anonymous, &config()).await,
        CookieUpdate::Unchanged
    );
}

#[tokio::test]
async fn decode_and_encode_are_inverse_and_check_expiry() {
    let store = CookieStore::new(KeyRing::new(key(9)));
    let config = config().with_absolute_timeout(Duration::from_secs(60));
    let now = session_core::Timestamp::now();
    let mut record = config.new_record(now);
    record.data.insert("k".into(), json!([1, 2]));
    record.permanent = true;
    let value = store.encode(&record, "session", now).unwrap();
    assert_eq!(
        store.cookie_len(&record, "session"),
        "session=".len() + value.len()
    );
    let back = store.decode(&value, &config, now).unwrap();
    assert_eq!(
        (back.data, back.created_at, back.permanent),
        (record.data, now, true)
    );
    let later = now.saturating_add(Duration::from_secs(61));
    assert!(
        store.decode(&value, &config, later).is_none(),
        "past the absolute timeout"
    );
}
