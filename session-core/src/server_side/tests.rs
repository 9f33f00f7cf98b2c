use std::time::Duration;

use serde_json::json;

use super::*;
use crate::{Key, KeyRing, MemoryStore};

type TestResult = Result<(), Box<dyn std::error::Error>>;

async fn create(
    backend: &ServerSide<MemoryStore>,
    config: &SessionConfig,
) -> Result<String, SessionError> {
    let session = backend.load(None, config).await?;
    session.insert("user", "ada")?;
    match backend.save(session.finish(), config).await? {
        CookieUpdate::Set { value, .. } => Ok(value),
        other => panic!("expected a cookie, got {other:?}"),
    }
}

#[tokio::test]
async fn signed_id_cookies_refuse_unsigned_and_foreign_ids() -> TestResult {
    let backend = ServerSide::new(MemoryStore::default());
    let keys = KeyRing::new(Key::try_from_bytes(&[3; 32])?);
    let config = SessionConfig::default().with_keys(keys);
    let cookie = create(&backend, &config).await?;
    let (id, _tag) = cookie.split_once('.').ok_or("signed cookies carry a tag")?;
    assert_eq!(
        backend
            .load(Some(&cookie), &config)
            .await?
            .get::<String>("user")?
            .as_deref(),
        Some("ada")
    );
    assert!(
        backend.load(Some(id), &config).await?.is_empty(),
        "a bare id is refused when keys are set"
    );
    Ok(())
}

#[tokio::test]
async fn a_write_racing_a_logout_never_revives_the_old_id() -> TestResult {
    let store = Arc::new(MemoryStore::default());
    let (a, b) = (
        ServerSide::from_arc(Arc::clone(&store)),
        ServerSide::from_arc(Arc::clone(&store)),
    );
    let config = SessionConfig::default();
    let cookie = create(&a, &config).await?;

    let writer = a.load(Some(&cookie), &config).await?;
    let logout = b.load(Some(&cookie), &config).await?;
    logout.destroy();
    assert_eq!(
        b.save(logout.finish(), &config).await?,
        CookieUpdate::Remove
    );

    writer.update("counter", |n: Option<u32>| n.unwrap_or(0) + 1)?;
    let CookieUpdate::Set { value, .. } = a.save(writer.finish(), &config).await? else {
        panic!("the write must land in a brand-new session");
    };
    assert_ne!(value, cookie);
    assert!(
        a.load(Some(&cookie), &config).await?.is_empty(),
        "the logged-out id stays dead"
    );
    let fresh = a.load(Some(&value), &config).await?;
    assert_eq!(fresh.get::<u32>("counter")?, Some(1));
    assert_eq!(
        fresh.get::<String>("user")?,
        None,
        "the destroyed session's data is not carried over"
    );
    Ok(())
}

#[tokio::test]
async fn unchanged_sessions_are_touched_once_a_quarter_idle_window() -> TestResult {
    let backend = ServerSide::new(MemoryStore::default());
    let config = SessionConfig::default().with_idle_timeout(Duration::from_secs(2));
    let cookie = create(&backend, &config).await?;
    let key = StorageKey::hashed(&SessionId::parse(&cookie)?);
    let first = backend.store().load(&key).await?.ok_or("stored")?;

    let session = backend.load(Some(&cookie), &config).await?;
    assert_eq!(
        backend.save(session.finish(), &config).await?,
        CookieUpdate::Unchanged
    );
    assert_eq!(
        backend
            .store()
            .load(&key)
            .await?
            .ok_or("stored")?
            .last_active,
        first.last_active,
        "too early to touch"
    );

    tokio::time::sleep(Duration::from_millis(600)).await;
    let session = backend.load(Some(&cookie), &config).await?;
    session.get::<String>("user")?;
    assert_eq!(
        backend.save(session.finish(), &config).await?,
        CookieUpdate::Unchanged
    );
    let touched = backend.store().load(&key).await?.ok_or("stored")?;
    assert!(
        touched.last_active > first.last_active,
        "a read past a quarter window refreshes expiry"
    );
    assert!(touched.expires_at > first.expires_at);
    assert_eq!(touched.version, first.version, "touching is not a write");
    Ok(())
}

/// A store that declares Flask-Session's raw-id keys, as a compatibility store does.
struct RawIdStore(MemoryStore);

#[async_trait]
impl RecordStore for RawIdStore {
    async fn load(&self, key: &StorageKey) -> Result<Option<Record>, StoreError> {
        self.0.load(key).await
    }
    async fn create(&self, key: &StorageKey, record: &Record) -> Result<(), StoreError> {
        self.0.create(key, record).await
    }
    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        version: u64,
    ) -> Result<(), StoreError> {
        self.0.save(key, record, version).await
    }
    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        version: u64,
    ) -> Result<(), StoreError> {
        self.0.change_key(old, new, record, version).await
    }
    async fn delete(&self, key: &StorageKey) -> Result<(), StoreError> {
        self.0.delete(key).await
    }
    async fn touch(
        &self,
        key: &StorageKey,
        active: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        self.0.touch(key, active, expires).await
    }
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        self.0.delete_expired().await
    }
    fn key_scheme(&self) -> KeyScheme {
        KeyScheme::FlaskSessionCompat
    }
}

#[tokio::test]
async fn stores_declaring_flask_session_keys_get_raw_ids() -> TestResult {
    let memory = MemoryStore::default();
    let backend = ServerSide::new(RawIdStore(memory.clone()));
    let config = SessionConfig::default();
    let session = backend.load(None, &config).await?;
    session.insert("user", "ada")?;
    let CookieUpdate::Set { value: cookie, .. } = backend.save(session.finish(), &config).await?
    else {
        panic!("a new session sets a cookie");
    };
    let keys = memory.keys();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].as_str(), cookie);
    Ok(())
}

#[tokio::test]
async fn expired_sessions_are_deleted_when_met() -> TestResult {
    let backend = ServerSide::new(MemoryStore::default());
    let config = SessionConfig::default().with_absolute_timeout(Duration::from_millis(200));
    let cookie = create(&backend, &config).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(backend.load(Some(&cookie), &config).await?.is_empty());
    assert!(
        backend.store().is_empty(),
        "the expired record is removed when met"
    );
    Ok(())
}

#[tokio::test]
async fn regenerate_alone_moves_the_session() -> TestResult {
    let backend = ServerSide::new(MemoryStore::default());
    let config = SessionConfig::default();
    let cookie = create(&backend, &config).await?;
    let session = backend.load(Some(&cookie), &config).await?;
    session.regenerate();
    let CookieUpdate::Set { value, .. } = backend.save(session.finish(), &config).await? else {
        panic!("regenerate must set a new cookie");
    };
    assert_ne!(value, cookie);
    assert_eq!(
        backend.store().len(),
        1,
        "the old record is gone, not copied"
    );
    Ok(())
}

#[tokio::test]
async fn permanent_sessions_renew_their_cookie_on_save() -> TestResult {
    let backend = ServerSide::new(MemoryStore::default());
    let config = SessionConfig::default().with_permanent(true);
    let cookie = create(&backend, &config).await?;
    let session = backend.load(Some(&cookie), &config).await?;
    session.insert("theme", json!("dark"))?;
    let update = backend.save(session.finish(), &config).await?;
    assert_eq!(
        update,
        CookieUpdate::Set {
            value: cookie,
            persistent: true
        }
    );
    Ok(())
}

#[tokio::test]
async fn oversized_sessions_are_refused_at_insert() -> TestResult {
    let backend = ServerSide::new(MemoryStore::default()).with_max_session_bytes(Some(64));
    let session = backend.load(None, &SessionConfig::default()).await?;
    let error = session
        .insert("big", "x".repeat(100))
        .err()
        .ok_or("must fail")?;
    let message = error.to_string();
    assert!(
        message.contains("64-byte limit") && message.contains("server-side"),
        "{message}"
    );
    Ok(())
}

#[test]
fn json_len_matches_serde_json() -> TestResult {
    let value = json!({"a": [1, 2.5, "three", null], "b": {"c": "ünï"}});
    let serde_json::Value::Object(map) = value else {
        return Err("object".into());
    };
    assert_eq!(crate::json_len(&map), serde_json::to_vec(&map)?.len());
    Ok(())
}
