//! Files nobody should find in a session directory: truncated, garbage, foreign headers,
//! pickles that build objects or expand without end. Each is a typed error or an
//! anonymous visitor, never a panic; the native store removes what it cannot read, the
//! Flask-Session store leaves Flask's files as they are.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use session_core::clock::{Clock as _, ManualClock, Timestamp};
use session_core::store::{Record, RecordStore, ServerSide, SessionId, StorageKey, StoreError};
use session_core::SessionConfig;
use session_files::{FileStore, FileStoreError, FlaskFileError, FlaskSessionFileStore};

fn valid_native_file(now: Timestamp) -> Vec<u8> {
    let mut record = Record::new(now, now.saturating_add(Duration::from_secs(3600)));
    record.data.insert("user".into(), "ada".into());
    record.version = 1;
    // Header (28 bytes) then the record's JSON, as `FileStore` writes it.
    let body = serde_json::to_vec(&record).unwrap();
    let mut file = b"\x89SES\x01\x00\x00\x00".to_vec();
    file.extend_from_slice(&record.expires_at.as_unix_millis().to_le_bytes());
    file.extend_from_slice(&1_u64.to_le_bytes());
    file.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    file.extend_from_slice(&body);
    file
}

#[tokio::test(flavor = "multi_thread")]
async fn damaged_native_files_are_corrupt_and_removed_when_met() {
    let clock = ManualClock::starting_now();
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).await.unwrap();
    let manager = common::manager(
        ServerSide::new(store.clone()),
        SessionConfig::default(),
        &clock,
    );
    let valid = valid_native_file(clock.now());
    let mut shapes: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("garbage".into(), b"{\"user\": \"ada\"}".to_vec()),
        (
            "a Flask file".into(),
            b"\x00\xb3\x3f\x71\x80\x05N.".to_vec(),
        ),
        ("trailing bytes".into(), [valid.as_slice(), b"x"].concat()),
    ];
    for cut in [3, 16, 27, 28, valid.len() / 2, valid.len() - 1] {
        shapes.push((format!("cut at {cut}"), valid[..cut].to_vec()));
    }
    let mut wrong_version = valid.clone();
    wrong_version[16] = 9;
    shapes.push(("header and body disagree".into(), wrong_version));
    // The valid file loads: the shapes below are damaged versions of it.
    let id = SessionId::generate().unwrap();
    let key = StorageKey::hashed(&id);
    std::fs::write(store.file_for(&key), &valid).unwrap();
    assert!(store.load(&key, clock.now()).await.unwrap().is_some());
    for (what, bytes) in shapes {
        let id = SessionId::generate().unwrap();
        let key = StorageKey::hashed(&id);
        let path = store.file_for(&key);
        std::fs::write(&path, &bytes).unwrap();
        let error = store.load(&key, clock.now()).await.expect_err(&what);
        let StoreError::Corrupt(source) = &error else {
            panic!("{what}: expected Corrupt, got {error:?}");
        };
        let source = source.downcast_ref::<FileStoreError>().unwrap();
        assert!(
            matches!(source, FileStoreError::Corrupt { .. }),
            "{what}: {source:?}"
        );
        assert_eq!(
            source.path(),
            Some(path.as_path()),
            "{what}: names the file"
        );
        // Through a manager: an anonymous visitor, and the file is gone.
        let (_request, session) = common::open(&manager, Some(id.as_str())).await.unwrap();
        assert!(session.is_empty(), "{what}");
        assert!(!path.exists(), "{what}: removed when met");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cleanup_removes_garbage_and_leaves_other_files() {
    let clock = ManualClock::starting_now();
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).await.unwrap();
    let garbage = dir.path().join("a".repeat(64));
    std::fs::write(&garbage, b"not a session").unwrap();
    let foreign = dir.path().join("notes.txt");
    std::fs::write(&foreign, b"the operator's").unwrap();
    assert_eq!(
        store.delete_expired(clock.now()).await.unwrap(),
        0,
        "garbage is not an expired session"
    );
    assert!(
        !garbage.exists(),
        "a session file's name with garbage in it goes"
    );
    assert!(
        foreign.exists(),
        "a file that is not a session's name stays"
    );
}

/// A hostile file: what it is, its bytes, the reason it must be refused with.
type Hostile = (&'static str, Vec<u8>, fn(&FlaskFileError) -> bool);

/// CPython 3.11's protocol-5 pickles of a few hostile shapes, built by hand.
fn hostile_pickles() -> Vec<Hostile> {
    let mut deep = b"\x80\x05".to_vec();
    deep.extend(std::iter::repeat_n(b']', 10_000));
    deep.extend(std::iter::repeat_n(b'a', 9_999));
    deep.push(b'.');
    // x = []; x = [x, x] thirty times over: 2^30 values from 100 bytes.
    let mut laughs = b"\x80\x05]\x94".to_vec();
    for i in 0..30_u8 {
        laughs.extend_from_slice(&[b'h', i, b'h', i, 0x86, 0x94]);
    }
    laughs.push(b'.');
    vec![
        (
            "datetime (STACK_GLOBAL + REDUCE)",
            b"\x80\x05\x95\x29\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01d\x94\x8c\x08datetime\x94\x8c\x08datetime\x94\x93\x94C\x0a\x07\xd0\x01\x01\x00\x00\x00\x00\x00\x00\x94\x85\x94R\x94s.".to_vec(),
            |e| matches!(e, FlaskFileError::Object { opcode: "STACK_GLOBAL", .. }),
        ),
        (
            "os.system (GLOBAL + REDUCE, protocol 0)",
            b"cos\nsystem\n(S'echo pwned'\ntR.".to_vec(),
            |e| matches!(e, FlaskFileError::Object { opcode: "GLOBAL", .. }),
        ),
        ("NEWOBJ", b"\x80\x05N)\x81.".to_vec(), |e| matches!(e, FlaskFileError::Object { opcode: "NEWOBJ", .. })),
        ("not a dict", b"\x80\x05K\x01.".to_vec(), |e| matches!(e, FlaskFileError::NotADict)),
        ("no STOP", b"\x80\x05}\x94".to_vec(), |e| matches!(e, FlaskFileError::Truncated { .. })),
        ("cut string", b"\x80\x05\x8c\xffab".to_vec(), |e| matches!(e, FlaskFileError::Truncated { .. })),
        ("unknown opcode", b"\x80\x05\xff.".to_vec(), |e| matches!(e, FlaskFileError::UnknownOpcode { code: 0xff, .. })),
        ("trailing bytes", b"\x80\x05}.xyz".to_vec(), |e| matches!(e, FlaskFileError::TrailingBytes { .. })),
        ("stack underflow", b"\x80\x05s.".to_vec(), |e| matches!(e, FlaskFileError::Malformed { .. })),
        ("unknown memo", b"\x80\x05h\x07.".to_vec(), |e| matches!(e, FlaskFileError::Malformed { .. })),
        ("nested 10 000 deep", deep, |e| matches!(e, FlaskFileError::TooDeep { .. })),
        ("a billion laughs", laughs, |e| matches!(e, FlaskFileError::TooBig { .. })),
        ("contains itself", b"\x80\x05]\x94h\x00a.".to_vec(), |e| matches!(e, FlaskFileError::Recursive)),
        ("bytearray", b"\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00x.".to_vec(), |e| matches!(e, FlaskFileError::Unsupported { .. })),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_flask_files_are_refused_typed_and_left_alone() {
    let clock = ManualClock::starting_now();
    let dir = tempfile::tempdir().unwrap();
    let config = SessionConfig::default();
    let store = FlaskSessionFileStore::open(dir.path(), &config)
        .await
        .unwrap();
    let manager = common::manager(store.clone().backend(), config, &clock);
    let live = u32::try_from(clock.now().as_unix_millis() / 1000 + 3600)
        .unwrap()
        .to_ne_bytes();
    let mut files: Vec<Hostile> = vec![
        ("empty", Vec::new(), |e| {
            matches!(e, FlaskFileError::NoHeader { len: 0 })
        }),
        ("three bytes", b"abc".to_vec(), |e| {
            matches!(e, FlaskFileError::NoHeader { len: 3 })
        }),
    ];
    for (what, pickle, expected) in hostile_pickles() {
        files.push((what, [live.as_slice(), &pickle].concat(), expected));
    }
    for (what, bytes, expected) in files {
        let id = SessionId::generate().unwrap();
        let key = StorageKey::raw_for_flask_session_compat(&id);
        let path = store.file_for(&key);
        std::fs::write(&path, &bytes).unwrap();
        match store.read(&key, clock.now()).await {
            Err(FileStoreError::Unreadable { source, .. }) => {
                assert!(expected(&source), "{what}: unexpected reason {source:?}");
            }
            other => panic!("{what}: expected Unreadable, got {other:?}"),
        }
        assert_eq!(store.load(&key, clock.now()).await.unwrap(), None, "{what}");
        // Through a manager: anonymous; a write gets a new id, Flask's file stays.
        let (request, session) = common::open(&manager, Some(id.as_str())).await.unwrap();
        assert!(session.is_empty(), "{what}");
        session.insert("user", "mallory").unwrap();
        let update = common::finish(&request).await.unwrap();
        assert!(
            matches!(&update, session_core::backend::CookieUpdate::Set { value, .. } if value != id.as_str()),
            "{what}: never adopted"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{what}: left as it is"
        );
    }
}

/// Every prefix and every single-byte change of a real Flask-Session file: a typed error,
/// absent, or a session; never a panic.
#[tokio::test(flavor = "multi_thread")]
async fn no_prefix_or_flipped_byte_of_a_flask_file_panics() {
    let now = Timestamp::from_unix_millis(1_900_000_000_000 - 1000);
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("vectors/flask_files.json")).unwrap();
    let hex = doc["read"][2]["file"].as_str().unwrap();
    let file: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let store = FlaskSessionFileStore::open(dir.path(), &SessionConfig::default())
        .await
        .unwrap();
    let key = StorageKey::raw_for_flask_session_compat(&SessionId::generate().unwrap());
    let path = store.file_for(&key);
    let mut variants: Vec<Vec<u8>> = (0..file.len()).map(|cut| file[..cut].to_vec()).collect();
    for at in 4..file.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut changed = file.clone();
            changed[at] ^= flip;
            variants.push(changed);
        }
    }
    for bytes in variants {
        std::fs::write(&path, &bytes).unwrap();
        let _ = store.read(&key, now).await;
        assert!(
            store.load(&key, now).await.is_ok(),
            "load never fails on content"
        );
    }
}
