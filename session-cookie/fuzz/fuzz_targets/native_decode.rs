//! Fuzzes `CookieStore`'s decoder: arbitrary input as a cookie value, and the same bytes
//! as a correctly sealed payload (signed, then encrypted) to reach the payload parser.
//! Any decoded record must survive an encode → decode round trip.
//!
//! Run: `cd session-cookie/fuzz && cargo +nightly fuzz run native_decode`
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use session_core::{Key, KeyRing, SessionConfig, Timestamp};
use session_cookie::CookieStore;

const NOW: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

/// Signed and encrypted stores, built once: key derivation is not what is fuzzed.
fn stores() -> &'static [CookieStore; 2] {
    static STORES: OnceLock<[CookieStore; 2]> = OnceLock::new();
    STORES.get_or_init(|| {
        let ring = KeyRing::new(Key::from_bytes(&[7; 32])).with_verifying(Key::from_bytes(&[8; 32]));
        [CookieStore::new(ring.clone()), CookieStore::new(ring).with_encryption(true)]
    })
}

fuzz_target!(|data: &[u8]| {
    let config = SessionConfig::default();
    let text = String::from_utf8_lossy(data);
    for store in stores() {
        let _ = store.decode(&text, &config, NOW);

        let sealed = store.codec().seal("session", data, NOW).expect("sealing works");
        if let Some(record) = store.decode(&sealed, &config, NOW) {
            let again = store.encode(&record, "session", NOW).expect("a decoded record encodes");
            assert_eq!(store.cookie_len(&record, "session"), "session=".len() + again.len());
            let decoded = store.decode(&again, &config, NOW).expect("a re-encoded record decodes");
            assert_eq!(decoded, record);
        }
    }
});
