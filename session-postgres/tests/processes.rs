//! Several OS processes on one table: no lost increments, and no failed start when they
//! all migrate an empty schema at once.
//!
//! The other processes are this test binary re-executed with `--ignored --exact NAME`
//! and an environment variable naming the helper; the `helper_*` tests do nothing
//! unless started that way.

mod common;

use std::io::Write as _;
use std::process::{Child, Command, Stdio};

use serde_json::json;
use session_core::adapter::SessionManager;
use session_core::clock::ManualClock;
use session_postgres::PostgresStoreOptions;

use crate::common::TestSchema;

const HELPER: &str = "SESSION_POSTGRES_HELPER";
const URL: &str = "SESSION_POSTGRES_HELPER_URL";
const SCHEMA: &str = "SESSION_POSTGRES_HELPER_SCHEMA";
const COOKIE: &str = "SESSION_POSTGRES_HELPER_COOKIE";

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

/// A line on stdout, flushed at once.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("stdout is open");
    out.flush().expect("stdout flushes");
}

/// Waits for the helpers; each must exit 0 having printed `done`.
async fn wait_for(children: Vec<Child>) {
    for child in children {
        let output = tokio::task::spawn_blocking(|| child.wait_with_output())
            .await
            .expect("join")
            .expect("the helper runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "a helper failed: {:?}\n{stdout}",
            output.status
        );
        // libtest prints `test NAME ... ` before the helper's first line.
        assert!(
            stdout.lines().any(|line| line.ends_with("done")),
            "the helper did not finish: {stdout}"
        );
    }
}

/// A manager on the helper's schema, through a store of its own (its own pool).
async fn helper_manager() -> SessionManager {
    let store = PostgresStoreOptions::default()
        .with_schema(env(SCHEMA))
        .with_max_connections(4)
        .connect(&env(URL))
        .await
        .expect("the helper connects");
    common::manager(store, &ManualClock::starting_now())
}

const TASKS: usize = 4;
const PER_TASK: usize = 75;

#[test]
#[ignore = "helper process for increments_from_two_processes_are_never_lost"]
fn helper_increment() {
    if !is_helper("helper_increment") {
        return;
    }
    runtime().block_on(async {
        let manager = helper_manager().await;
        let cookie = env(COOKIE);
        let mut handles = Vec::new();
        for _ in 0..TASKS {
            let (manager, cookie) = (manager.clone(), cookie.clone());
            handles.push(tokio::spawn(async move {
                for _ in 0..PER_TASK {
                    common::increment(&manager, &cookie)
                        .await
                        .expect("every increment is saved");
                }
            }));
        }
        for handle in handles {
            handle.await.expect("an increment task panicked");
        }
        say("done");
    });
}

/// Two processes, each 300 increments (4 concurrent requests at a time) on one session
/// through a `SessionManager` of its own: only PostgreSQL and the compare-and-swap keep
/// them apart, and all 600 count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn increments_from_two_processes_are_never_lost() {
    let (schema, store) = common::temp_store().await;
    let manager = common::manager(store, &ManualClock::starting_now());
    let cookie = common::new_counter(&manager).await;

    let envs = [
        (URL, schema.url()),
        (SCHEMA, schema.name.as_str()),
        (COOKIE, cookie.as_str()),
    ];
    let children = (0..2)
        .map(|_| spawn_helper("helper_increment", &envs))
        .collect();
    wait_for(children).await;

    assert_eq!(
        common::read(&manager, &cookie, "counter")
            .await
            .expect("load"),
        Some(json!(2 * TASKS * PER_TASK)),
        "increments were lost"
    );
}

#[test]
#[ignore = "helper process for processes_starting_together_on_an_empty_schema_all_start"]
fn helper_start() {
    if !is_helper("helper_start") {
        return;
    }
    runtime().block_on(async {
        let manager = helper_manager().await;
        // Each writes a session, so a start that "succeeded" on a broken table fails here.
        let (request, session) = common::open(&manager, None).await.expect("load");
        session.insert("started", true).expect("insert");
        common::finish(&request).await.expect("save");
        say("done");
    });
}

/// Four processes connect at once to a schema that does not exist yet: the advisory lock
/// makes them take turns at creating it, so none fails on another's `CREATE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_starting_together_on_an_empty_schema_all_start() {
    let schema = TestSchema::new().await;
    let envs = [(URL, schema.url()), (SCHEMA, schema.name.as_str())];
    let children = (0..4)
        .map(|_| spawn_helper("helper_start", &envs))
        .collect();
    wait_for(children).await;

    let store = common::options(&schema)
        .connect(schema.url())
        .await
        .expect("the schema is there");
    assert_eq!(common::row_count(&store).await, 4);
    let versions: Vec<i32> = sqlx::query_scalar(&format!(
        "SELECT version FROM \"{}\".session_records_migrations ORDER BY version",
        schema.name
    ))
    .fetch_all(store.pool())
    .await
    .expect("the ledger");
    assert_eq!(versions, [1, 2], "the migrations ran once");
}
