//! The conformance kit (`session-conformance`) against both cookie backends. A "second
//! process" is another store built from the same keys, as a second server would be.

use async_trait::async_trait;
use session_conformance::BackendHarness;
use session_cookie::{CookieStore, FlaskCookieStore};
use session_core::{Key, KeyRing};

fn keys() -> KeyRing {
    KeyRing::new(Key::from_bytes(b"conformance kit key, 32+ bytes long!"))
}

struct Native {
    encrypt: bool,
}

#[async_trait]
impl BackendHarness for Native {
    type Backend = CookieStore;

    async fn backend(&self) -> CookieStore {
        CookieStore::new(keys()).with_encryption(self.encrypt)
    }

    async fn second_process(&self, _first: &CookieStore) -> CookieStore {
        CookieStore::new(keys()).with_encryption(self.encrypt)
    }
}

struct Flask;

const FLASK_SECRET: &str = "the Flask app's SECRET_KEY";

#[async_trait]
impl BackendHarness for Flask {
    type Backend = FlaskCookieStore;

    async fn backend(&self) -> FlaskCookieStore {
        FlaskCookieStore::new(FLASK_SECRET)
    }

    async fn second_process(&self, _first: &FlaskCookieStore) -> FlaskCookieStore {
        FlaskCookieStore::new(FLASK_SECRET)
    }
}

mod signed {
    session_conformance::backend_tests!(super::Native { encrypt: false });
}

mod encrypted {
    session_conformance::backend_tests!(super::Native { encrypt: true });
}

mod flask {
    session_conformance::backend_tests!(super::Flask);
}
