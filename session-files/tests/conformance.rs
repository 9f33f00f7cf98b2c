//! The conformance kit against `FileStore` (layer 2) and `ServerSide<FileStore>` (layer 1),
//! on real directories.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use session_conformance::{BackendHarness, StoreHarness};
use session_core::store::ServerSide;
use session_files::FileStore;

/// Each store gets its own directory in one temp dir that lives as long as the harness.
struct FilesHarness {
    dir: tempfile::TempDir,
    dirs: AtomicUsize,
}

impl FilesHarness {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temp dir"),
            dirs: AtomicUsize::new(0),
        }
    }

    async fn open(&self) -> FileStore {
        let n = self.dirs.fetch_add(1, Ordering::Relaxed);
        // The real defaults, cleanup task included (its first run is a minute away).
        FileStore::open(self.dir.path().join(format!("sessions-{n}")))
            .await
            .expect("a new directory opens")
    }
}

#[async_trait]
impl StoreHarness for FilesHarness {
    type Store = FileStore;

    async fn store(&self) -> FileStore {
        self.open().await
    }

    async fn dump(&self, store: &FileStore) -> Vec<u8> {
        common::dump(store.dir())
    }

    /// A store whose directory was removed after it opened: every call meets the
    /// missing directory, as after an operator's `rm -r`.
    async fn broken_store(&self) -> Option<FileStore> {
        let store = self.open().await;
        std::fs::remove_dir_all(store.dir()).expect("remove the directory");
        Some(store)
    }
}

#[async_trait]
impl BackendHarness for FilesHarness {
    type Backend = ServerSide<FileStore>;

    async fn backend(&self) -> Self::Backend {
        ServerSide::new(self.open().await)
    }

    /// Another store (its own lock handle and cleanup task) on the same directory, as a
    /// second process would open it.
    async fn second_process(&self, first: &Self::Backend) -> Self::Backend {
        ServerSide::new(
            FileStore::open(first.store().dir())
                .await
                .expect("the directory opens twice"),
        )
    }
}

mod record_store {
    use super::FilesHarness;

    session_conformance::record_store_tests!(FilesHarness::new());
}

mod backend {
    use super::FilesHarness;

    session_conformance::backend_tests!(FilesHarness::new());
}
