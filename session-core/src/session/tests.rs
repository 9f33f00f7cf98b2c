use std::sync::Arc;

use serde_json::json;

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn new_session(record: Record) -> Session {
    Session::from_loaded(record, Lifecycle::New, None)
}

fn loaded_session(record: Record) -> Session {
    Session::from_loaded(record, Lifecycle::Loaded, None)
}

fn limited(record: Record, lifecycle: Lifecycle, limit: SizeLimit) -> Session {
    Session::from_loaded(record, lifecycle, Some(limit))
}

impl Taken {
    fn is_modified(&self) -> bool {
        !self.changes.is_empty() || self.lifecycle.is_modified()
    }
}

fn record() -> Record {
    Record::new(
        Timestamp::from_unix_millis(0),
        Timestamp::from_unix_millis(i64::MAX),
    )
}

#[test]
fn typed_reads_and_writes() -> TestResult {
    let session = new_session(record());
    session.insert("n", 5_u32)?;
    session.insert("tags", vec!["a", "b"])?;
    assert_eq!(session.get::<u32>("n")?, Some(5));
    assert_eq!(
        session.get::<Vec<String>>("tags")?,
        Some(vec!["a".into(), "b".into()])
    );
    assert_eq!(session.get::<u32>("missing")?, None);
    assert_eq!(session.keys(), ["n", "tags"]);
    assert!(session.contains("n") && !session.is_empty());

    let error = session
        .get::<String>("n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("`n`"), "the error names the key: {error}");

    assert_eq!(session.pop::<u32>("n")?, Some(5));
    assert!(!session.remove("n"));
    session.clear();
    assert!(session.is_empty());
    Ok(())
}

#[test]
fn pop_of_the_wrong_type_keeps_the_value() {
    let session = new_session(record());
    session.insert("n", "text").ok();
    assert!(session.pop::<u32>("n").is_err());
    assert!(session.contains("n"));
}

#[test]
fn update_returns_and_stores_the_new_value() -> TestResult {
    let session = new_session(record());
    assert_eq!(session.update("n", |n: Option<i64>| n.unwrap_or(0) + 1)?, 1);
    assert_eq!(session.update("n", |n: Option<i64>| n.unwrap_or(0) + 1)?, 2);
    assert_eq!(session.get::<i64>("n")?, Some(2));
    session.insert("s", "text")?;
    assert!(session
        .update("s", |n: Option<i64>| n.unwrap_or(0))
        .is_err());
    assert_eq!(
        session.get::<String>("s")?.as_deref(),
        Some("text"),
        "a failed update changes nothing"
    );
    Ok(())
}

#[test]
fn replay_merges_with_fresher_data() -> TestResult {
    let session = loaded_session(record());
    session.insert("mine", 1)?;
    session.update("counter", |n: Option<i64>| n.unwrap_or(0) + 1)?;
    let outcome = session.take();

    let mut fresher = record();
    fresher.data.insert("theirs".into(), json!(2));
    fresher.data.insert("counter".into(), json!(41));
    outcome.changes.apply_to(&mut fresher)?;
    assert_eq!(
        fresher.data.get("counter"),
        Some(&json!(42)),
        "the update runs again on the fresh value"
    );
    assert_eq!(fresher.data.get("mine"), Some(&json!(1)));
    assert_eq!(
        fresher.data.get("theirs"),
        Some(&json!(2)),
        "other keys are left alone"
    );
    Ok(())
}

#[test]
fn taking_flashes_removes_only_the_ones_shown() -> TestResult {
    let mut loaded = record();
    loaded
        .data
        .insert(FLASHES_KEY.into(), json!([["message", "first"]]));
    let session = loaded_session(loaded);
    let shown = session.take_flashes();
    assert_eq!(shown.len(), 1);
    let outcome = session.take();

    // Meanwhile another request added a flash.
    let mut fresher = record();
    fresher.data.insert(
        FLASHES_KEY.into(),
        json!([["message", "first"], ["error", "second"]]),
    );
    outcome.changes.apply_to(&mut fresher)?;
    assert_eq!(
        fresher.data.get(FLASHES_KEY),
        Some(&json!([["error", "second"]]))
    );
    Ok(())
}

#[test]
fn reading_flashes_when_there_are_none_writes_nothing() {
    let session = loaded_session(record());
    assert!(session.take_flashes().is_empty());
    let outcome = session.take();
    assert!(outcome.accessed);
    assert!(!outcome.is_modified());
}

#[test]
fn flashes_from_flask_apps_are_read_leniently() {
    let mut loaded = record();
    loaded
        .data
        .insert(FLASHES_KEY.into(), json!([["info", "pair"], "bare", 42]));
    let shown = loaded_session(loaded).take_flashes();
    let texts: Vec<_> = shown
        .iter()
        .map(|f| (f.category.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(texts, [("info", "pair"), ("message", "bare")]);
}

#[test]
fn size_limit_refuses_writes_and_leaves_the_session_as_it_was() -> TestResult {
    let limit: SizeLimit = Arc::new(|record: &Record| {
        let size = serde_json::to_vec(&record.data)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > 20 {
            Err(SessionError::TooLarge {
                size,
                limit: 20,
                backend: "test",
                advice: "smaller",
            })
        } else {
            Ok(())
        }
    });
    let session = limited(record(), Lifecycle::New, limit);
    session.insert("a", "ok")?;
    let error = session.insert("a", "far too long for twenty bytes");
    assert!(matches!(
        error,
        Err(SessionError::TooLarge { limit: 20, .. })
    ));
    assert_eq!(
        session.get::<String>("a")?.as_deref(),
        Some("ok"),
        "the old value is restored"
    );
    session.clear();
    session.insert("b", 1)?;
    let outcome = session.take();
    assert_eq!(
        outcome.changes.len(),
        3,
        "refused writes are not recorded: {:?}",
        outcome.changes
    );
    Ok(())
}

#[test]
fn destroy_forgets_data_and_pending_writes() -> TestResult {
    let mut loaded = record();
    loaded.data.insert("user".into(), json!("ada"));
    let session = loaded_session(loaded);
    session.insert("cart", 3)?;
    session.regenerate();
    session.destroy();
    assert!(session.is_empty());
    session.flash("Logged out")?;
    let outcome = session.take();
    assert_eq!(outcome.lifecycle, Lifecycle::Destroyed);
    assert_eq!(outcome.changes.len(), 1, "only writes after destroy remain");
    Ok(())
}

#[test]
fn writes_after_the_save_are_refused_not_lost() -> TestResult {
    let session = new_session(record());
    let clone = session.clone();
    session.insert("a", 1)?;
    let _outcome = session.take();
    assert!(matches!(
        clone.insert("late", 1),
        Err(SessionError::AlreadySaved)
    ));
    Ok(())
}

#[test]
fn permanence_is_a_change_only_when_it_changes() -> TestResult {
    let session = new_session(record());
    session.set_permanent(false)?;
    assert!(!session.take().is_modified());
    let session = new_session(record());
    session.set_permanent(true)?;
    let outcome = session.take();
    assert!(outcome.is_modified() && outcome.record.permanent);
    Ok(())
}

#[test]
fn debug_shows_keys_not_values() -> TestResult {
    let session = new_session(record());
    session.insert("password_hint", "swordfish")?;
    let debug = format!("{session:?}");
    assert!(
        debug.contains("password_hint") && !debug.contains("swordfish"),
        "{debug}"
    );
    Ok(())
}

#[test]
fn shrinking_writes_pass_even_over_the_limit() -> TestResult {
    let refuse_everything: SizeLimit = Arc::new(|_: &Record| {
        Err(SessionError::TooLarge {
            size: 1,
            limit: 0,
            backend: "test",
            advice: "none",
        })
    });
    let mut loaded = record();
    loaded.data.insert("a".into(), json!(1));
    loaded
        .data
        .insert(FLASHES_KEY.into(), json!([["message", "hi"]]));
    let session = limited(loaded, Lifecycle::Loaded, refuse_everything);
    assert!(session.insert("b", 2).is_err());
    assert_eq!(session.take_flashes().len(), 1);
    assert!(session.remove("a"));
    assert!(
        session.is_empty(),
        "removals apply although the session is over its limit"
    );
    assert_eq!(session.take().changes.len(), 2);
    Ok(())
}

#[test]
fn regenerate_renames_only_a_loaded_session() {
    let loaded = loaded_session(record());
    loaded.regenerate();
    assert_eq!(loaded.take().lifecycle, Lifecycle::Renamed);
    let new = new_session(record());
    new.regenerate();
    assert_eq!(new.take().lifecycle, Lifecycle::New);
    let destroyed = loaded_session(record());
    destroyed.destroy();
    destroyed.regenerate();
    assert_eq!(destroyed.take().lifecycle, Lifecycle::Destroyed);
}

#[test]
fn typed_keys_read_and_write_their_type() -> TestResult {
    const VISITS: SessionKey<u32> = SessionKey::new("visits");
    let session = new_session(record());
    assert_eq!(VISITS.get_or_default(&session)?, 0);
    assert_eq!(VISITS.update(&session, |n| n.unwrap_or(0) + 2)?, 2);
    session.insert("visits", "not a number")?;
    assert!(matches!(
        VISITS.get(&session),
        Err(SessionError::WrongType { .. })
    ));
    assert_eq!(VISITS.name(), "visits");
    VISITS.insert(&session, 7)?;
    assert_eq!(VISITS.get_or_default(&session)?, 7);
    assert_eq!(session.get::<u32>("visits")?, Some(7));
    assert_eq!(VISITS.pop(&session)?, Some(7));
    assert_eq!(VISITS.get(&session)?, None);
    assert_eq!(format!("{VISITS:?}"), "SessionKey(\"visits\")");
    Ok(())
}

#[test]
fn the_change_list_debugs_as_what_was_done_never_the_values() -> TestResult {
    let session = loaded_session(record());
    session.insert("user", "secret-ada")?;
    session.update("n", |n: Option<u32>| n.unwrap_or(0) + 1)?;
    session.remove("user");
    session.flash("saved")?;
    session.take_flashes();
    session.set_permanent(true)?;
    session.clear();
    let changes = session.take().changes;
    assert_eq!(
        format!("{changes:?}"),
        "[\"insert \\\"user\\\"\", \"update \\\"n\\\"\", \"remove \\\"user\\\"\", \"flash\", \
         \"take 1 flashes\", \"set permanent true\", \"clear\"]"
    );
    assert!(!changes.ties_principal());
    Ok(())
}
