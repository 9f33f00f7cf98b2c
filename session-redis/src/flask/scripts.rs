//! The Lua scripts of the Flask-Session mode: load, create, touch, and compare-and-swap by
//! the fingerprint of the stored bytes (Flask-Session keeps no version). Each runs
//! atomically in one round trip; `SET` then `PEXPIREAT` rather than `SET ... PXAT` keeps
//! Redis versions before 6.2 working.
//!
//! Flask-Session keeps no deadline in its value, only the key's TTL, so a record's
//! deadline is the key's `PEXPIRETIME`: the instant `PEXPIREAT` was given (or `SET ... EX`
//! set), on Redis' clock. Redis before 7.0 lacks `PEXPIRETIME`; there the deadline is
//! `TIME` plus `PTTL`, to within a millisecond. `ARGV[1]` of every script is the `now` the caller handed the
//! store (unix ms), and a record counts as live only while its deadline is after it, so a
//! record is absent from its deadline on even when the caller's clock runs ahead of
//! Redis' and the TTL has not fired yet. A key without a TTL (not written by
//! Flask-Session) counts as live.

use std::sync::LazyLock;

use redis::Script;

/// What every script shares: the deadline of a key (unix ms; -1 without a TTL, -2 for a
/// missing key) and whether it is live at `ARGV[1]`.
///
/// `TIME` (the fallback before Redis 7.0) is non-deterministic: Redis before 5.0
/// replicates a script that calls it and then writes only when told to replicate the
/// script's effects instead of the script.
const PRELUDE: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local function deadline(key)
  local at = redis.pcall('PEXPIRETIME', key)
  if type(at) == 'number' then return at end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then return ttl end
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + ttl
end
local function live(key)
  local at = deadline(key)
  return at == -1 or at > tonumber(ARGV[1])
end
";

/// What the compare-and-swap scripts add: ARGV[2] is the expected fingerprint.
///
/// `pcall`: a key of another Redis type (someone else's, see `LOAD`) holds no expected
/// fingerprint, so the write is a conflict rather than a WRONGTYPE error.
const HOLDS_EXPECTED: &str = r"
local function holds_expected(key)
  local current = redis.pcall('GET', key)
  return type(current) == 'string'
    and string.sub(redis.sha1hex(current), 1, 15) == ARGV[2] and live(key)
end
";

fn script(parts: &[&str]) -> Script {
    Script::new(&parts.concat())
}

/// KEYS[1]; ARGV[1] now. Replies nil when there is no value, else `{value, deadline}`
/// with the deadline in unix ms on Redis' clock, or -1 for a key without a TTL. Whether
/// the record is live at `now` is for the caller to judge, which knows what a missing TTL
/// means.
///
/// A key of another Redis type than a string replies nil, as a missing key does: absent,
/// not corrupt. Flask-Session only ever writes strings, and the sid in a cookie is the
/// client's choice, so a client can name any key under the prefix; a hash, list or set
/// there is the app's own data sharing the prefix, not a damaged session. Reported as
/// `Corrupt`, `ServerSide` would delete it: any visitor could delete the app's keys. As
/// absent, the visitor is anonymous, a write gets a fresh id, and the key is left alone.
/// A string the store cannot decode is left alone the same way (see `FlaskSessionStore`).
pub(super) static LOAD: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        PRELUDE,
        r"
if redis.call('TYPE', KEYS[1])['ok'] ~= 'string' then return false end
local value = redis.call('GET', KEYS[1])
if not value then return false end
return {value, deadline(KEYS[1])}
",
    ])
});

/// KEYS[1]; ARGV[1] now, ARGV[2] value, ARGV[3] deadline (unix ms). 1 when stored, 0 when
/// a live record holds the key.
pub(super) static CREATE: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        PRELUDE,
        r"
if live(KEYS[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
",
    ])
});

/// KEYS[1]; ARGV[1] now, ARGV[2] expected fingerprint, ARGV[3] value, ARGV[4] deadline.
/// 1 when saved, 0 on a fingerprint mismatch or no live record.
pub(super) static SAVE: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        PRELUDE,
        HOLDS_EXPECTED,
        r"
if not holds_expected(KEYS[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return 1
",
    ])
});

/// KEYS[1] old, KEYS[2] new; ARGV as for SAVE. 1 moved, 0 conflict, -1 new key taken.
pub(super) static CHANGE_KEY: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        PRELUDE,
        HOLDS_EXPECTED,
        r"
if not holds_expected(KEYS[1]) then return 0 end
if live(KEYS[2]) then return -1 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('PEXPIREAT', KEYS[2], ARGV[4])
return 1
",
    ])
});

/// KEYS[1]; ARGV[1] now, ARGV[2] expected fingerprint. Deletes a live record that still
/// holds it: the second step of a key change across cluster slots. 1 or 0.
pub(super) static DELETE_IF: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        PRELUDE,
        HOLDS_EXPECTED,
        r"
if not holds_expected(KEYS[1]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
",
    ])
});

/// KEYS[1]; ARGV[1] now, ARGV[2] the new deadline. Moves the TTL of a live record; never
/// creates one, never touches the value (so the fingerprint stays). 1 or 0.
pub(super) static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        PRELUDE,
        r"
if not live(KEYS[1]) then return 0 end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
",
    ])
});
