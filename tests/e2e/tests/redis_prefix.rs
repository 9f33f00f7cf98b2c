//! The redis backends' e2e demos write only under their configuration's own key prefix,
//! never under Flask-Session's default `session:`, and leave nothing behind: every key
//! under the prefix, in both Redis databases the suite uses, is gone once the last
//! [`DemoConfig`] clone is dropped. Needs Redis at 127.0.0.1:6379.

// The helpers below report failures by panicking, as assertions do.
#![allow(clippy::unwrap_used)]

use demo_support::DEFAULT_REDIS_PREFIX;
use session_e2e::redis::keys_under;
use session_e2e::{Backend, DemoConfig, DemoSpec, Visitor};

/// Logs in and counts once on a fresh demo of `config`; the session cookie.
async fn write_a_session(config: &DemoConfig) -> String {
    let demo = config.start().await.unwrap();
    let mut visitor = Visitor::new(&demo).unwrap();
    let login = visitor
        .post_form("/login", &[("username", "ada")])
        .await
        .unwrap();
    assert_eq!(login.status, 303, "POST /login: {}", login.summary());
    let counted = visitor.post("/counter").await.unwrap();
    assert_eq!(counted.status, 200, "POST /counter: {}", counted.summary());
    visitor.session_cookie().unwrap().to_owned()
}

async fn keys_stay_under_the_prefix_and_go_with_the_configuration(backend: Backend) {
    let spec = DemoSpec::new("demo-axum", "demo-axum", backend);
    let config = DemoConfig::new(&spec).unwrap();
    let prefix = config.redis_prefix().unwrap().to_owned();
    assert!(
        prefix.starts_with("e2e:") && !prefix.starts_with(DEFAULT_REDIS_PREFIX),
        "{prefix}"
    );
    assert_ne!(
        DemoConfig::new(&spec).unwrap().redis_prefix(),
        Some(prefix.as_str()),
        "each configuration has a prefix of its own"
    );
    let other = config.other_store();
    assert_eq!(other.redis_prefix(), Some(prefix.as_str()));
    let urls = [
        config.database_url().unwrap().to_owned(),
        other.database_url().unwrap().to_owned(),
    ];
    assert_ne!(urls[0], urls[1]);

    let cookie = write_a_session(&config).await;
    write_a_session(&other).await;
    for url in &urls {
        let keys = keys_under(url, &prefix).unwrap();
        assert!(
            !keys.is_empty(),
            "--backend {backend} wrote nothing under {prefix} in {url}"
        );
    }
    if backend == Backend::FlaskRedis {
        // Flask-Session's layout, `SESSION_KEY_PREFIX` + sid, under the test's prefix.
        let keys = keys_under(&urls[0], &prefix).unwrap();
        assert!(
            keys.contains(&format!("{prefix}{cookie}")),
            "{keys:?} lacks the record of sid {cookie}"
        );
    }

    drop(other);
    drop(config);
    for url in &urls {
        assert_eq!(
            keys_under(url, &prefix).unwrap(),
            Vec::<String>::new(),
            "--backend {backend}: keys left under {prefix} in {url} after the configuration went"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_keys_stay_under_the_prefix_and_are_deleted() {
    keys_stay_under_the_prefix_and_go_with_the_configuration(Backend::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flask_redis_keys_stay_under_the_prefix_and_are_deleted() {
    keys_stay_under_the_prefix_and_go_with_the_configuration(Backend::FlaskRedis).await;
}
