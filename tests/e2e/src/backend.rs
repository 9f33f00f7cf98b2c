//! The demo backends and what each can do by nature: the capability table the scenarios
//! follow instead of skipping.

use std::fmt;
use std::path::Path;

/// A value of `--backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Server side, SQLite file (the demos' default).
    Sqlite,
    /// Server side, in the demo's memory.
    Memory,
    /// Client side: the session in a signed cookie.
    Cookie,
    /// Client side, in Flask's cookie format.
    FlaskCookie,
    /// Server side, Redis.
    Redis,
    /// Server side, Redis in Flask-Session's format.
    FlaskRedis,
    /// Server side, PostgreSQL.
    Postgres,
}

/// Where a backend keeps its sessions, which decides the database URL a demo is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Storage {
    /// In the demo process: nothing to configure, gone when it exits.
    Process,
    /// In the cookie itself: nothing to configure.
    Cookie,
    /// A SQLite file (`--database-url sqlite:///abs/path.db`).
    SqliteFile,
    /// The Redis server at 127.0.0.1:6379.
    Redis,
    /// A schema of its own on the PostgreSQL server at 127.0.0.1:5432 (named in the URL's
    /// `search_path`; `SESSION_TEST_POSTGRES_URL` names another server), dropped when the
    /// last [`DemoConfig`](crate::DemoConfig) using it goes.
    Postgres,
}

/// What a backend can do by its nature. Scenarios that a backend cannot meet assert the
/// declared limitation instead, so nothing is skipped silently:
///
/// | backend | revokes at logout | merges concurrent writes | survives restart | shared by processes | refuses writes racing a login |
/// |---|---|---|---|---|---|
/// | `sqlite`, `redis`, `postgres` | yes | yes | yes | yes | yes |
/// | `memory` | yes | yes | no | no | yes |
/// | `cookie`, `flask-cookie` | no | no | yes | yes (same key) | no |
/// | `flask-redis` | yes | yes | yes | yes | no |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Where sessions live.
    pub storage: Storage,
    /// Logout and login kill the old id on the server, so a replayed old cookie is
    /// anonymous. Client-side cookies cannot be revoked once issued.
    pub server_side_revocation: bool,
    /// Concurrent requests on one session all count. On cookie backends the last
    /// response's cookie wins: every request succeeds, but counts are lost.
    pub merges_concurrent_writes: bool,
    /// A login survives a restart with the same `--secret-key` and database.
    pub survives_restart: bool,
    /// Two processes on the same storage (and key) see the same sessions.
    pub shared_by_processes: bool,
    /// A write on the id a login replaced moments ago is refused with 409 and no cookie,
    /// so it can neither get lost nor log the browser out: the store keeps a marker under
    /// the old id. Flask-Session's records get no marker (a Flask app would read it as
    /// data), and a cookie has no server side to mark: there a racing write starts a new
    /// session, whose cookie logs the browser out if it arrives after the login's.
    pub refuses_writes_racing_login: bool,
    /// A `/data` value this long (bytes of random text, which compresses poorly) is over
    /// the backend's session size limit, and under the demo's request body limit.
    pub oversize_value_bytes: usize,
}

impl Backend {
    /// Every backend of the demo contract.
    pub const ALL: [Backend; 7] = [
        Backend::Sqlite,
        Backend::Memory,
        Backend::Cookie,
        Backend::FlaskCookie,
        Backend::Redis,
        Backend::FlaskRedis,
        Backend::Postgres,
    ];

    /// The backend named by a `--backend` value.
    ///
    /// # Panics
    ///
    /// When `name` is not one of the demo contract's backends (a typo in a test file).
    pub fn from_flag(name: &str) -> Backend {
        match Backend::ALL
            .into_iter()
            .find(|backend| backend.flag() == name)
        {
            Some(backend) => backend,
            None => panic!(
                "unknown backend {name:?}; the demo contract has {:?}",
                Backend::ALL.map(Backend::flag)
            ),
        }
    }

    /// The `--backend` value.
    pub const fn flag(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Memory => "memory",
            Backend::Cookie => "cookie",
            Backend::FlaskCookie => "flask-cookie",
            Backend::Redis => "redis",
            Backend::FlaskRedis => "flask-redis",
            Backend::Postgres => "postgres",
        }
    }

    /// What this backend can do (the table on [`Capabilities`]).
    pub const fn capabilities(self) -> Capabilities {
        // 1.5 MiB: over the server-side default limit (1 MiB), under the default request
        // body limit of both frameworks' demos (2 MiB).
        const SERVER_OVERSIZE: usize = 1536 * 1024;
        // Over the 4093 bytes a browser keeps in one cookie even when compressed (the
        // value is random text: Flask mode compresses), under Rocket's 32 KiB form limit.
        const COOKIE_OVERSIZE: usize = 16 * 1024;
        match self {
            Backend::Sqlite | Backend::Redis | Backend::FlaskRedis | Backend::Postgres => {
                Capabilities {
                    storage: match self {
                        Backend::Sqlite => Storage::SqliteFile,
                        Backend::Postgres => Storage::Postgres,
                        _ => Storage::Redis,
                    },
                    server_side_revocation: true,
                    merges_concurrent_writes: true,
                    survives_restart: true,
                    shared_by_processes: true,
                    refuses_writes_racing_login: !matches!(self, Backend::FlaskRedis),
                    oversize_value_bytes: SERVER_OVERSIZE,
                }
            }
            Backend::Memory => Capabilities {
                storage: Storage::Process,
                server_side_revocation: true,
                merges_concurrent_writes: true,
                survives_restart: false,
                shared_by_processes: false,
                refuses_writes_racing_login: true,
                oversize_value_bytes: SERVER_OVERSIZE,
            },
            Backend::Cookie | Backend::FlaskCookie => Capabilities {
                storage: Storage::Cookie,
                server_side_revocation: false,
                merges_concurrent_writes: false,
                survives_restart: true,
                shared_by_processes: true,
                refuses_writes_racing_login: false,
                oversize_value_bytes: COOKIE_OVERSIZE,
            },
        }
    }

    /// The `--database-url` for a demo whose files live in `dir`; `other` picks a second,
    /// separate store (another file, another Redis database, another PostgreSQL schema)
    /// for "an id this store never issued". `None` when the backend takes no database.
    pub fn database_url(self, dir: &Path, other: bool) -> Option<String> {
        match self.capabilities().storage {
            Storage::Process | Storage::Cookie => None,
            Storage::SqliteFile => {
                let file = if other {
                    "other-sessions.db"
                } else {
                    "sessions.db"
                };
                // `dir` is absolute, so this is the `sqlite:///abs/path.db` form.
                Some(format!("sqlite://{}", dir.join(file).display()))
            }
            Storage::Redis => Some(format!("redis://127.0.0.1:6379/{}", u8::from(other))),
            Storage::Postgres => Some(crate::postgres::url(&crate::postgres::schema_for(
                dir, other,
            ))),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.flag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip() {
        for backend in Backend::ALL {
            assert_eq!(Backend::from_flag(backend.flag()), backend);
        }
    }

    #[test]
    fn database_urls_follow_the_storage() {
        let dir = Path::new("/tmp/x");
        assert_eq!(
            Backend::Sqlite.database_url(dir, false).as_deref(),
            Some("sqlite:///tmp/x/sessions.db")
        );
        assert_ne!(
            Backend::Redis.database_url(dir, false),
            Backend::Redis.database_url(dir, true)
        );
        assert_eq!(Backend::Cookie.database_url(dir, false), None);
        let postgres = Backend::Postgres
            .database_url(dir, false)
            .unwrap_or_default();
        assert!(
            postgres.starts_with("postgres://") && postgres.contains("search_path"),
            "{postgres}"
        );
        assert_ne!(
            Backend::Postgres.database_url(dir, false),
            Backend::Postgres.database_url(dir, true)
        );
    }
}
