//! The conformance kit run against session-core's `MemoryStore`.

mod record_store {
    session_conformance::record_store_tests!(session_conformance::MemoryHarness);
}

mod backend {
    session_conformance::backend_tests!(session_conformance::MemoryBackendHarness);
}

/// `ServerSide<MemoryStore>` as configured differently: signed id cookies (the app's keys
/// in the configuration) and no size limit, so the kit's branches for those run too.
mod configured {
    use async_trait::async_trait;
    use session_conformance::BackendHarness;
    use session_core::backend::SessionBackend as _;
    use session_core::keys::{Key, KeyRing};
    use session_core::store::{MemoryStore, ServerSide};
    use session_core::SessionConfig;

    pub(super) struct Configured {
        pub(super) keys: bool,
        pub(super) unlimited: bool,
    }

    #[async_trait]
    impl BackendHarness for Configured {
        type Backend = ServerSide<MemoryStore>;

        async fn backend(&self) -> Self::Backend {
            let backend = ServerSide::new(MemoryStore::default());
            if self.unlimited {
                backend.with_max_session_bytes(None)
            } else {
                backend
            }
        }

        async fn second_process(&self, first: &Self::Backend) -> Self::Backend {
            ServerSide::from_arc(first.store().clone())
                .with_max_session_bytes(first.capabilities().max_session_bytes)
        }

        fn config(&self) -> SessionConfig {
            let config = SessionConfig::default();
            if self.keys {
                config.with_keys(KeyRing::new(Key::from_bytes(
                    b"the memory harness's key, 32+ bytes",
                )))
            } else {
                config
            }
        }
    }

    mod signed_ids {
        session_conformance::backend_tests!(super::Configured {
            keys: true,
            unlimited: false,
        });
    }

    mod unlimited {
        session_conformance::backend_tests!(super::Configured {
            keys: false,
            unlimited: true,
        });
    }
}
