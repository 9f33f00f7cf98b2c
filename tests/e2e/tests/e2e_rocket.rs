//! The end-to-end suite against `demo-rocket`, one module per backend (the redis ones need Redis at
//! 127.0.0.1:6379, which `scripts/test.sh` starts): every scenario of
//! `session_e2e::scenarios` starts the demo as a process on a free port and
//! drives it over HTTP. Run with: `cargo test -p session-e2e --test e2e_rocket`.

session_e2e::e2e_suite!(
    memory,
    package = "demo-rocket",
    bin = "demo-rocket",
    backend = "memory"
);
session_e2e::e2e_suite!(
    sqlite,
    package = "demo-rocket",
    bin = "demo-rocket",
    backend = "sqlite"
);

session_e2e::e2e_suite!(
    cookie,
    package = "demo-rocket",
    bin = "demo-rocket",
    backend = "cookie"
);
session_e2e::e2e_suite!(
    flask_cookie,
    package = "demo-rocket",
    bin = "demo-rocket",
    backend = "flask-cookie"
);
session_e2e::e2e_suite!(
    redis,
    package = "demo-rocket",
    bin = "demo-rocket",
    backend = "redis"
);
session_e2e::e2e_suite!(
    flask_redis,
    package = "demo-rocket",
    bin = "demo-rocket",
    backend = "flask-redis"
);
