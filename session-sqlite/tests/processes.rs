//! Several processes on one database file: no lost increments, no lost acknowledged
//! saves after a `SIGKILL`, relative URLs resolved against the working directory.
//!
//! The other processes are this test binary re-executed with `--ignored --exact NAME`
//! and an environment variable naming the helper; the `helper_*` tests do nothing
//! unless started that way.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::json;
use session_core::adapter::SessionManager;
use session_core::backend::CookieUpdate;
use session_core::clock::ManualClock;
use session_sqlite::SqliteStore;

const HELPER: &str = "SESSION_SQLITE_HELPER";
const DB: &str = "SESSION_SQLITE_HELPER_DB";
const COOKIE: &str = "SESSION_SQLITE_HELPER_COOKIE";

/// Starts this test binary running only the helper test `name`, with `envs`.
fn spawn_helper(name: &str, envs: &[(&str, &str)], cwd: Option<&Path>) -> Child {
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    command
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
        .stderr(Stdio::inherit());
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    command.spawn().expect("the helper process starts")
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

const TASKS: usize = 8;
const PER_TASK: usize = 40;

#[test]
#[ignore = "helper process for increments_from_three_processes_are_never_lost"]
fn helper_increment() {
    if !is_helper("helper_increment") {
        return;
    }
    runtime().block_on(async {
        let store = SqliteStore::connect(&env(DB))
            .await
            .expect("the helper opens the file");
        let manager = common::manager(store, &ManualClock::starting_now());
        hammer(&manager, &env(COOKIE), TASKS, PER_TASK).await;
        say("done");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn increments_from_three_processes_are_never_lost() {
    let (_dir, path, store) = common::temp_store(Default::default()).await;
    let manager = common::manager(store, &ManualClock::starting_now());
    let cookie = common::new_counter(&manager).await;

    let url = common::url(&path);
    let children: Vec<Child> = (0..2)
        .map(|_| spawn_helper("helper_increment", &[(DB, &url), (COOKIE, &cookie)], None))
        .collect();
    hammer(&manager, &cookie, TASKS, PER_TASK).await;
    for child in children {
        let output = tokio::task::spawn_blocking(|| child.wait_with_output())
            .await
            .expect("join")
            .expect("the helper runs");
        assert!(
            output.status.success(),
            "a helper failed: {:?}",
            output.status
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        // libtest prints `test NAME ... ` before the helper's first line.
        assert!(
            stdout.lines().any(|line| line.ends_with("done")),
            "the helper did not finish: {stdout}"
        );
    }

    let expected = 3 * TASKS * PER_TASK;
    assert_eq!(
        common::read(&manager, &cookie, "counter")
            .await
            .expect("load"),
        Some(json!(expected)),
        "increments were lost"
    );
}

#[test]
#[ignore = "helper process for acknowledged_saves_survive_sigkill"]
fn helper_crash_writer() {
    if !is_helper("helper_crash_writer") {
        return;
    }
    runtime().block_on(async {
        let store = SqliteStore::connect(&env(DB))
            .await
            .expect("the helper opens the file");
        let manager = common::manager(store, &ManualClock::starting_now());
        let counter_cookie = env(COOKIE);
        // Bounded, though the parent kills it long before the end.
        for i in 0..100_000_u64 {
            let (request, session) = common::open(&manager, None).await.expect("load");
            session.insert("i", i).expect("insert");
            session
                .insert(
                    "payload",
                    "x".repeat(usize::try_from(i % 64).unwrap_or(0) * 64),
                )
                .expect("insert");
            let CookieUpdate::Set { value, .. } = common::finish(&request).await.expect("save")
            else {
                panic!("a new session sets a cookie");
            };
            say(&format!("created {value} {i}"));
            let count = common::increment(&manager, &counter_cookie)
                .await
                .expect("increment");
            say(&format!("counted {count}"));
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_saves_survive_sigkill() {
    let clock = ManualClock::starting_now();
    let (_dir, path, store) = common::temp_store(Default::default()).await;
    let manager = common::manager(store, &clock);
    let counter_cookie = common::new_counter(&manager).await;
    // Only the child writes from here on, and this process's connections stay open
    // while it dies, as a sibling worker's would.
    let url = common::url(&path);
    let mut child = spawn_helper(
        "helper_crash_writer",
        &[(DB, &url), (COOKIE, &counter_cookie)],
        None,
    );
    let stdout = child.stdout.take().expect("piped stdout");

    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        while reader
            .read_line(&mut line)
            .expect("read the helper's stdout")
            > 0
        {
            lines.push(std::mem::take(&mut line));
            if lines.iter().filter(|l| l.contains("created ")).count() == 300 {
                // SIGKILL while it is busy writing; whatever it printed before dying is
                // still in the pipe and read below.
                child.kill().expect("the helper can be killed");
            }
        }
        let status = child.wait().expect("the helper is reaped");
        (lines, status)
    })
    .await
    .expect("join");
    let (lines, status) = lines;
    assert!(
        !status.success(),
        "the helper must have been killed, not finished: {status:?}"
    );

    let mut created = Vec::new();
    let mut last_count = 0;
    for line in &lines {
        // libtest prints `test NAME ... ` before the helper's first line.
        let line = ["created ", "counted "]
            .iter()
            .find_map(|marker| line.find(marker).map(|at| &line[at..]))
            .unwrap_or_default();
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("created"), Some(cookie), Some(i)) => {
                created.push((cookie.to_owned(), i.parse::<u64>().expect("i")))
            }
            (Some("counted"), Some(count), None) => last_count = count.parse().expect("count"),
            _ => {}
        }
    }
    assert!(
        created.len() >= 300,
        "the helper acknowledged only {} saves",
        created.len()
    );

    // A new store on the file, as a restarted app would open it.
    drop(manager);
    let store = SqliteStore::connect(&url)
        .await
        .expect("the file reopens after the crash");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut *store.acquire_writer().await.expect("the write connection"))
        .await
        .expect("integrity_check runs");
    assert_eq!(check, "ok");
    let manager = common::manager(store, &clock);
    for (cookie, i) in &created {
        assert_eq!(
            common::read(&manager, cookie, "i").await.expect("load"),
            Some(json!(i)),
            "acknowledged save {i} was lost"
        );
    }
    let counter = common::read(&manager, &counter_cookie, "counter")
        .await
        .expect("load")
        .and_then(|n| n.as_u64())
        .unwrap_or(0);
    assert!(
        counter >= last_count,
        "counter {counter} is behind the acknowledged {last_count}"
    );
}

#[test]
#[ignore = "helper process for relative_urls_resolve_against_the_working_directory"]
fn helper_relative_url() {
    if !is_helper("helper_relative_url") {
        return;
    }
    runtime().block_on(async {
        let store = SqliteStore::connect("sqlite://relative.db")
            .await
            .expect("a relative URL opens");
        assert_eq!(store.path(), Path::new("relative.db"));
        say("opened");
    });
}

#[test]
fn relative_urls_resolve_against_the_working_directory() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let child = spawn_helper("helper_relative_url", &[], Some(dir.path()));
    let output = child.wait_with_output().expect("the helper runs");
    assert!(
        output.status.success(),
        "the helper failed: {:?}",
        output.status
    );
    assert!(
        dir.path().join("relative.db").is_file(),
        "sqlite://relative.db must create ./relative.db"
    );
}
