//! The demo backends and what each can do by nature: the capability table the scenarios
//! follow instead of skipping.

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use crate::{DemoConfig, DemoSpec};

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
    /// Server side, one file per session in a directory.
    Files,
    /// Server side, a directory in Flask-Session's filesystem format.
    FlaskFiles,
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
    /// The Redis server at 127.0.0.1:6379, databases 0 and 1, under a `--redis-prefix` of
    /// the [`DemoConfig`](crate::DemoConfig)'s own, whose keys are deleted when the last
    /// configuration using it goes.
    Redis,
    /// A schema of its own on the PostgreSQL server at 127.0.0.1:5432 (named in the URL's
    /// `search_path`; `SESSION_TEST_POSTGRES_URL` names another server), dropped when the
    /// last [`DemoConfig`](crate::DemoConfig) using it goes.
    Postgres,
    /// A directory of session files (`--database-url file:///abs/dir`) inside the
    /// [`DemoConfig`](crate::DemoConfig)'s temporary directory, removed with it.
    Directory,
}

/// What a backend can do by its nature. Scenarios that a backend cannot meet assert the
/// declared limitation instead, so nothing is skipped silently.
///
/// Two kinds of fact meet here:
///
/// - **The library's capabilities**, read from the backend itself
///   ([`session_core::backend::Capabilities`], through the demo's own
///   `demo_support::session_manager` and `SessionManager::capabilities`), so a backend
///   that changes what it can do changes what the scenarios expect:
///   [`server_side_revocation`](Self::server_side_revocation),
///   [`merges_concurrent_writes`](Self::merges_concurrent_writes),
///   [`per_user_index`](Self::per_user_index) and the size limit behind
///   [`oversize_value_bytes`](Self::oversize_value_bytes).
/// - **Facts about the demo's deployment**, which no backend declares because they are
///   not its to know: where the demo keeps the data ([`storage`](Self::storage)), and so
///   whether it outlives the process or is seen by another one; and whether a write
///   racing a login is refused, which is `ServerSide`'s superseded marker meeting a
///   store's record format, not a capability the library exposes. These are kept in
///   `Backend::deployment`:
///
/// | backend | survives restart | shared by processes | refuses writes racing a login |
/// |---|---|---|---|
/// | `sqlite`, `redis`, `postgres` | yes | yes | yes |
/// | `files` | yes | yes (on one machine) | yes |
/// | `memory` | no | no | yes |
/// | `cookie`, `flask-cookie` | yes | yes (same key) | no |
/// | `flask-redis` | yes | yes | no |
/// | `flask-files` | yes | yes (on one machine) | no |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Where sessions live (a deployment fact).
    pub storage: Storage,
    /// From the library: logout and login kill the old id on the server, so a replayed
    /// old cookie is anonymous. Client-side cookies cannot be revoked once issued.
    pub server_side_revocation: bool,
    /// From the library: concurrent requests on one session all count. On cookie
    /// backends the last response's cookie wins: every request succeeds, but counts are
    /// lost.
    pub merges_concurrent_writes: bool,
    /// From the library: the backend keeps an index of sessions by user, so a login is
    /// tied to its user and the per-user routes (`/sessions`, `/api/sessions`, the revoke
    /// routes, `/logout-everywhere`) and `--max-sessions-per-user` work. Cookie backends
    /// (nothing on the server to list), Flask-Session's records (nothing Flask-Session
    /// would keep) and, today, the `files` directory have none: there those routes answer
    /// 501 with a message, and a login works untied.
    pub per_user_index: bool,
    /// A login survives a restart with the same `--secret-key` and database: the data is
    /// outside the process (a deployment fact).
    pub survives_restart: bool,
    /// Two processes on the same storage (and key) see the same sessions (a deployment
    /// fact).
    pub shared_by_processes: bool,
    /// A write on the id a login replaced moments ago is refused with 409 and no cookie,
    /// so it can neither get lost nor log the browser out: the store keeps a marker under
    /// the old id. Flask-Session's records get no marker (a Flask app would read it as
    /// data), and a cookie has no server side to mark: there a racing write starts a new
    /// session, whose cookie logs the browser out if it arrives after the login's. Not a
    /// library capability: `session_core::backend::Capabilities` has no such field, and
    /// the answer depends on how `ServerSide` and the store's format meet.
    pub refuses_writes_racing_login: bool,
    /// A `/data` value this long (bytes of random text, which compresses poorly) is over
    /// the backend's session size limit (four times the library's `max_session_bytes`),
    /// and under the demos' 16 MiB request body limit.
    pub oversize_value_bytes: usize,
}

/// What a demo's deployment of a backend decides, as opposed to what the backend
/// declares (see [`Capabilities`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Deployment {
    storage: Storage,
    survives_restart: bool,
    shared_by_processes: bool,
    refuses_writes_racing_login: bool,
}

impl Backend {
    /// Every backend of the demo contract.
    pub const ALL: [Backend; 9] = [
        Backend::Sqlite,
        Backend::Memory,
        Backend::Cookie,
        Backend::FlaskCookie,
        Backend::Redis,
        Backend::FlaskRedis,
        Backend::Postgres,
        Backend::Files,
        Backend::FlaskFiles,
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
            Backend::Files => "files",
            Backend::FlaskFiles => "flask-files",
        }
    }

    /// Where this backend keeps its sessions.
    pub const fn storage(self) -> Storage {
        self.deployment().storage
    }

    /// The deployment facts of [`Capabilities`] (its table).
    const fn deployment(self) -> Deployment {
        let storage = match self {
            Backend::Sqlite => Storage::SqliteFile,
            Backend::Memory => Storage::Process,
            Backend::Cookie | Backend::FlaskCookie => Storage::Cookie,
            Backend::Redis | Backend::FlaskRedis => Storage::Redis,
            Backend::Postgres => Storage::Postgres,
            Backend::Files | Backend::FlaskFiles => Storage::Directory,
        };
        let outside_the_process = !matches!(storage, Storage::Process);
        Deployment {
            storage,
            survives_restart: outside_the_process,
            shared_by_processes: outside_the_process,
            // Server-side stores but Flask-Session's keep the superseded marker.
            refuses_writes_racing_login: matches!(
                self,
                Backend::Sqlite
                    | Backend::Memory
                    | Backend::Redis
                    | Backend::Postgres
                    | Backend::Files
            ),
        }
    }

    /// What this backend can do: the library's capabilities, read once per test process
    /// from the backend the demo builds (`demo_support::session_manager` on a fresh
    /// configuration of the suite's), with the deployment facts (see [`Capabilities`]).
    ///
    /// # Panics
    ///
    /// When the backend cannot be built (its Redis or PostgreSQL is down: the message
    /// says how to start it), or declares no session size limit.
    pub fn capabilities(self) -> Capabilities {
        let library = self.library_capabilities();
        let deployment = self.deployment();
        let Some(limit) = library.max_session_bytes else {
            panic!(
                "--backend {self} declares no session size limit; the e2e suite's oversized \
                 session scenario needs one"
            );
        };
        Capabilities {
            storage: deployment.storage,
            server_side_revocation: library.server_side_revocation,
            merges_concurrent_writes: library.merges_concurrent_writes,
            per_user_index: library.per_user_index,
            survives_restart: deployment.survives_restart,
            shared_by_processes: deployment.shared_by_processes,
            refuses_writes_racing_login: deployment.refuses_writes_racing_login,
            // Random text is over the limit in any encoding at four times its size (JSON
            // keeps it as is; Flask's compression and base64 together stay near 1:1).
            oversize_value_bytes: limit.saturating_mul(4),
        }
    }

    /// [`SessionManager::capabilities`](session_core::adapter::SessionManager::capabilities)
    /// of the manager `demo_support` builds for this backend, computed once per process.
    fn library_capabilities(self) -> session_core::backend::Capabilities {
        static READ: [OnceLock<session_core::backend::Capabilities>; Backend::ALL.len()] =
            [const { OnceLock::new() }; Backend::ALL.len()];
        let index = Backend::ALL
            .iter()
            .position(|backend| *backend == self)
            .unwrap_or_default();
        *READ[index].get_or_init(|| {
            // The caller may be on a tokio worker, which cannot block on a runtime: a
            // thread with a runtime of its own builds the backend.
            let read = std::thread::spawn(move || {
                let config = DemoConfig::new(&DemoSpec::new("", "", self))
                    .map_err(|error| error.to_string())?;
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|error| error.to_string())?;
                let capabilities = runtime
                    .block_on(async { config.session_manager().await })
                    .map(|manager| manager.capabilities())
                    .map_err(|error| error.to_string());
                // The runtime (and the store's connections) go before the configuration's
                // database, schema or Redis prefix is cleaned up.
                drop(runtime);
                drop(config);
                capabilities
            })
            .join();
            match read {
                Ok(Ok(capabilities)) => capabilities,
                Ok(Err(error)) => panic!(
                    "could not read the capabilities of --backend {self} from the library: \
                     {error}"
                ),
                Err(_) => panic!("reading the capabilities of --backend {self} panicked"),
            }
        })
    }

    /// The `--database-url` for a demo whose files live in `dir`; `other` picks a second,
    /// separate store (another file, another directory, another Redis database, another
    /// PostgreSQL schema) for "an id this store never issued". `None` when the backend
    /// takes no database.
    pub fn database_url(self, dir: &Path, other: bool) -> Option<String> {
        match self.storage() {
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
            Storage::Directory => {
                let sessions = if other { "other-sessions" } else { "sessions" };
                // `dir` is absolute, so this is the `file:///abs/dir` form; the store
                // creates the directory.
                Some(format!("file://{}", dir.join(sessions).display()))
            }
            Storage::Redis => Some(crate::redis::url(u8::from(other))),
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
        for backend in [Backend::Files, Backend::FlaskFiles] {
            assert_eq!(
                backend.database_url(dir, false).as_deref(),
                Some("file:///tmp/x/sessions")
            );
            assert_eq!(
                backend.database_url(dir, true).as_deref(),
                Some("file:///tmp/x/other-sessions")
            );
        }
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
