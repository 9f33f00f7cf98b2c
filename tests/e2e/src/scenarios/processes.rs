//! Processes and storage: two demos on one store, restarts, where the database goes.

use std::path::Path;

use super::limits::race;
use super::{assert_anonymous, assert_logged_in, config, count, login, start, NAME};
use crate::{DemoSpec, Storage, Visitor};

/// How many `POST /counter` race across the two processes.
const ACROSS: u64 = 40;

/// Two demo processes with the same storage and key, as two machines behind a load
/// balancer: a login on one is a login on the other, and 40 concurrent counters split
/// across both all count and answer exactly 1..=40 (each answer is the value the store
/// committed: the store's compare-and-swap, not a lock in one process, keeps them). The
/// memory backend declares each process separate: the other process does not
/// know the session. Cookie backends share by the key but declare last-write-wins.
pub async fn two_processes_share_one_store(spec: &DemoSpec) {
    let config = config(spec);
    let (first, mut visitor) = start(&config).await;
    let second = config.start().await.unwrap();
    login(&mut visitor, NAME).await;
    let mut there = visitor.at(&second);
    let capabilities = spec.backend.capabilities();
    if !capabilities.shared_by_processes {
        assert_anonymous(
            &mut there,
            "--backend memory declares per-process sessions; the second process",
        )
        .await;
        return;
    }
    assert_logged_in(&mut there, NAME, "the second process").await;
    let visitors: Vec<Visitor> = (0..ACROSS)
        .map(|i| {
            if i % 2 == 0 {
                visitor.at(&first)
            } else {
                visitor.at(&second)
            }
        })
        .collect();
    let mut values = race(visitors, "across two processes").await;
    values.sort_unstable();
    if capabilities.merges_concurrent_writes {
        // Each answer is the value the store committed for that request, whichever
        // process served it: every count is there, and no two requests share one.
        assert_eq!(
            values,
            (1..=ACROSS).collect::<Vec<_>>(),
            "{ACROSS} concurrent increments across two processes must answer exactly 1..={ACROSS}"
        );
        assert_eq!(
            count(&mut there, "after the race").await,
            ACROSS + 1,
            "{ACROSS} concurrent increments across two processes must all count"
        );
    } else {
        assert_eq!(
            values,
            vec![1; values.len()],
            "--backend {}: declared last-write-wins across processes",
            spec.backend
        );
    }
}

/// A restart with the same `--secret-key` (and database) keeps the login and the data.
/// The memory backend declares that a restart forgets every session.
pub async fn restart_keeps_logins(spec: &DemoSpec) {
    let (mut demo, mut visitor) = start(&config(spec)).await;
    login(&mut visitor, NAME).await;
    assert_eq!(count(&mut visitor, "before the restart").await, 1);
    demo.restart().await.unwrap();
    let mut visitor = visitor.at(&demo);
    if spec.backend.capabilities().survives_restart {
        assert_logged_in(
            &mut visitor,
            NAME,
            "after a restart with the same --secret-key",
        )
        .await;
        assert_eq!(
            count(&mut visitor, "after the restart").await,
            2,
            "the session's data must survive the restart"
        );
    } else {
        assert_anonymous(
            &mut visitor,
            "--backend memory declares that a restart forgets sessions; after it",
        )
        .await;
    }
}

/// `--database-url` puts the store where it says: `sqlite:///abs/path.db` and
/// `sqlite://relative.db` (relative to the working directory) both create their file;
/// for the directory backends, `file:///abs/dir` and `file://relative/dir` both create
/// their directory and keep the session's file in it. Backends without a database file
/// leave the working directory alone.
pub async fn database_url_forms(spec: &DemoSpec) {
    let config = config(spec);
    let (scheme, absolute, relative, created) = match spec.backend.storage() {
        Storage::SqliteFile => ("sqlite", "sessions.db", "relative.db", "file"),
        Storage::Directory => ("file", "sessions", "relative/dir", "directory"),
        Storage::Process | Storage::Cookie | Storage::Redis | Storage::Postgres => {
            let (_demo, mut visitor) = start(&config).await;
            login(&mut visitor, NAME).await;
            assert_logged_in(&mut visitor, NAME, "after login").await;
            let default_file = config.dir().join("demo-sessions.db");
            assert!(
                !default_file.exists(),
                "--backend {} needs no SQLite file, yet created {}",
                spec.backend,
                default_file.display()
            );
            return;
        }
    };
    let relative_form = format!("{scheme}://{relative}");
    let relative_config = config
        .clone()
        .with_database_url(Some(relative_form.clone()));
    for (form, config, path) in [
        (
            config.database_url().unwrap_or_default().to_owned(),
            config.clone(),
            config.dir().join(absolute),
        ),
        (relative_form, relative_config, config.dir().join(relative)),
    ] {
        let (_demo, mut visitor) = start(&config).await;
        login(&mut visitor, NAME).await;
        assert_logged_in(&mut visitor, NAME, &format!("with --database-url {form}")).await;
        assert!(
            path.exists(),
            "--database-url {form} should have created the {created} {}",
            path.display()
        );
        if spec.backend.storage() == Storage::Directory {
            assert!(
                holds_a_session_file(&path),
                "--database-url {form}: after a login, the directory {} should hold a \
                 session's file (named by a hex digest); it holds {:?}",
                path.display(),
                entries(&path)
            );
        }
    }
}

/// Whether `dir` holds a file named by a hex digest, as both directory formats name a
/// session's file.
fn holds_a_session_file(dir: &Path) -> bool {
    entries(dir).iter().any(|name| {
        matches!(name.len(), 32 | 64) && name.bytes().all(|byte| byte.is_ascii_hexdigit())
    })
}

/// The names in `dir` (none when it cannot be read).
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}
