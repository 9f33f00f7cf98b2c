//! Fuzzes Flask cookie decoding: arbitrary input as a cookie value, and the
//! same bytes as a correctly signed payload (to reach the JSON/tag parser).
//! Any decoded session must survive an encode → decode round trip.
//!
//! Run: `cd session-cookie/fuzz && cargo +nightly fuzz run flask_decode`
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_cookie::flask::{itsdangerous, FlaskCodec};

const SECRET: &[u8] = b"fuzz-secret";
const NOW: u64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let codec = FlaskCodec::new(SECRET).with_fallbacks([b"old-secret".to_vec()]);
    let text = String::from_utf8_lossy(data);
    let _ = codec.decode(&text, Some(3600), NOW);

    let signed = itsdangerous::dumps(data, NOW, SECRET);
    if let Ok((session, _)) = codec.decode(&signed, None, NOW) {
        let again = codec.encode(&session, NOW);
        let (decoded, issued_at) = codec
            .decode(&again, None, NOW)
            .expect("a re-encoded session decodes");
        assert_eq!(issued_at, NOW);
        assert_eq!(decoded.data(), session.data());
        assert_eq!(decoded.to_tagged_json(), session.to_tagged_json());
    }
});
