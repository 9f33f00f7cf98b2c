//! The servers under test and how they pair up in the ratios.

/// One server variant: the same routes, different session machinery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub(crate) enum Variant {
    /// No sessions at all: the ceiling.
    None,
    /// tower-sessions 0.15 with its memory store.
    TsMemory,
    /// tower-sessions-cookie-store 0.5 (on tower-sessions 0.14), signed cookies.
    TsCookie,
    /// tower-sessions-sqlx-store 0.15 (on tower-sessions 0.14), sqlx's default pool: rollback
    /// journal, `synchronous=FULL`.
    TsSqlite,
    /// The same store on a pool opened with our durability setting: WAL,
    /// `synchronous=NORMAL`.
    TsSqliteWal,
    /// Ours: `MemoryStore`.
    OursMemory,
    /// Ours: signed cookies.
    OursCookie,
    /// Ours: Flask's cookie format.
    OursFlaskCookie,
    /// Ours: `SqliteStore`.
    OursSqlite,
    /// tower-sessions-redis-store 0.16 (on tower-sessions 0.14) on fred 10, in Redis
    /// database 15 of the same server.
    TsRedis,
    /// Ours: `RedisStore` on the real Redis.
    OursRedis,
    /// tower-sessions-sqlx-store 0.15's `PostgresStore` (on tower-sessions 0.14), sqlx's
    /// default pool.
    TsPg,
    /// Ours: `PostgresStore`.
    OursPg,
    /// Ours: `FileStore`, one file per session in a directory (no tower-sessions peer).
    OursFiles,
}

impl Variant {
    /// Every variant, in table order.
    pub(crate) const ALL: [Self; 14] = [
        Self::None,
        Self::TsMemory,
        Self::OursMemory,
        Self::TsCookie,
        Self::OursCookie,
        Self::OursFlaskCookie,
        Self::TsSqlite,
        Self::TsSqliteWal,
        Self::OursSqlite,
        Self::OursFiles,
        Self::TsPg,
        Self::OursPg,
        Self::TsRedis,
        Self::OursRedis,
    ];

    /// The name used on the command line and in the table.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::TsMemory => "ts-memory",
            Self::TsCookie => "ts-cookie",
            Self::TsSqlite => "ts-sqlite",
            Self::TsSqliteWal => "ts-sqlite-wal",
            Self::OursMemory => "ours-memory",
            Self::OursCookie => "ours-cookie",
            Self::OursFlaskCookie => "ours-flask-cookie",
            Self::OursSqlite => "ours-sqlite",
            Self::TsRedis => "ts-redis",
            Self::OursRedis => "ours-redis",
            Self::TsPg => "ts-pg",
            Self::OursPg => "ours-pg",
            Self::OursFiles => "ours-files",
        }
    }

    /// The tower-sessions variants an "ours" variant is compared with.
    pub(crate) fn peers(self) -> &'static [Self] {
        match self {
            Self::OursMemory => &[Self::TsMemory],
            Self::OursCookie | Self::OursFlaskCookie => &[Self::TsCookie],
            Self::OursSqlite => &[Self::TsSqlite, Self::TsSqliteWal],
            Self::OursPg => &[Self::TsPg],
            Self::OursRedis => &[Self::TsRedis],
            _ => &[],
        }
    }

    /// Whether the session lives in the server (so the counter can be checked for lost
    /// updates); cookie sessions live in the one cookie every connection replays.
    pub(crate) fn server_side(self) -> bool {
        !matches!(
            self,
            Self::TsCookie | Self::OursCookie | Self::OursFlaskCookie
        )
    }

    /// Why the variant cannot run in this build, if it cannot.
    pub(crate) fn unavailable(self) -> Option<&'static str> {
        crate::serve::unavailable(self)
    }
}
