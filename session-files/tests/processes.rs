//! Several processes on one session directory: no lost increments, no torn file after a
//! writer is killed (`SIGKILL`) mid-write, and a per-user index that stays exact while
//! both write tied sessions.
//!
//! The other processes are this test binary re-executed with `--ignored --exact NAME` and
//! an environment variable naming the helper; the `helper_*` tests do nothing unless
//! started that way.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::json;
use session_core::adapter::SessionManager;
use session_core::clock::{Clock as _, ManualClock};
use session_core::store::{RecordStore as _, SessionId, StorageKey};
use session_core::SessionConfig;
use session_files::FileStore;

const HELPER: &str = "SESSION_FILES_HELPER";
const DIR: &str = "SESSION_FILES_HELPER_DIR";
const COOKIE: &str = "SESSION_FILES_HELPER_COOKIE";

/// Starts this test binary running only the helper test `name`, with `envs`.
fn spawn_helper(name: &str, envs: &[(&str, &str)]) -> Child {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([
            "--ignored",
            "--exact",
            name,
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HELPER, name)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the helper process starts")
}

/// Whether this process was started as helper `name`.
fn is_helper(name: &str) -> bool {
    std::env::var(HELPER).is_ok_and(|helper| helper == name)
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("helper needs {name}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A line on stdout, flushed at once so the parent sees it even if killed right after.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("stdout is open");
    out.flush().expect("stdout flushes");
}

async fn manager(dir: &Path, clock: &ManualClock) -> SessionManager {
    let store = FileStore::open(dir).await.expect("the directory opens");
    common::manager(store, SessionConfig::default(), clock)
}

/// `tasks` concurrent tasks each doing `per_task` increments through one manager.
async fn hammer(manager: &SessionManager, cookie: &str, tasks: usize, per_task: usize) {
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (manager, cookie) = (manager.clone(), cookie.to_owned());
        handles.push(tokio::spawn(async move {
            for _ in 0..per_task {
                common::increment(&manager, &cookie)
                    .await
                    .expect("increment");
            }
        }));
    }
    for handle in handles {
        handle.await.expect("an increment task panicked");
    }
}

/// 300 increments per process, in 6 concurrent tasks of 50.
const TASKS: usize = 6;
const PER_TASK: usize = 50;

#[test]
#[ignore = "helper process for increments_from_two_processes_are_never_lost"]
fn helper_increment() {
    if !is_helper("helper_increment") {
        return;
    }
    runtime().block_on(async {
        let manager = manager(Path::new(&env(DIR)), &ManualClock::starting_now()).await;
        hammer(&manager, &env(COOKIE), TASKS, PER_TASK).await;
        say("done");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn increments_from_two_processes_are_never_lost() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let manager = manager(dir.path(), &ManualClock::starting_now()).await;
    let cookie = common::new_counter(&manager).await;

    let path = dir.path().to_str().expect("a UTF-8 path").to_owned();
    let child = spawn_helper("helper_increment", &[(DIR, &path), (COOKIE, &cookie)]);
    hammer(&manager, &cookie, TASKS, PER_TASK).await;
    let output = tokio::task::spawn_blocking(|| child.wait_with_output())
        .await
        .expect("join")
        .expect("the helper runs");
    assert!(
        output.status.success(),
        "the helper failed: {:?}",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.lines().any(|line| line.ends_with("done")),
        "the helper did not finish: {stdout}"
    );
    assert_eq!(
        common::read(&manager, &cookie, "counter")
            .await
            .expect("load"),
        Some(json!(2 * TASKS * PER_TASK)),
        "increments were lost"
    );
}

#[test]
#[ignore = "helper process for a_killed_writer_leaves_no_torn_file"]
fn helper_writer() {
    if !is_helper("helper_writer") {
        return;
    }
    runtime().block_on(async {
        let manager = manager(Path::new(&env(DIR)), &ManualClock::starting_now()).await;
        let counter = env(COOKIE);
        // Bounded, though the parent kills it long before the end.
        for i in 0..100_000_u64 {
            let (request, session) = common::open(&manager, None).await.expect("load");
            session.insert("i", i).expect("insert");
            // Sizes that vary, so a torn write would show as a short file.
            let payload = "x".repeat(usize::try_from(i % 64).unwrap_or(0) * 256);
            session.insert("payload", payload).expect("insert");
            common::finish(&request).await.expect("save");
            let count = common::increment(&manager, &counter)
                .await
                .expect("increment");
            say(&format!("counted {count}"));
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_writer_leaves_no_torn_file() {
    let clock = ManualClock::starting_now();
    let dir = tempfile::tempdir().expect("a temp dir");
    let manager = manager(dir.path(), &clock).await;
    let counter = common::new_counter(&manager).await;
    let path = dir.path().to_str().expect("a UTF-8 path").to_owned();
    let mut child = spawn_helper("helper_writer", &[(DIR, &path), (COOKIE, &counter)]);
    let stdout = child.stdout.take().expect("piped stdout");
    let (last_count, status) = tokio::task::spawn_blocking(move || {
        let mut last = 0_u64;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        while reader
            .read_line(&mut line)
            .expect("read the helper's stdout")
            > 0
        {
            if let Some(at) = line.find("counted ") {
                last = line[at + 8..].trim().parse().expect("a count");
                if last == 200 {
                    // SIGKILL while it is busy writing.
                    child.kill().expect("the helper can be killed");
                }
            }
            line.clear();
        }
        (last, child.wait().expect("the helper is reaped"))
    })
    .await
    .expect("join");
    assert!(
        !status.success(),
        "the helper must have been killed: {status:?}"
    );
    assert!(last_count >= 200, "the helper counted to {last_count} only");

    // Every session file in the directory decodes (or is absent): none is torn.
    let store = FileStore::open(dir.path())
        .await
        .expect("the directory reopens");
    let names = common::session_files(dir.path());
    assert!(
        names.len() > 200,
        "the helper wrote {} sessions",
        names.len()
    );
    for name in &names {
        // A storage key is the file's name; load it as the store would.
        let bytes = std::fs::read(dir.path().join(name)).expect("read");
        let key = key_named(name);
        let loaded = store.load(&key, clock.now()).await;
        assert!(
            matches!(loaded, Ok(Some(_))),
            "{name} ({} bytes) does not load: {loaded:?}",
            bytes.len()
        );
    }
    let counter = common::read(&manager, &counter, "counter")
        .await
        .expect("load")
        .and_then(|n| n.as_u64())
        .unwrap_or(0);
    assert!(
        counter >= last_count,
        "counter {counter} is behind the acknowledged {last_count}"
    );
}

/// The storage key whose file is `name`. A file is named by its key's text, and 64 hex
/// digits are a well-formed id too, so the key is rebuilt from the name as a raw key: the
/// store names a 64-hex-digit key's file after the key itself, whatever made it.
fn key_named(name: &str) -> StorageKey {
    StorageKey::raw_for_flask_session_compat(&SessionId::parse(name).expect("64 hex digits parse"))
}

/// 10 tasks per process, 30 tied logins each.
const INDEX_TASKS: usize = 10;
const INDEX_ROUNDS: usize = 30;

/// Tied writes from `INDEX_TASKS` tasks on one store, seeds from `first`.
async fn race_index(dir: &Path, first: usize) {
    let store = std::sync::Arc::new(FileStore::open(dir).await.expect("the directory opens"));
    let now = ManualClock::starting_now().now();
    let mut tasks = Vec::new();
    for seed in first..first + INDEX_TASKS {
        let store = std::sync::Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            common::index::race_tied_writes(&store, seed, INDEX_ROUNDS, now).await;
        }));
    }
    for task in tasks {
        task.await.expect("a task panicked");
    }
}

#[test]
#[ignore = "helper process for the_index_stays_exact_across_processes"]
fn helper_index() {
    if !is_helper("helper_index") {
        return;
    }
    runtime().block_on(async {
        race_index(Path::new(&env(DIR)), INDEX_TASKS).await;
        say("done");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_stays_exact_across_processes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().to_str().expect("a UTF-8 path").to_owned();
    let child = spawn_helper("helper_index", &[(DIR, &path)]);
    race_index(dir.path(), 0).await;
    let output = tokio::task::spawn_blocking(|| child.wait_with_output())
        .await
        .expect("join")
        .expect("the helper runs");
    assert!(
        output.status.success(),
        "the helper failed: {:?}",
        output.status
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .any(|line| line.ends_with("done")),
        "the helper did not finish"
    );
    let store = FileStore::open(dir.path())
        .await
        .expect("the directory opens");
    let now = ManualClock::starting_now().now();
    let tied = common::index::tied_files(&store, now).await;
    assert!(tied.len() > 100, "{} tied sessions", tied.len());
    assert_eq!(
        common::index::markers(dir.path()),
        tied,
        "the markers are exactly the tied sessions"
    );
}

#[test]
#[ignore = "helper process for a_killed_writer_leaves_no_tied_session_unindexed"]
fn helper_tied_writer() {
    if !is_helper("helper_tied_writer") {
        return;
    }
    runtime().block_on(async {
        let store = FileStore::open(env(DIR))
            .await
            .expect("the directory opens");
        let now = ManualClock::starting_now().now();
        // Bounded, though the parent kills it long before the end.
        for round in 0..100_000 {
            common::index::race_tied_writes(&store, round, 5, now).await;
            say(&format!("round {round}"));
        }
    });
}

/// A writer killed (`SIGKILL`) amid tied writes leaves every tied session in its
/// principal's bucket; what it can leave besides (markers leading nowhere) the listings and
/// the cleanup remove.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_writer_leaves_no_tied_session_unindexed() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().to_str().expect("a UTF-8 path").to_owned();
    let mut child = spawn_helper("helper_tied_writer", &[(DIR, &path)]);
    let stdout = child.stdout.take().expect("piped stdout");
    let status = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        while reader
            .read_line(&mut line)
            .expect("read the helper's stdout")
            > 0
        {
            if line.trim_end().ends_with("round 60") {
                child.kill().expect("the helper can be killed");
            }
            line.clear();
        }
        child.wait().expect("the helper is reaped")
    })
    .await
    .expect("join");
    assert!(
        !status.success(),
        "the helper must have been killed: {status:?}"
    );

    let store = FileStore::options()
        .with_cleanup_interval(None)
        .open(dir.path())
        .await
        .expect("the directory reopens");
    let now = ManualClock::starting_now().now();
    let tied = common::index::tied_files(&store, now).await;
    let markers = common::index::markers(dir.path());
    assert!(tied.len() > 50, "{} tied sessions", tied.len());
    assert!(
        tied.is_subset(&markers),
        "tied sessions without a marker: {:?}",
        tied.difference(&markers).collect::<Vec<_>>()
    );
    for principal in ["ada", "bob"] {
        common::index::listed(&store, principal, now).await;
    }
    store.delete_expired(now).await.expect("sweep");
    assert_eq!(common::index::markers(dir.path()), tied, "healed to exact");
}
