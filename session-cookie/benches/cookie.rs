//! Encode+sign and verify+decode of a typical ~200-byte session, in each cookie format.
//!
//! Run with: `cargo bench -p session-cookie -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Map, Value};
use session_cookie::flask::{FlaskCodec, FlaskSession};
use session_cookie::CookieBackend;
use session_core::clock::Timestamp;
use session_core::keys::{Key, KeyRing};
use session_core::SessionConfig;

/// A logged-in user's session: about 200 bytes of JSON.
fn data() -> Map<String, Value> {
    let value = json!({
        "user_id": 123_456,
        "username": "ada.lovelace",
        "roles": ["admin", "editor"],
        "csrf_token": "c2Vzc2lvbi1jb29raWUgYmVuY2htYXJrIHRva2Vu",
        "cart": [{"sku": "A-1001", "qty": 2}, {"sku": "B-2002", "qty": 1}],
        "theme": "dark",
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn native(c: &mut Criterion) {
    let keys = KeyRing::new(Key::from_bytes(b"benchmark key, at least 32 bytes long"));
    let config = SessionConfig::default();
    let now = Timestamp::from_unix_millis(1_700_000_000_123);
    let mut record = config.new_record(now);
    record.data = data();
    println!(
        "native payload: {} bytes of JSON",
        serde_json::to_vec(&record.data).unwrap().len()
    );
    for (name, backend) in [
        ("signed", CookieBackend::new(keys.clone())),
        (
            "encrypted",
            CookieBackend::new(keys.clone()).with_encryption(true),
        ),
    ] {
        let cookie = backend.encode(&record, "session", now).unwrap();
        println!("native {name}: cookie value {} bytes", cookie.len());
        c.bench_function(&format!("native/{name}/encode+sign"), |b| {
            b.iter(|| backend.encode(black_box(&record), "session", now).unwrap())
        });
        c.bench_function(&format!("native/{name}/verify+decode"), |b| {
            b.iter(|| backend.decode(black_box(&cookie), &config, now).unwrap())
        });
        c.bench_function(&format!("native/{name}/size check"), |b| {
            b.iter(|| backend.cookie_len(black_box(&record), "session"))
        });
    }
}

fn flask(c: &mut Criterion) {
    let codec = FlaskCodec::new("benchmark SECRET_KEY for the Flask app");
    let session = FlaskSession::from_map(data());
    let now = 1_700_000_000;
    let cookie = codec.encode(&session, now);
    println!("flask: cookie value {} bytes", cookie.len());
    c.bench_function("flask/encode+sign", |b| {
        b.iter(|| codec.encode(black_box(&session), now))
    });
    c.bench_function("flask/verify+decode", |b| {
        b.iter(|| codec.decode(black_box(&cookie), Some(3600), now).unwrap())
    });
}

criterion_group!(benches, native, flask);
criterion_main!(benches);
