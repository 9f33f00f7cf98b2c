//! The Lua scripts behind `RedisStore`'s compare-and-swap operations. Each runs
//! atomically on the server in one round trip; `redis::Script` sends `EVALSHA` and falls
//! back to loading the script when the server does not know it yet.

use std::sync::LazyLock;

use redis::Script;

/// What the write scripts share.
///
/// ARGV layout of every write script:
/// `ARGV[1]` now (the `now` the caller handed the store, unix ms), `ARGV[2]` the expected version (`''` for
/// create), then the record: `ARGV[3]` version, `ARGV[4]` data (JSON), `ARGV[5]`
/// created_at, `ARGV[6]` last_active, `ARGV[7]` expires_at (unix ms), `ARGV[8]` permanent,
/// `ARGV[9]` `1` when the record is tied to a principal (`0` otherwise) and `ARGV[10]` its
/// name, kept in the field `principal` (see `index`).
///
/// The scripts that delete or touch a record reply `{status, tied, name}`: the principal
/// the record was tied to (`tied` 1) when they acted on it, so the caller can clean or
/// bump that principal's index.
///
/// A record counts as live until its own deadline, judged at `ARGV[1]`, not at Redis'
/// clock: a record past its deadline is absent even before its TTL removes it, so the
/// scripts agree with `load`, which checks the deadline against the same `now`.
const PRELUDE: &str = r"
local function live(key)
  local deadline = tonumber(redis.call('HGET', key, 'expires_at'))
  return deadline ~= nil and deadline > tonumber(ARGV[1])
end
local function holds_expected(key)
  local current = redis.call('HMGET', key, 'version', 'expires_at')
  local deadline = tonumber(current[2])
  return current[1] == ARGV[2] and deadline ~= nil and deadline > tonumber(ARGV[1])
end
local function write(key)
  redis.call('HSET', key, 'version', ARGV[3], 'data', ARGV[4], 'created_at', ARGV[5],
    'last_active', ARGV[6], 'expires_at', ARGV[7], 'permanent', ARGV[8])
  if ARGV[9] == '1' then
    redis.call('HSET', key, 'principal', ARGV[10])
  else
    redis.call('HDEL', key, 'principal')
  end
  redis.call('PEXPIREAT', key, ARGV[7])
end
local function acted_on(key)
  local principal = redis.call('HGET', key, 'principal')
  if principal then return {1, 1, principal} end
  return {1, 0, ''}
end
";

/// KEYS[1]: the key. Replies 1 when stored, 0 when a live record holds the key.
const CREATE: &str = r"
if live(KEYS[1]) then return 0 end
write(KEYS[1])
return 1
";

/// KEYS[1]: the key. Replies 1 when saved, 0 on a version mismatch or no live record.
const SAVE: &str = r"
if not holds_expected(KEYS[1]) then return 0 end
write(KEYS[1])
return 1
";

/// KEYS[1]: old key, KEYS[2]: new key (single server only: any two keys). Replies status
/// 1 when moved (with the old record's principal), 0 on a version mismatch at the old key,
/// -1 when the new key is taken.
const CHANGE_KEY: &str = r"
if not holds_expected(KEYS[1]) then return {0, 0, ''} end
if live(KEYS[2]) then return {-1, 0, ''} end
local moved = acted_on(KEYS[1])
redis.call('DEL', KEYS[1])
write(KEYS[2])
return moved
";

/// KEYS[1]: the key. Deletes it if it holds the expected version: the second step of a
/// key change across cluster slots. Replies status 1 when deleted (with its principal), 0
/// otherwise.
const DELETE_IF: &str = r"
if not holds_expected(KEYS[1]) then return {0, 0, ''} end
local deleted = acted_on(KEYS[1])
redis.call('DEL', KEYS[1])
return deleted
";

/// KEYS[1]: the key. Deletes whatever it holds, replying with the principal when it was
/// a tied record. Another Redis type there (a damaged record) is deleted too, without
/// the `HGET` that would fail on it.
const DELETE: &str = r"
local deleted = {1, 0, ''}
if redis.call('TYPE', KEYS[1]).ok == 'hash' then deleted = acted_on(KEYS[1]) end
redis.call('DEL', KEYS[1])
return deleted
";

/// KEYS[1]: the key; ARGV[1] now, ARGV[2] last_active, ARGV[3] expires_at. Moves the
/// deadline of a live record without touching its data or version; never creates one.
/// Replies status 1 (with the principal) when touched, 0 when there was no live record.
const TOUCH: &str = r"
if not live(KEYS[1]) then return {0, 0, ''} end
redis.call('HSET', KEYS[1], 'last_active', ARGV[2], 'expires_at', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return acted_on(KEYS[1])
";

/// The scripts, with their SHA-1s computed once.
pub(crate) struct Scripts {
    pub(crate) create: Script,
    pub(crate) save: Script,
    pub(crate) change_key: Script,
    pub(crate) delete_if: Script,
    pub(crate) delete: Script,
    pub(crate) touch: Script,
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| {
    let with_prelude = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
    Scripts {
        create: with_prelude(CREATE),
        save: with_prelude(SAVE),
        change_key: with_prelude(CHANGE_KEY),
        delete_if: with_prelude(DELETE_IF),
        delete: with_prelude(DELETE),
        touch: with_prelude(TOUCH),
    }
});
