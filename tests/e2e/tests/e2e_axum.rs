//! The end-to-end suite against `demo-axum`, one module per backend (the redis ones need Redis at
//! 127.0.0.1:6379, postgres PostgreSQL at 127.0.0.1:5432, which `scripts/test.sh` starts):
//! every scenario of `session_e2e::scenarios` starts the demo as a process on a free port and
//! drives it over HTTP. Run with: `cargo test -p session-e2e --test e2e_axum`.

session_e2e::e2e_suite!(
    memory,
    package = "demo-axum",
    bin = "demo-axum",
    backend = "memory"
);
session_e2e::e2e_suite!(
    sqlite,
    package = "demo-axum",
    bin = "demo-axum",
    backend = "sqlite"
);

session_e2e::e2e_suite!(
    cookie,
    package = "demo-axum",
    bin = "demo-axum",
    backend = "cookie"
);
session_e2e::e2e_suite!(
    flask_cookie,
    package = "demo-axum",
    bin = "demo-axum",
    backend = "flask-cookie"
);
session_e2e::e2e_suite!(
    redis,
    package = "demo-axum",
    bin = "demo-axum",
    backend = "redis"
);
session_e2e::e2e_suite!(
    flask_redis,
    package = "demo-axum",
    bin = "demo-axum",
    backend = "flask-redis"
);
session_e2e::e2e_suite!(
    postgres,
    package = "demo-axum",
    bin = "demo-axum",
    backend = "postgres"
);
session_e2e::e2e_suite!(
    files,
    package = "demo-axum",
    bin = "demo-axum",
    backend = "files"
);
session_e2e::e2e_suite!(
    flask_files,
    package = "demo-axum",
    bin = "demo-axum",
    backend = "flask-files"
);
