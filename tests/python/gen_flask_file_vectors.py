#!/usr/bin/env python3
"""Generate Flask-Session filesystem test vectors for the `session-files` crate.

Uses real cachelib (see requirements.txt) with fixed expiries, so the output is stable.
Run from the repo root:

    .venv/bin/python tests/python/gen_flask_file_vectors.py

and it writes session-files/tests/vectors/flask_files.json:

- "names": sids with the file names cachelib gives them (SHA-256 and MD5 of
  "session:" + sid), and the count file's names.
- "read": files as Flask-Session writes them (cachelib's `set`), with what the Rust side
  must read: the session's JSON values, the permanent flag, the deadline; or, for values a
  pickle can only express as objects, that the file is refused.
- "write": a Rust session (JSON values, permanent flag, creation time kept or not,
  deadline) and the file CPython writes for the dict the Rust store means: `_permanent`
  first when permanent, `_rs_created` when kept, then the values in key order; flashes as
  tuples; every value a fresh object (as a Rust write has no shared objects).
- "merge": a file Flask wrote, the changes a Rust request makes, and the file CPython
  writes for the result: untouched keys keep their Python values and places (nested dicts
  in key order, as the Rust store keeps them), changed keys get the new values, new keys
  follow in key order.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import pickle
import struct
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from cachelib.file import FileSystemCache
from markupsafe import Markup

OUT = Path(__file__).resolve().parents[2] / "session-files/tests/vectors/flask_files.json"
EXPIRY = 1_900_000_000  # the header every vector's file carries, Unix seconds
SIDS = [
    "b1DlbLd4P4ccTBmlpH_ERt0f1Iv-7l6CpSEMmFWMN1M",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "x" * 22,
]


def fresh(value):
    """`value` rebuilt from new objects (strings included), dict keys in key order: what a
    Rust write holds. CPython still shares the empty and one-character strings."""
    if isinstance(value, str):
        return value.encode("utf-8").decode("utf-8")
    if isinstance(value, bytes):
        return bytes(bytearray(value))
    if isinstance(value, list):
        return [fresh(item) for item in value]
    if isinstance(value, tuple):
        return tuple(fresh(item) for item in value)
    if isinstance(value, dict):
        return {fresh(key): fresh(value[key]) for key in sorted(value)}
    return value


def rust_dict(data, permanent, created):
    """The dict a Rust store writes for a new session."""
    out = {}
    if permanent:
        out["_permanent"] = True
    if created is not None:
        out["_rs_created"] = created
    for key in sorted(data):
        value = data[key]
        if key == "_flashes":
            value = [tuple(pair) if isinstance(pair, list) and len(pair) == 2 else pair for pair in value]
        out[key] = value
    return fresh_keep_order(out)


def cachelib_file(key, value, timeout=None):
    """The bytes cachelib's FileSystemCache.set writes, read back from its directory."""
    with tempfile.TemporaryDirectory() as directory:
        cache = FileSystemCache(directory, threshold=500)
        # cachelib stores int(time()) + timeout; pin the header to EXPIRY.
        cache.set(key, value, timeout=1)
        path = Path(cache._get_filename(key))
        raw = path.read_bytes()
    return struct.pack("I", EXPIRY) + raw[4:]


def pickled_file(value):
    buffer = io.BytesIO()
    buffer.write(struct.pack("I", EXPIRY))
    pickle.dump(value, buffer, pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def flask_flashes():
    """Flask's `flash()` stores (category, message) tuples; the default category is one
    shared string object, as in Flask."""
    category = "message"
    return [(category, "Saved!"), (category, "Again"), ("error", "Oops")]


READ = [
    ("login", {"_permanent": True, "user": "ada", "n": 3}, {"user": "ada", "n": 3}, True),
    ("not_permanent", {"user": "linus"}, {"user": "linus"}, False),
    ("flashes", {"_permanent": True, "_flashes": flask_flashes()},
     {"_flashes": [["message", "Saved!"], ["message", "Again"], ["error", "Oops"]]}, True),
    ("nested_order", {"_permanent": True, "z": {"b": [1, 2.5, None, True], "a": {}}, "a": "é😀"},
     {"z": {"b": [1, 2.5, None, True], "a": {}}, "a": "é😀"}, True),
    ("numbers", {"i64max": 2**63 - 1, "i64min": -(2**63), "u64max": 2**64 - 1, "f": -0.5, "big": 2**70},
     {"i64max": 2**63 - 1, "i64min": -(2**63), "u64max": 2**64 - 1, "f": -0.5, "big": {"$python": "int"}}, False),
    ("python_types", {"t": (1, "two"), "b": b"\x00\xff", "s": {1, 2}, "k": {1: "int key"}},
     {"t": [1, "two"], "b": {"$python": "bytes"}, "s": {"$python": "set"}, "k": {"$python": "dict"}}, False),
    ("falsy_permanent", {"_permanent": False, "user": "ada"}, {"user": "ada"}, False),
    ("rs_created", {"_permanent": True, "_rs_created": 1_700_000_000_123, "user": "ada"}, {"user": "ada"}, True),
]

REFUSED = [
    ("datetime", {"_permanent": True, "when": datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc)}),
    ("markup_flash", {"_flashes": [("message", Markup("<b>hi</b>"))]}),
    ("naive_datetime", {"d": datetime(2000, 1, 1)}),
]

WRITE = [
    ("login", {"user": "ada"}, True, None),
    ("not_permanent", {"user": "linus", "n": 3}, False, None),
    ("flashes", {"_flashes": [["message", "Welcome, ada!"], ["error", "Careful"]], "user": "ada"}, True, None),
    ("every_json_type", {
        "null": None, "true": True, "false": False, "int": 42, "negative": -7, "big": 2**63 - 1,
        "unsigned": 2**64 - 1, "i32edge": [255, 256, 65535, 65536, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1],
        "float": 1.5, "string": "hello", "unicode": "héllo wörld 😀 \u0000 \"quoted\" \\ </script>",
        "empty string": "", "chars": ["a", "a", "é", "é", "€", "€"],
        "array": [1, "two", None, [3.25], {"four": 4}], "empty array": [], "object": {"nested": {"deeper": [True, False]}},
        "empty object": {},
    }, True, None),
    ("absolute_timeout", {"user": "ada"}, True, 1_700_000_000_123),
    ("long_string", {"text": "y" * 300, "user": "ada"}, False, None),
    ("many_keys", "many_keys", False, None),
    ("long_list", "long_list", False, None),
    ("two_frames", "two_frames", True, None),
    ("huge_string", "huge_string", True, None),
]

# Large sessions are described by a recipe the Rust test follows too, and their files by
# a SHA-256, to keep this file small.
RECIPES = {
    "many_keys": lambda: {f"k{i:04}": i for i in range(1000)},
    "long_list": lambda: {"list": list(range(2500))},
    "two_frames": lambda: {f"key{i:03}": "v" * 700 for i in range(120)},
    "huge_string": lambda: {"a": "small", "blob": "z" * 70_000, "z": "after"},
}

MERGE = [
    # A Flask login with flashes and a tuple; Rust counts a visit and adds a key.
    ("keeps_flask_values",
     {"_permanent": True, "user": "ada", "_flashes": flask_flashes(), "t": (1, 2), "cart": {"z": 1, "a": 2}, "raw": b"\x01"},
     {"visits": 1, "user": "ada"}, [], True),
    # Rust shows the flashes (removing them) and changes the user.
    ("takes_flashes",
     {"_permanent": True, "user": "ada", "_flashes": flask_flashes()},
     {"user": "grace"}, ["_flashes"], True),
    # Rust makes a session permanent that was not.
    ("becomes_permanent", {"user": "ada"}, {}, [], True),
    # Rust makes a permanent session not permanent: `_permanent` stays, False.
    ("stops_being_permanent", {"_permanent": True, "user": "ada"}, {}, [], False),
]


def merged(stored, changes, removals, permanent):
    """What the Rust store writes: stored values kept (nested dicts in key order), changed
    ones replaced, removed ones gone, new ones after, in key order."""
    out = {}
    for key, value in stored.items():
        if key in removals:
            continue
        if key == "_permanent":
            out[key] = value if bool(value) == permanent else permanent
        elif key in changes:
            out[key] = changes[key]
        else:
            out[key] = value
    if "_permanent" not in stored and permanent:
        out["_permanent"] = True
    for key in sorted(changes):
        if key not in stored:
            out[key] = changes[key]
    return fresh_keep_order(out)


def fresh_keep_order(value):
    """`fresh` for the top level, whose key order the Rust store keeps."""
    return {fresh(key): fresh(item) for key, item in value.items()}


def to_json(value):
    if isinstance(value, tuple):
        return [to_json(item) for item in value]
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def main():
    names = []
    for sid in SIDS:
        names.append({
            "sid": sid,
            "sha256": hashlib.sha256(("session:" + sid).encode()).hexdigest(),
            "md5": hashlib.md5(("session:" + sid).encode()).hexdigest(),
        })
    count = {
        "sha256": hashlib.sha256(b"__wz_cache_count").hexdigest(),
        "md5": hashlib.md5(b"__wz_cache_count").hexdigest(),
    }
    read = []
    for name, stored, data, permanent in READ:
        read.append({"name": name, "file": cachelib_file("session:x", stored).hex(), "data": data,
                     "permanent": permanent, "expires_at_ms": EXPIRY * 1000})
    for name, stored in REFUSED:
        read.append({"name": name, "file": cachelib_file("session:x", stored).hex(), "refused": True})
    write = []
    for name, data, permanent, created in WRITE:
        vector = {"name": name, "permanent": permanent, "created": created, "expires_at_ms": EXPIRY * 1000}
        if isinstance(data, str):
            file = pickled_file(rust_dict(RECIPES[data](), permanent, created))
            vector.update(recipe=data, file_sha256=hashlib.sha256(file).hexdigest(), file_len=len(file))
        else:
            vector.update(data=data, file=pickled_file(rust_dict(data, permanent, created)).hex())
        write.append(vector)
    merge = []
    for name, stored, changes, removals, permanent in MERGE:
        merge.append({
            "name": name,
            "stored": cachelib_file("session:x", stored).hex(),
            "set": changes, "remove": removals, "permanent": permanent,
            "expires_at_ms": EXPIRY * 1000,
            "file": pickled_file(merged(stored, changes, removals, permanent)).hex(),
        })
    document = {
        "generator": "tests/python/gen_flask_file_vectors.py",
        "python": sys.version.split()[0],
        "cachelib": importlib.metadata.version("cachelib"),
        "flask_session": importlib.metadata.version("flask-session"),
        "expiry": EXPIRY,
        "names": names,
        "count_names": count,
        "read": read,
        "write": write,
        "merge": merge,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
