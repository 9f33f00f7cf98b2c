//! Fuzzes `CookieBackend`'s decoder: arbitrary input as a cookie value, and the same bytes
//! as a correctly sealed payload (signed, then encrypted) to reach the payload parser.
//! Any decoded record must survive an encode → decode round trip.
//!
//! Run: `cd session-cookie/fuzz && cargo +nightly fuzz run native_decode`
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use session_core::clock::Timestamp;
use session_core::keys::{Key, KeyRing};
use session_core::SessionConfig;
use session_cookie::CookieBackend;

const NOW: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

/// Signed and encrypted backends, built once: key derivation is not what is fuzzed.
fn backends() -> &'static [CookieBackend; 2] {
    static BACKENDS: OnceLock<[CookieBackend; 2]> = OnceLock::new();
    BACKENDS.get_or_init(|| {
        let ring = KeyRing::new(Key::from_bytes(&[7; 32])).with_verifying(Key::from_bytes(&[8; 32]));
        [CookieBackend::new(ring.clone()), CookieBackend::new(ring).with_encryption(true)]
    })
}

fuzz_target!(|data: &[u8]| {
    let config = SessionConfig::default();
    let text = String::from_utf8_lossy(data);
    for backend in backends() {
        let _ = backend.decode(&text, &config, NOW);

        let sealed = backend.codec().seal("session", data, NOW).expect("sealing works");
        if let Some(record) = backend.decode(&sealed, &config, NOW) {
            let again = backend.encode(&record, "session", NOW).expect("a decoded record encodes");
            assert_eq!(backend.cookie_len(&record, "session"), "session=".len() + again.len());
            let decoded = backend.decode(&again, &config, NOW).expect("a re-encoded record decodes");
            assert_eq!(decoded, record);
        }
    }
});
