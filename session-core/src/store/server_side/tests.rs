use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use super::test_store::Hooked;
use super::*;
use crate::adapter::{LazySession, SessionManager};
use crate::clock::{ManualClock, Timestamp};
use crate::keys::{Key, KeyRing};
use crate::store::MemoryStore;
use crate::Session;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A manager over a [`ServerSide`] of a shared [`MemoryStore`], on a manual clock.
struct Harness {
    manager: SessionManager,
    store: Arc<MemoryStore>,
    clock: ManualClock,
}

impl Harness {
    fn new(config: SessionConfig) -> Result<Self, crate::ConfigError> {
        Self::on(
            Arc::new(MemoryStore::default()),
            ManualClock::starting_now(),
            config,
        )
    }

    /// Another process on the same store and clock, with its own settings.
    fn another_process(&self, config: SessionConfig) -> Result<Self, crate::ConfigError> {
        Self::on(Arc::clone(&self.store), self.clock.clone(), config)
    }

    fn on(
        store: Arc<MemoryStore>,
        clock: ManualClock,
        config: SessionConfig,
    ) -> Result<Self, crate::ConfigError> {
        let backend = ServerSide::from_arc(Arc::clone(&store));
        Ok(Self {
            manager: SessionManager::new(backend, config)?.with_clock(clock.clone()),
            store,
            clock,
        })
    }

    async fn open(&self, cookie: Option<&str>) -> Result<(LazySession, Session), SessionError> {
        let request = self.manager.request(cookie);
        let session = request.session().await?;
        Ok((request, session))
    }

    async fn save(&self, request: LazySession) -> Result<CookieUpdate, Box<dyn std::error::Error>> {
        Ok(request
            .finish()
            .await?
            .ok_or("the session was loaded")?
            .cookie)
    }

    /// A new session holding `user = ada`; its cookie value.
    async fn create(&self) -> Result<String, Box<dyn std::error::Error>> {
        let (request, session) = self.open(None).await?;
        session.insert("user", "ada")?;
        match self.save(request).await? {
            CookieUpdate::Set { value, .. } => Ok(value),
            other => Err(format!("expected a cookie, got {other:?}").into()),
        }
    }

    /// A new session tied to `principal`; its cookie value.
    async fn sign_in(&self, principal: &str) -> Result<String, Box<dyn std::error::Error>> {
        let (request, session) = self.open(None).await?;
        session.set_principal(crate::Principal::new(principal))?;
        match self.save(request).await? {
            CookieUpdate::Set { value, .. } => Ok(value),
            other => Err(format!("expected a cookie, got {other:?}").into()),
        }
    }

    async fn stored(&self, cookie: &str) -> Result<Option<Record>, Box<dyn std::error::Error>> {
        let key = StorageKey::hashed(&SessionId::parse(cookie)?);
        Ok(self.store.load(&key, self.clock.now()).await?)
    }
}

use crate::clock::Clock as _;

#[tokio::test]
async fn signed_id_cookies_refuse_unsigned_and_foreign_ids() -> TestResult {
    let keys = KeyRing::new(Key::try_from_bytes(&[3; 32])?);
    let harness = Harness::new(SessionConfig::default().with_keys(keys))?;
    let cookie = harness.create().await?;
    let (id, _tag) = cookie.split_once('.').ok_or("signed cookies carry a tag")?;
    let (_, session) = harness.open(Some(&cookie)).await?;
    assert_eq!(session.get::<String>("user")?.as_deref(), Some("ada"));
    drop(session);
    let (_, bare) = harness.open(Some(id)).await?;
    assert!(bare.is_empty(), "a bare id is refused when keys are set");
    Ok(())
}

#[tokio::test]
async fn a_write_racing_a_logout_never_revives_the_old_id() -> TestResult {
    let a = Harness::new(SessionConfig::default())?;
    let b = a.another_process(SessionConfig::default())?;
    let cookie = a.create().await?;

    let (writer_request, writer) = a.open(Some(&cookie)).await?;
    let (logout_request, logout) = b.open(Some(&cookie)).await?;
    logout.destroy();
    assert_eq!(b.save(logout_request).await?, CookieUpdate::Remove);

    writer.update("counter", |n: Option<u32>| n.unwrap_or(0) + 1)?;
    let CookieUpdate::Set { value, .. } = a.save(writer_request).await? else {
        panic!("the write must land in a brand-new session");
    };
    assert_ne!(value, cookie);
    assert!(
        a.open(Some(&cookie)).await?.1.is_empty(),
        "the logged-out id stays dead"
    );
    let (_, fresh) = a.open(Some(&value)).await?;
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
    let harness = Harness::new(SessionConfig::default().with_idle_timeout(Duration::from_secs(2)))?;
    let cookie = harness.create().await?;
    let first = harness.stored(&cookie).await?.ok_or("stored")?;

    // Just under a quarter of the window: reading is not worth a store write yet.
    harness.clock.advance(Duration::from_millis(499));
    let (request, session) = harness.open(Some(&cookie)).await?;
    session.get::<String>("user")?;
    assert_eq!(harness.save(request).await?, CookieUpdate::Unchanged);
    let untouched = harness.stored(&cookie).await?.ok_or("stored")?;
    assert_eq!(
        untouched.last_active, first.last_active,
        "too early to touch"
    );

    // A quarter of the window: the read counts as activity.
    harness.clock.advance(Duration::from_millis(1));
    let (request, session) = harness.open(Some(&cookie)).await?;
    session.get::<String>("user")?;
    assert_eq!(harness.save(request).await?, CookieUpdate::Unchanged);
    let touched = harness.stored(&cookie).await?.ok_or("stored")?;
    assert_eq!(touched.last_active, harness.clock.now());
    assert_eq!(
        touched.expires_at,
        harness.clock.now().saturating_add(Duration::from_secs(2))
    );
    assert_eq!(touched.version, first.version, "touching is not a write");
    Ok(())
}

#[tokio::test]
async fn the_idle_timeout_ends_a_session_to_the_millisecond() -> TestResult {
    let harness = Harness::new(SessionConfig::default().with_idle_timeout(Duration::from_secs(2)))?;
    let cookie = harness.create().await?;
    harness.clock.advance(Duration::from_millis(1_999));
    assert!(
        !harness.open(Some(&cookie)).await?.1.is_empty(),
        "alive 1 ms before"
    );
    harness.clock.advance(Duration::from_millis(1));
    assert!(
        harness.open(Some(&cookie)).await?.1.is_empty(),
        "gone at the deadline"
    );
    Ok(())
}

#[tokio::test]
async fn tightened_settings_end_sessions_the_store_still_holds() -> TestResult {
    let lenient = Harness::new(SessionConfig::default())?;
    let cookie = lenient.create().await?;
    let strict = lenient
        .another_process(SessionConfig::default().with_idle_timeout(Duration::from_secs(60)))?;
    lenient.clock.advance(Duration::from_secs(61));
    assert!(
        !lenient.open(Some(&cookie)).await?.1.is_empty(),
        "the stored deadline alone (31 days) keeps it"
    );
    lenient.clock.advance(Duration::from_secs(61));
    assert!(
        strict.open(Some(&cookie)).await?.1.is_empty(),
        "today's idle timeout ends it although the record's own deadline is far"
    );
    Ok(())
}

#[tokio::test]
async fn a_conflict_that_finds_the_session_expired_under_todays_settings_starts_afresh(
) -> TestResult {
    let lenient = Harness::new(SessionConfig::default())?;
    let cookie = lenient.create().await?;
    let strict = lenient
        .another_process(SessionConfig::default().with_idle_timeout(Duration::from_secs(60)))?;
    // The strict process loads the session in time; the lenient one writes to it.
    let (racing, session) = strict.open(Some(&cookie)).await?;
    assert_eq!(session.get::<String>("user")?.as_deref(), Some("ada"));
    let (write, other) = lenient.open(Some(&cookie)).await?;
    other.insert("seen", true)?;
    lenient.save(write).await?;
    // By the time the strict one saves, its conflict reload finds the session idle for
    // longer than its own timeout (though the store, on the lenient deadline, keeps it).
    lenient.clock.advance(Duration::from_secs(61));
    session.insert("cart", 1)?;
    let CookieUpdate::Set { value, .. } = strict.save(racing).await? else {
        panic!("the write lands in a brand-new session, not an error");
    };
    assert_ne!(value, cookie);
    let (_, fresh) = strict.open(Some(&value)).await?;
    assert_eq!(fresh.get::<u32>("cart")?, Some(1));
    assert_eq!(
        fresh.get::<String>("user")?,
        None,
        "nothing of the expired one"
    );
    Ok(())
}

/// A store that declares Flask-Session's raw-id keys, as a compatibility store does.
struct RawIdStore(MemoryStore);

#[async_trait]
impl RecordStore for RawIdStore {
    async fn load(&self, key: &StorageKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        self.0.load(key, now).await
    }
    async fn create(
        &self,
        key: &StorageKey,
        record: &Record,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.0.create(key, record, now).await
    }
    async fn save(
        &self,
        key: &StorageKey,
        record: &Record,
        version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.0.save(key, record, version, now).await
    }
    async fn change_key(
        &self,
        old: &StorageKey,
        new: &StorageKey,
        record: &Record,
        version: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.0.change_key(old, new, record, version, now).await
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
    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.0.delete_expired(now).await
    }
    fn key_scheme(&self) -> KeyScheme {
        KeyScheme::FlaskSessionCompat
    }
}

#[tokio::test]
async fn stores_declaring_flask_session_keys_get_raw_ids() -> TestResult {
    let memory = MemoryStore::default();
    let manager = SessionManager::new(RawIdStore(memory.clone()), SessionConfig::default())?;
    let request = manager.request(None);
    request.session().await?.insert("user", "ada")?;
    let plan = request.finish().await?.ok_or("loaded")?;
    let cookie = plan.cookie_value().ok_or("a new session sets a cookie")?;
    let keys = memory.keys();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].as_str(), cookie);
    Ok(())
}

#[tokio::test]
async fn expired_sessions_are_deleted_when_met() -> TestResult {
    let harness =
        Harness::new(SessionConfig::default().with_absolute_timeout(Duration::from_millis(200)))?;
    let cookie = harness.create().await?;
    harness.clock.advance(Duration::from_millis(200));
    assert!(harness.open(Some(&cookie)).await?.1.is_empty());
    assert!(
        harness.store.is_empty(),
        "the expired record is removed when met"
    );
    Ok(())
}

#[tokio::test]
async fn regenerate_alone_moves_the_session() -> TestResult {
    let harness = Harness::new(SessionConfig::default())?;
    let cookie = harness.create().await?;
    let (request, session) = harness.open(Some(&cookie)).await?;
    session.regenerate();
    let CookieUpdate::Set { value, .. } = harness.save(request).await? else {
        panic!("regenerate must set a new cookie");
    };
    assert_ne!(value, cookie);
    let (_, old) = harness.open(Some(&cookie)).await?;
    assert!(old.is_empty(), "the old record is gone, not copied");
    assert!(
        matches!(old.insert("x", 1), Err(SessionError::Superseded)),
        "the old id is marked as renamed for a while"
    );
    Ok(())
}

#[tokio::test]
async fn permanent_sessions_renew_their_cookie_until_the_real_deadline() -> TestResult {
    let config = SessionConfig::default()
        .with_permanent(true)
        .with_idle_timeout(Duration::from_secs(60))
        .with_absolute_timeout(Duration::from_secs(7_200));
    let harness = Harness::new(config)?;
    let cookie = harness.create().await?;
    harness.clock.advance(Duration::from_secs(10));
    let (request, session) = harness.open(Some(&cookie)).await?;
    session.insert("theme", json!("dark"))?;
    let update = harness.save(request).await?;
    assert_eq!(
        update,
        CookieUpdate::Set {
            value: cookie,
            expires_at: Some(harness.clock.now().saturating_add(Duration::from_secs(60))),
        },
        "the idle timeout, not the 31-day lifetime, bounds the cookie"
    );
    Ok(())
}

#[tokio::test]
async fn oversized_sessions_are_refused_at_insert() -> TestResult {
    let backend = ServerSide::new(MemoryStore::default()).with_max_session_bytes(Some(64));
    let manager = SessionManager::new(backend, SessionConfig::default())?;
    let session = manager.request(None).session().await?;
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
    assert_eq!(
        crate::backend::json_len(&map),
        serde_json::to_vec(&map)?.len()
    );
    Ok(())
}

#[tokio::test]
async fn a_write_racing_a_login_is_refused_and_never_reaches_the_new_session() -> TestResult {
    let a = Harness::new(SessionConfig::default())?;
    let b = a.another_process(SessionConfig::default())?;
    let (request, session) = a.open(None).await?;
    session.insert("counter", 1)?;
    let CookieUpdate::Set {
        value: before_login,
        ..
    } = a.save(request).await?
    else {
        panic!("a write sets a cookie");
    };

    // The login renames the session...
    let (login, session) = a.open(Some(&before_login)).await?;
    session.regenerate();
    session.insert("user", "ada")?;
    let CookieUpdate::Set {
        value: after_login, ..
    } = a.save(login).await?
    else {
        panic!("a login sets the new cookie");
    };

    // ...while another request of the same browser, in another process, still carries
    // the old cookie: it reads nothing, and its write is refused without a cookie.
    let (racing, session) = b.open(Some(&before_login)).await?;
    assert!(session.is_empty());
    assert!(matches!(
        session.update("counter", |n: Option<u32>| n.unwrap_or(0) + 1),
        Err(SessionError::Superseded)
    ));
    session.destroy();
    assert_eq!(
        b.save(racing).await?,
        CookieUpdate::Unchanged,
        "no cookie replaces the login"
    );
    assert_eq!(SessionError::Superseded.http_status(), 409);

    let (_, logged_in) = a.open(Some(&after_login)).await?;
    assert_eq!(
        logged_in.get::<u32>("counter")?,
        Some(1),
        "nothing was forwarded"
    );
    assert_eq!(logged_in.get::<String>("user")?.as_deref(), Some("ada"));
    drop(logged_in);

    // Past the window the old id is simply unknown again.
    a.clock
        .advance(SessionConfig::default().superseded_window());
    let (_, later) = b.open(Some(&before_login)).await?;
    later.insert("fresh", true)?;
    Ok(())
}

#[tokio::test]
async fn empty_sessions_are_not_stored_and_emptied_ones_are_removed() -> TestResult {
    let harness = Harness::new(SessionConfig::default())?;
    let (request, session) = harness.open(None).await?;
    session.flash("shown at once")?;
    assert_eq!(session.take_flashes().len(), 1);
    assert_eq!(harness.save(request).await?, CookieUpdate::Unchanged);
    assert!(harness.store.is_empty(), "an empty session is not stored");

    let (request, session) = harness.open(None).await?;
    session.flash("Welcome!")?;
    let CookieUpdate::Set { value, .. } = harness.save(request).await? else {
        panic!("a flash is stored");
    };
    let (request, session) = harness.open(Some(&value)).await?;
    assert_eq!(session.take_flashes().len(), 1);
    assert_eq!(harness.save(request).await?, CookieUpdate::Remove);
    assert!(harness.store.is_empty(), "the emptied session is deleted");
    Ok(())
}

#[tokio::test]
async fn committed_updates_answer_what_was_stored_across_processes() -> TestResult {
    let a = Harness::new(SessionConfig::default())?;
    let b = a.another_process(SessionConfig::default())?;
    let (request, session) = a.open(None).await?;
    session.insert("counter", 0)?;
    let CookieUpdate::Set { value: cookie, .. } = a.save(request).await? else {
        panic!("stored");
    };
    // Both processes load version 1 and compute 1; the second to commit replays its
    // update on the first one's record and must answer 2, not its stale 1.
    let (first_request, first) = a.open(Some(&cookie)).await?;
    let (second_request, second) = b.open(Some(&cookie)).await?;
    let increment = |n: Option<u32>| n.unwrap_or(0) + 1;
    assert_eq!(first.update_committed("counter", increment).await?, 1);
    assert_eq!(second.update_committed("counter", increment).await?, 2);
    assert_eq!(
        second.get::<u32>("counter")?,
        Some(2),
        "reads show the stored state"
    );
    assert!(matches!(
        second.insert("late", 1),
        Err(SessionError::AlreadySaved)
    ));
    // The adapters still get the responses' headers.
    assert!(first_request.finish().await?.is_some());
    assert!(second_request.finish().await?.is_some());
    Ok(())
}

/// A request on `cookie`, loading in a task of its own (so it can queue on the lock).
fn queue(
    manager: &SessionManager,
    cookie: &str,
) -> tokio::task::JoinHandle<Result<(LazySession, Session), SessionError>> {
    let request = manager.request(Some(cookie));
    tokio::spawn(async move {
        let session = request.session().await?;
        Ok((request, session))
    })
}

#[tokio::test]
async fn a_request_queued_on_a_busy_session_starts_from_what_the_one_before_left() -> TestResult {
    let store = Arc::new(Hooked::on(MemoryStore::default(), || None));
    let clock = ManualClock::starting_now();
    let config = SessionConfig::default();
    let manager = SessionManager::new(ServerSide::from_arc(Arc::clone(&store)), config.clone())?
        .with_clock(clock.clone());
    let other_process = SessionManager::new(ServerSide::from_arc(Arc::clone(&store)), config)?
        .with_clock(clock.clone());
    let create = manager.request(None);
    create.session().await?.insert("counter", 0)?;
    let cookie = create
        .finish()
        .await?
        .and_then(|plan| plan.cookie_value().map(str::to_owned))
        .ok_or("stored")?;
    let loads = || store.loads.load(Ordering::SeqCst);
    let increment = |n: Option<u32>| n.unwrap_or(0) + 1;

    // One request holds the session and writes; two more queue behind it.
    let holder = manager.request(Some(&cookie));
    holder.session().await?.update("counter", increment)?;
    assert_eq!(loads(), 1);
    let (second, third) = (queue(&manager, &cookie), queue(&manager, &cookie));
    tokio::task::yield_now().await;
    holder.finish().await?;
    // The next one starts from what the holder committed, without a load...
    let (request, session) = second.await??;
    assert_eq!(session.get::<u32>("counter")?, Some(1));
    request.finish().await?;
    // ...and so does the one after it, from what a reader left.
    let (request, session) = third.await??;
    assert_eq!(session.get::<u32>("counter")?, Some(1));
    assert_eq!(loads(), 1, "both queued requests were handed the record");

    // Another process writes meanwhile; a request handed the older record still loses
    // nothing: its save fails the compare-and-swap and replays on the latest.
    let fourth = queue(&manager, &cookie);
    tokio::task::yield_now().await;
    let elsewhere = other_process.request(Some(&cookie));
    elsewhere.session().await?.update("counter", increment)?;
    elsewhere.finish().await?;
    request.finish().await?;
    let (request, session) = fourth.await??;
    assert_eq!(
        session.get::<u32>("counter")?,
        Some(1),
        "handed on, not reloaded"
    );
    assert_eq!(session.update_committed("counter", increment).await?, 3);
    drop(session);
    request.finish().await?;

    // A record as old as the window is not handed on: the next request loads.
    let reader = manager.request(Some(&cookie));
    reader.session().await?;
    clock.advance(locks::HANDOFF_WINDOW);
    let fifth = queue(&manager, &cookie);
    tokio::task::yield_now().await;
    let before = loads();
    reader.finish().await?;
    let (request, session) = fifth.await??;
    assert_eq!(loads(), before + 1);
    assert_eq!(session.get::<u32>("counter")?, Some(3));
    request.finish().await?;
    Ok(())
}

#[tokio::test]
async fn a_write_loaded_before_a_login_in_another_process_never_revives_the_old_id() -> TestResult {
    let a = Harness::new(SessionConfig::default())?;
    let b = a.another_process(SessionConfig::default())?;
    let before_login = a.create().await?;
    // The other process loads the session (version 1) before the login renames it...
    let (racing, session) = b.open(Some(&before_login)).await?;
    assert_eq!(session.get::<String>("user")?.as_deref(), Some("ada"));

    let (login, logged_in) = a.open(Some(&before_login)).await?;
    logged_in.regenerate();
    logged_in.insert("role", "admin")?;
    let CookieUpdate::Set {
        value: after_login, ..
    } = a.save(login).await?
    else {
        panic!("a login sets the new cookie");
    };
    assert_ne!(after_login, before_login);

    // ...and writes after it: the marker left under the old id must win, whatever version
    // the racing request expects.
    session.insert("cart", 3)?;
    assert!(matches!(
        b.save(racing).await,
        Err(error) if error.downcast_ref::<SessionError>().is_some_and(|e| matches!(e, SessionError::Superseded))
    ));
    let (_, old) = a.open(Some(&before_login)).await?;
    assert!(old.is_empty(), "the old id holds no session");
    let (_, new) = a.open(Some(&after_login)).await?;
    assert_eq!(
        new.get::<u32>("cart")?,
        None,
        "nothing reached the login's session"
    );
    assert_eq!(new.get::<String>("role")?.as_deref(), Some("admin"));
    Ok(())
}

#[tokio::test]
async fn remembered_sessions_keep_their_cookie_until_the_absolute_timeout() -> TestResult {
    let config = SessionConfig::default()
        .with_idle_timeout(Duration::from_secs(60))
        .with_absolute_timeout(Duration::from_secs(7_200));
    let harness = Harness::new(config)?;
    let (request, session) = harness.open(None).await?;
    session.regenerate();
    session.insert("user", "ada")?;
    session.remember_for(Duration::from_secs(86_400))?;
    let plan = request.finish().await?.ok_or("loaded")?;
    let cookie = plan.set_cookie.ok_or("a login sets a cookie")?;
    assert_eq!(
        cookie.max_age(),
        Some(cookie::time::Duration::seconds(7_200))
    );

    // Idle for longer than the ordinary idle timeout: still logged in.
    harness.clock.advance(Duration::from_secs(600));
    let (_, session) = harness.open(Some(cookie.value())).await?;
    assert_eq!(session.get::<String>("user")?.as_deref(), Some("ada"));
    Ok(())
}

#[tokio::test]
async fn corrupt_records_are_deleted_when_met_and_counted() -> TestResult {
    let memory = MemoryStore::default();
    let corrupting = Hooked::on(memory.clone(), || {
        Some(StoreError::Corrupt("not a record".into()))
    });
    let backend = Arc::new(ServerSide::new(corrupting));
    let boxed = crate::backend::BoxedBackend::from_backend(Arc::clone(&backend));
    let manager = SessionManager::new(boxed, SessionConfig::default())?;
    let request = manager.request(None);
    request.session().await?.insert("user", "ada")?;
    let cookie = request
        .finish()
        .await?
        .and_then(|p| p.cookie_value().map(str::to_owned));
    assert_eq!(memory.len(), 1);
    assert_eq!(backend.corrupt_records_discarded(), 0);
    let session = manager.request(cookie.as_deref()).session().await?;
    assert!(
        session.is_empty(),
        "a corrupt record is a new session, not an error"
    );
    assert_eq!(memory.len(), 0, "and it is deleted");
    assert_eq!(backend.corrupt_records_discarded(), 1);
    Ok(())
}

#[tokio::test]
async fn a_login_committed_early_sees_itself_as_the_current_session() -> TestResult {
    let harness = Harness::new(SessionConfig::default())?;
    harness.sign_in("ada").await?;
    let (request, session) = harness.open(None).await?;
    session.regenerate();
    session.set_principal(crate::Principal::new("ada").attach("user_agent", "curl"))?;
    assert_eq!(session.live_sessions().await?.len(), 1, "not stored yet");
    session.commit().await?;
    let listed = session.live_sessions().await?;
    assert_eq!(listed.len(), 2);
    let current: Vec<_> = listed.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1, "{listed:?}");
    assert_eq!(current[0].attached["user_agent"], json!("curl"));
    assert!(request.finish().await?.is_some());
    Ok(())
}

#[tokio::test]
async fn a_session_committed_early_without_a_change_is_still_the_current_one() -> TestResult {
    let harness = Harness::new(SessionConfig::default())?;
    let cookie = harness.sign_in("ada").await?;
    let (request, session) = harness.open(Some(&cookie)).await?;
    session.commit().await?;
    let listed = session.live_sessions().await?;
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].current,
        "an unchanged save keeps the session's id"
    );
    assert!(request.finish().await?.is_some());
    Ok(())
}

#[tokio::test]
async fn a_session_emptied_by_clear_leaves_its_principal_index() -> TestResult {
    let harness = Harness::new(SessionConfig::default())?;
    let (request, session) = harness.open(None).await?;
    session.insert("user", "ada")?;
    session.set_principal(crate::Principal::new("ada"))?;
    let cookie = harness.save(request).await?;
    let CookieUpdate::Set { value: cookie, .. } = cookie else {
        return Err("a login sets a cookie".into());
    };
    let (request, session) = harness.open(Some(&cookie)).await?;
    session.clear();
    session.insert("theme", "dark")?;
    harness.save(request).await?;
    assert!(harness.manager.sessions_of("ada").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn principals_no_store_could_index_are_refused_before_anything_is_written() -> TestResult {
    let harness = Harness::new(SessionConfig::default())?;
    let (request, session) = harness.open(None).await?;
    let too_long = "x".repeat(crate::Principal::MAX_NAME_BYTES + 1);
    for name in ["", "a\0b", "line\nbreak", too_long.as_str()] {
        let refused = session.set_principal(crate::Principal::new(name));
        assert!(
            matches!(refused, Err(SessionError::InvalidPrincipal { .. })),
            "{name:?}: {refused:?}"
        );
        assert_eq!(refused.map_err(|e| e.http_status()), Err(422));
    }
    let longest = "x".repeat(crate::Principal::MAX_NAME_BYTES);
    session.set_principal(crate::Principal::new(longest.as_str()))?;
    harness.save(request).await?;
    assert_eq!(harness.manager.sessions_of(&longest).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_store_without_the_index_refuses_to_tie_or_list() -> TestResult {
    let manager = SessionManager::new(
        ServerSide::new(RawIdStore(MemoryStore::default())),
        SessionConfig::default(),
    )?;
    assert!(!manager.capabilities().per_user_index);
    let request = manager.request(None);
    let session = request.session().await?;
    for refused in [
        session.set_principal(crate::Principal::new("ada")).err(),
        session.live_sessions().await.err(),
        session.revoke_others().await.err(),
        manager.sessions_of("ada").await.err(),
        manager.revoke_all("ada").await.err(),
    ] {
        assert!(
            matches!(refused, Some(SessionError::Unsupported { .. })),
            "{refused:?}"
        );
    }
    assert!(session.is_empty(), "a refused tie writes nothing");
    Ok(())
}

#[tokio::test]
async fn tightened_settings_take_sessions_off_the_list() -> TestResult {
    let lenient = Harness::new(SessionConfig::default())?;
    lenient.sign_in("ada").await?;
    let strict = lenient
        .another_process(SessionConfig::default().with_idle_timeout(Duration::from_secs(60)))?;
    lenient.clock.advance(Duration::from_secs(61));
    assert_eq!(
        lenient.manager.sessions_of("ada").await?.len(),
        1,
        "stored deadline: 31 days"
    );
    assert!(
        strict.manager.sessions_of("ada").await?.is_empty(),
        "idle under today's settings, so not live, whatever the store says"
    );
    Ok(())
}

#[tokio::test]
async fn tying_a_stored_session_without_a_new_id_still_applies_the_cap() -> TestResult {
    let config =
        SessionConfig::default().with_max_sessions_per_principal(std::num::NonZeroUsize::new(1));
    let harness = Harness::new(config)?;
    let first = harness.sign_in("ada").await?;
    // A stored, anonymous session is tied in place (no regenerate): a save that keeps its
    // key, and still the second session of the principal, the more recently active.
    harness.clock.advance(Duration::from_secs(1));
    let second = harness.create().await?;
    let (request, session) = harness.open(Some(&second)).await?;
    session.set_principal(crate::Principal::new("ada"))?;
    harness.save(request).await?;
    assert!(
        harness.stored(&first).await?.is_none(),
        "the cap ended the older one"
    );
    assert!(harness.stored(&second).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn the_cap_is_applied_when_a_session_is_tied_not_on_every_save() -> TestResult {
    let uncapped = Harness::new(SessionConfig::default())?;
    let mut cookies = Vec::new();
    for _ in 0..3 {
        cookies.push(uncapped.sign_in("ada").await?);
    }
    let one = std::num::NonZeroUsize::new(1);
    let capped =
        uncapped.another_process(SessionConfig::default().with_max_sessions_per_principal(one))?;
    let (request, session) = capped.open(Some(&cookies[0])).await?;
    session.insert("theme", "dark")?;
    capped.save(request).await?;
    let listed = capped.manager.sessions_of("ada").await?;
    assert_eq!(listed.len(), 3, "a plain write ends no session");
    Ok(())
}

#[tokio::test]
async fn the_state_debugs_without_the_id() -> TestResult {
    let harness = Harness::new(SessionConfig::default())?;
    let cookie = harness.create().await?;
    let backend = ServerSide::from_arc(Arc::clone(&harness.store));
    let cx = crate::backend::Context::new(harness.manager.config(), harness.clock.now());
    let loaded = backend.load(Some(&cookie), cx).await?;
    let debug = format!("{:?}", loaded.state());
    assert_eq!(debug, "ServerSideState { stored: true, version: Some(1) }");
    assert!(!debug.contains(&cookie));
    Ok(())
}

#[tokio::test]
async fn colliding_new_ids_are_drawn_again_twice_then_the_store_error_surfaces() -> TestResult {
    let store = Arc::new(Hooked::on(MemoryStore::default(), || None).colliding(2));
    let manager = SessionManager::new(
        ServerSide::from_arc(Arc::clone(&store)),
        SessionConfig::default(),
    )?;
    let request = manager.request(None);
    request.session().await?.insert("user", "ada")?;
    let cookie = request
        .finish()
        .await?
        .and_then(|plan| plan.cookie_value().map(str::to_owned));
    assert!(cookie.is_some());
    assert_eq!(store.inner.len(), 1, "the third id was stored");

    store.collide.store(ID_ATTEMPTS, Ordering::Relaxed);
    let request = manager.request(None);
    request.session().await?.insert("user", "bob")?;
    assert!(matches!(
        request.finish().await,
        Err(SessionError::Store(StoreError::KeyCollision))
    ));
    assert_eq!(store.inner.len(), 1, "nothing more was stored");

    // A login's new id collides once: another is drawn, and the session moves to it.
    let login = manager.request(cookie.as_deref());
    let session = login.session().await?;
    session.regenerate();
    session.insert("user", "ada, logged in")?;
    store.collide.store(1, Ordering::Relaxed);
    let moved = login
        .finish()
        .await?
        .and_then(|plan| plan.cookie_value().map(str::to_owned));
    assert!(moved.is_some() && moved != cookie, "a new id");
    let again = manager.request(moved.as_deref());
    assert_eq!(
        again.session().await?.get::<String>("user")?.as_deref(),
        Some("ada, logged in")
    );
    Ok(())
}
