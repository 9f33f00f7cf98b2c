//! Hostile input: tampered, truncated, garbage and signed-but-malicious
//! cookies must give errors, never panics.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use session_cookie::flask::itsdangerous::{self, ItsdangerousError};
use session_cookie::flask::{FlaskCodec, FlaskError, TaggedJsonError};

const SECRET: &[u8] = b"robustness-test-secret-0123456789";
const NOW: u64 = 1_700_000_000;

fn codec() -> FlaskCodec {
    FlaskCodec::new(SECRET).with_fallbacks([b"old".to_vec()])
}

/// Cookies Flask produced, from the shared vectors, signed with SECRET_KEY.
fn flask_cookies() -> Vec<(FlaskCodec, String)> {
    let doc: Value = serde_json::from_str(include_str!("vectors/flask.json")).unwrap();
    doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let hex = v["secret_key_hex"].as_str().unwrap();
            let secret: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            let fallbacks = v["fallback_keys_hex"].as_array().unwrap().iter().map(|k| {
                let k = k.as_str().unwrap();
                (0..k.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&k[i..i + 2], 16).unwrap())
                    .collect::<Vec<u8>>()
            });
            let codec = FlaskCodec::new(secret).with_fallbacks(fallbacks.collect::<Vec<_>>());
            (codec, v["cookie"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Deterministic xorshift so the "property" loop is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00";

#[test]
fn every_single_character_substitution_is_rejected() {
    for (codec, cookie) in flask_cookies() {
        let bytes = cookie.as_bytes();
        for i in 0..bytes.len() {
            for &c in b"A_.-=" {
                if bytes[i] == c {
                    continue;
                }
                let mut tampered = bytes.to_vec();
                tampered[i] = c;
                let tampered = String::from_utf8(tampered).unwrap();
                assert!(
                    codec.decode(&tampered, None, NOW).is_err(),
                    "accepted {tampered}"
                );
            }
        }
    }
}

#[test]
fn every_truncation_is_rejected() {
    for (codec, cookie) in flask_cookies() {
        for end in 0..cookie.len() {
            assert!(
                codec.decode(&cookie[..end], None, NOW).is_err(),
                "prefix {end}"
            );
            assert!(
                codec.decode(&cookie[end + 1..], None, NOW).is_err(),
                "suffix {end}"
            );
        }
    }
}

#[test]
fn random_mutations_never_panic_and_are_rejected() {
    let cookies = flask_cookies();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..20_000 {
        let (codec, cookie) = &cookies[rng.below(cookies.len())];
        let mut bytes = cookie.as_bytes().to_vec();
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len() + 1);
            let c = ALPHABET[rng.below(ALPHABET.len())];
            match rng.below(3) {
                0 if at < bytes.len() => bytes[at] = c,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, c),
            }
        }
        let mutated = String::from_utf8(bytes).unwrap();
        if &mutated != cookie {
            assert!(
                codec.decode(&mutated, Some(60), NOW).is_err(),
                "round {round}: {mutated}"
            );
        }
    }
}

#[test]
fn random_garbage_never_panics() {
    let codec = codec();
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let len = rng.below(200);
        let garbage: String = (0..len)
            .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len())]))
            .collect();
        assert!(codec.decode(&garbage, None, NOW).is_err());
    }
    for s in [
        "",
        ".",
        "..",
        "...",
        "a.b.c",
        ".a.b.c",
        "é.é.é",
        "\u{0}.\u{0}.\u{0}",
    ] {
        assert!(codec.decode(s, None, NOW).is_err(), "{s:?}");
    }
}

/// Signs arbitrary JSON bytes with the right key, so decoding gets past the
/// signature and the payload parser is exercised.
fn signed(json: &[u8]) -> String {
    itsdangerous::dumps(json, NOW, SECRET)
}

fn payload_error(json: &[u8]) -> FlaskError {
    codec().decode(&signed(json), None, NOW).unwrap_err()
}

#[test]
fn signed_but_invalid_payloads_are_typed_errors() {
    let payload = |json: &str| payload_error(json.as_bytes());
    assert!(matches!(
        payload("[1,2]"),
        FlaskError::Payload(TaggedJsonError::NotAnObject)
    ));
    assert!(matches!(
        payload("\"x\""),
        FlaskError::Payload(TaggedJsonError::NotAnObject)
    ));
    assert!(matches!(
        payload("{\"a\":NaN}"),
        FlaskError::Payload(TaggedJsonError::Json(_))
    ));
    assert!(matches!(
        payload("{\"a\":"),
        FlaskError::Payload(TaggedJsonError::Json(_))
    ));
    assert!(matches!(
        payload("{\" t\":[1]}"),
        FlaskError::Payload(TaggedJsonError::NotAnObject)
    ));
    assert!(matches!(
        payload("{\"a\":{\" u\":\"nope\"}}"),
        FlaskError::Payload(TaggedJsonError::InvalidTag { .. })
    ));
    assert!(matches!(
        payload("{\" di\":{}}"),
        FlaskError::Payload(TaggedJsonError::InvalidTag { .. })
    ));
    assert!(matches!(
        payload_error(b"{\"a\":\"\xff\"}"),
        FlaskError::Payload(TaggedJsonError::Utf8(_))
    ));
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(
        payload(&deep),
        FlaskError::Payload(TaggedJsonError::Json(_))
    ));
}

#[test]
fn signed_zip_bomb_is_capped() {
    let bomb = vec![b' '; 10 * 1024 * 1024];
    let cookie = signed(&bomb);
    assert!(cookie.starts_with('.') && cookie.len() < 20_000);
    assert!(matches!(
        codec().decode(&cookie, None, NOW),
        Err(FlaskError::Signed(ItsdangerousError::TooLarge {
            limit: 65_536
        }))
    ));
    let big_ok = format!("{{\"a\":\"{}\"}}", "x".repeat(100_000));
    let cookie = signed(big_ok.as_bytes());
    assert!(codec().decode(&cookie, None, NOW).is_err());
    assert!(codec()
        .with_max_decompressed(200_000)
        .decode(&cookie, None, NOW)
        .is_ok());
}

#[test]
fn signed_garbage_after_the_signature_never_panics() {
    let mut rng = Rng(7);
    for _ in 0..5_000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
        let _ = codec().decode(&signed(&bytes), None, NOW);
        // Also as a (bogus) compressed payload.
        let payload = format!(".{}", &itsdangerous::encode_payload(&bytes));
        let _ = codec().decode(&itsdangerous::sign(&payload, NOW, SECRET), None, NOW);
    }
}
