//! Byte-exact interoperability with Flask-Session's filesystem sessions: vectors that
//! `tests/python/gen_flask_file_vectors.py` generated with real cachelib and CPython's
//! pickle (see that script for what each set means).
//!
//! - `read`: files Flask-Session wrote; the Rust store reads the values, the permanent flag
//!   and the deadline, or refuses a file holding objects (and leaves it as it is).
//! - `write`: sessions the Rust store creates; the file must be CPython's, byte for byte.
//! - `merge`: a Flask file, a Rust request's changes; the file must be what CPython writes
//!   for the merged dict.
//! - `names`: file names (SHA-256 and MD5) of sids and of the count file.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Map, Value};
use session_core::clock::Timestamp;
use session_core::store::{Record, RecordStore, SessionId, StorageKey};
use session_core::SessionConfig;
use session_files::{
    FileStoreError, FileStoreOptions, FilenameDigest, FlaskFileError, FlaskSessionFileStore,
    FlaskSessionFormat,
};
use sha2::{Digest as _, Sha256};

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/flask_files.json")).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn key(sid: &str) -> StorageKey {
    StorageKey::raw_for_flask_session_compat(&SessionId::parse(sid).unwrap())
}

const SID: &str = "b1DlbLd4P4ccTBmlpH_ERt0f1Iv-7l6CpSEMmFWMN1M";

async fn store(
    dir: &Path,
    config: &SessionConfig,
    digest: FilenameDigest,
) -> FlaskSessionFileStore {
    FileStoreOptions::default()
        .with_cleanup_interval(None)
        .open_flask_session(
            dir,
            config,
            FlaskSessionFormat::default().with_digest(digest),
        )
        .await
        .unwrap()
}

fn object(value: &Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

/// The large sessions the generator describes by recipe.
fn recipe(name: &str) -> Map<String, Value> {
    let value = match name {
        "many_keys" => Value::Object((0..1000).map(|i| (format!("k{i:04}"), json!(i))).collect()),
        "long_list" => json!({"list": (0..2500).collect::<Vec<_>>()}),
        "two_frames" => Value::Object(
            (0..120)
                .map(|i| (format!("key{i:03}"), json!("v".repeat(700))))
                .collect(),
        ),
        "huge_string" => json!({"a": "small", "blob": "z".repeat(70_000), "z": "after"}),
        other => panic!("unknown recipe {other}"),
    };
    object(&value)
}

#[tokio::test]
async fn file_names_are_cachelib_digests() {
    let dir = tempfile::tempdir().unwrap();
    let config = SessionConfig::default();
    let sha = store(&dir.path().join("sha"), &config, FilenameDigest::Sha256).await;
    let md5 = store(&dir.path().join("md5"), &config, FilenameDigest::Md5).await;
    let doc = vectors();
    for name in doc["names"].as_array().unwrap() {
        let key = key(name["sid"].as_str().unwrap());
        for (store, digest) in [(&sha, "sha256"), (&md5, "md5")] {
            let file = store.file_for(&key);
            assert_eq!(
                file.file_name().unwrap().to_str(),
                name[digest].as_str(),
                "{digest} name of {}",
                name["sid"]
            );
        }
    }
    // The count file appears under cachelib's name once a session is created.
    let now = Timestamp::from_unix_millis(doc["expiry"].as_i64().unwrap() * 1000 - 60_000);
    for (store, digest) in [(&sha, "sha256"), (&md5, "md5")] {
        let mut record = Record::new(now, now.saturating_add(Duration::from_secs(60)));
        record.data.insert("user".into(), json!("ada"));
        store.create(&key(SID), &record, now).await.unwrap();
        let count = store
            .dir()
            .join(doc["count_names"][digest].as_str().unwrap());
        assert_eq!(
            std::fs::read(count).unwrap(),
            b"\x00\x00\x00\x00\x80\x05K\x01."
        );
    }
}

#[tokio::test]
async fn flask_files_read_as_flask_meant_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(
        dir.path(),
        &SessionConfig::default(),
        FilenameDigest::Sha256,
    )
    .await;
    let key = key(SID);
    for vector in vectors()["read"].as_array().unwrap() {
        let name = vector["name"].as_str().unwrap();
        let bytes = unhex(vector["file"].as_str().unwrap());
        let path = store.file_for(&key);
        std::fs::write(&path, &bytes).unwrap();
        let now = Timestamp::from_unix_millis(1_900_000_000_000 - 1000);
        if vector["refused"] == json!(true) {
            let error = store.read(&key, now).await.expect_err(name);
            let FileStoreError::Unreadable { source, .. } = &error else {
                panic!("{name}: expected Unreadable, got {error:?}");
            };
            assert!(
                matches!(source, FlaskFileError::Object { .. }),
                "{name}: objects are refused by opcode, got {source:?}"
            );
            assert_eq!(store.load(&key, now).await.unwrap(), None, "{name}: absent");
            assert_eq!(
                std::fs::read(&path).unwrap(),
                bytes,
                "{name}: the file is left as it is"
            );
            continue;
        }
        let record = store
            .read(&key, now)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: live"));
        assert_eq!(Value::Object(record.data), vector["data"], "{name}: values");
        assert_eq!(
            json!(record.permanent),
            vector["permanent"],
            "{name}: permanent"
        );
        assert_eq!(
            json!(record.expires_at.as_unix_millis()),
            vector["expires_at_ms"],
            "{name}: the deadline is the header's"
        );
        let at_deadline = Timestamp::from_unix_millis(vector["expires_at_ms"].as_i64().unwrap());
        assert_eq!(
            store.load(&key, at_deadline).await.unwrap(),
            None,
            "{name}: expired"
        );
    }
}

#[tokio::test]
async fn rust_writes_the_bytes_cpython_writes() {
    let dir = tempfile::tempdir().unwrap();
    for (n, vector) in vectors()["write"].as_array().unwrap().iter().enumerate() {
        let name = vector["name"].as_str().unwrap();
        let created = vector["created"].as_i64();
        let config = match created {
            Some(_) => SessionConfig::default().with_absolute_timeout(Duration::from_secs(3600)),
            None => SessionConfig::default(),
        };
        let store = store(
            &dir.path().join(n.to_string()),
            &config,
            FilenameDigest::Sha256,
        )
        .await;
        let expires_at = Timestamp::from_unix_millis(vector["expires_at_ms"].as_i64().unwrap());
        let now = Timestamp::from_unix_millis(expires_at.as_unix_millis() - 600_000);
        let mut record = Record::new(now, expires_at);
        record.data = match vector["recipe"].as_str() {
            Some(recipe_name) => recipe(recipe_name),
            None => object(&vector["data"]),
        };
        record.permanent = vector["permanent"].as_bool().unwrap();
        if let Some(created) = created {
            record.created_at = Timestamp::from_unix_millis(created);
        }
        record.version = 1;
        store.create(&key(SID), &record, now).await.unwrap();
        let written = std::fs::read(store.file_for(&key(SID))).unwrap();
        match vector["file"].as_str() {
            Some(file) => assert_eq!(hex(&written), file, "{name}: CPython's bytes"),
            None => {
                assert_eq!(json!(written.len()), vector["file_len"], "{name}: length");
                assert_eq!(
                    json!(hex(&Sha256::digest(&written))),
                    vector["file_sha256"],
                    "{name}: CPython's bytes"
                );
            }
        }
        // And it reads back as written.
        let back = store.load(&key(SID), now).await.unwrap().unwrap();
        assert_eq!(back.data, record.data, "{name}: read back");
    }
}

#[tokio::test]
async fn rust_writes_keep_what_flask_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(
        dir.path(),
        &SessionConfig::default(),
        FilenameDigest::Sha256,
    )
    .await;
    let key = key(SID);
    for vector in vectors()["merge"].as_array().unwrap() {
        let name = vector["name"].as_str().unwrap();
        std::fs::write(
            store.file_for(&key),
            unhex(vector["stored"].as_str().unwrap()),
        )
        .unwrap();
        let expires_at = Timestamp::from_unix_millis(vector["expires_at_ms"].as_i64().unwrap());
        let now = Timestamp::from_unix_millis(expires_at.as_unix_millis() - 600_000);
        let loaded = store.load(&key, now).await.unwrap().unwrap();
        let mut record = loaded.clone();
        for (k, v) in vector["set"].as_object().unwrap() {
            record.data.insert(k.clone(), v.clone());
        }
        for k in vector["remove"].as_array().unwrap() {
            record.data.remove(k.as_str().unwrap());
        }
        record.permanent = vector["permanent"].as_bool().unwrap();
        record.expires_at = expires_at;
        record.version += 1;
        store
            .save(&key, &record, loaded.version, now)
            .await
            .unwrap();
        let written = std::fs::read(store.file_for(&key)).unwrap();
        assert_eq!(hex(&written), vector["file"].as_str().unwrap(), "{name}");
    }
}
