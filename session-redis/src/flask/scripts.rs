//! The Lua scripts of the Flask-Session mode: create, and compare-and-swap by the
//! fingerprint of the stored bytes (Flask-Session keeps no version). Each runs atomically
//! in one round trip; `SET` then `PEXPIREAT` rather than `SET ... PXAT` keeps Redis
//! versions before 6.2 working.

use std::sync::LazyLock;

use redis::Script;

/// KEYS[1]; ARGV[1] value, ARGV[2] deadline (unix ms). 1 when stored, 0 when taken.
pub(super) static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
",
    )
});

/// What the compare-and-swap scripts share: ARGV[1] is the expected fingerprint.
const HOLDS_EXPECTED: &str = r"
local function holds_expected(key)
  local current = redis.call('GET', key)
  return current and string.sub(redis.sha1hex(current), 1, 15) == ARGV[1]
end
";

/// KEYS[1]; ARGV[1] expected fingerprint, ARGV[2] value, ARGV[3] deadline. 1 or 0.
pub(super) static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{HOLDS_EXPECTED}
if not holds_expected(KEYS[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
"
    ))
});

/// KEYS[1] old, KEYS[2] new; ARGV as for SAVE. 1 moved, 0 conflict, -1 new key taken.
pub(super) static CHANGE_KEY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{HOLDS_EXPECTED}
if not holds_expected(KEYS[1]) then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
return 1
"
    ))
});

/// KEYS[1]; ARGV[1] expected fingerprint. Deletes a record that still holds it: the
/// second step of a key change across cluster slots.
pub(super) static DELETE_IF: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{HOLDS_EXPECTED}
if not holds_expected(KEYS[1]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
"
    ))
});
