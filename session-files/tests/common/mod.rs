//! Shared helpers for the integration tests: temp directories, what is in them, and
//! requests driven through a `SessionManager` on a manual clock, as an adapter drives them.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;

// The kit's request helpers; not every test file uses every one.
#[allow(unused_imports)]
pub use session_conformance::requests::{finish, increment, new_counter, open, read_value as read};
use session_core::adapter::SessionManager;
use session_core::backend::IntoSessionBackend;
use session_core::clock::ManualClock;
use session_core::SessionConfig;

pub mod index;

/// A manager serving `backend` with `config`, reading time from `clock`.
pub fn manager(
    backend: impl IntoSessionBackend,
    config: SessionConfig,
    clock: &ManualClock,
) -> SessionManager {
    SessionManager::new(backend, config)
        .expect("the configuration is valid")
        .with_clock(clock.clone())
}

/// Every file of `dir` and of its subdirectories such as the per-user index (path relative
/// to `dir`, then contents), sorted by path: everything the store keeps.
pub fn dump(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    dump_into(dir, dir, &mut bytes);
    bytes
}

fn dump_into(root: &Path, dir: &Path, bytes: &mut Vec<u8>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("the directory lists")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.strip_prefix(root).unwrap_or(&path);
        bytes.extend_from_slice(name.as_os_str().as_encoded_bytes());
        bytes.push(b'\n');
        if path.is_dir() {
            dump_into(root, &path, bytes);
            continue;
        }
        if let Ok(content) = std::fs::read(&path) {
            bytes.extend_from_slice(&content);
        }
        bytes.push(b'\n');
    }
}

/// The names of the session files in `dir` (not the lock file, not temporary files).
pub fn session_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the directory lists")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.') && !name.ends_with(".__wz_cache"))
        .collect();
    names.sort();
    names
}
