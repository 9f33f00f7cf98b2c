//! The conformance kit (`session-conformance`) against both cookie backends. A "second
//! process" is another backend built from the same keys, as a second server would be.

use async_trait::async_trait;
use session_conformance::BackendHarness;
use session_cookie::{CookieBackend, FlaskCookieBackend};
use session_core::keys::{Key, KeyRing};
use session_core::SessionConfig;

fn keys() -> KeyRing {
    KeyRing::new(Key::from_bytes(b"conformance kit key, 32+ bytes long!"))
}

struct Native {
    encrypt: bool,
}

#[async_trait]
impl BackendHarness for Native {
    type Backend = CookieBackend;

    async fn backend(&self) -> CookieBackend {
        CookieBackend::new(keys()).with_encryption(self.encrypt)
    }

    async fn second_process(&self, _first: &CookieBackend) -> CookieBackend {
        CookieBackend::new(keys()).with_encryption(self.encrypt)
    }

    /// The app's keys are the backend's: the configuration a real app would have.
    fn config(&self) -> SessionConfig {
        SessionConfig::default().with_keys(keys())
    }
}

struct Flask;

const FLASK_SECRET: &str = "the Flask app's SECRET_KEY";

#[async_trait]
impl BackendHarness for Flask {
    type Backend = FlaskCookieBackend;

    async fn backend(&self) -> FlaskCookieBackend {
        FlaskCookieBackend::new(FLASK_SECRET)
    }

    async fn second_process(&self, _first: &FlaskCookieBackend) -> FlaskCookieBackend {
        FlaskCookieBackend::new(FLASK_SECRET)
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
