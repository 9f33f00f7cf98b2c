//! The conformance kit run against session-core's `MemoryStore`.

mod record_store {
    session_conformance::record_store_tests!(session_conformance::MemoryHarness);
}

mod backend {
    session_conformance::backend_tests!(session_conformance::MemoryBackendHarness);
}
