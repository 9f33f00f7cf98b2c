#!/usr/bin/env python3
"""Generate Flask session-cookie test vectors for the `session-cookie` crate.

Uses real Flask (see requirements.txt) with fixed secrets and a fixed
itsdangerous timestamp, so the output is stable. Run from the repo root:

    .venv/bin/python tests/python/gen_flask_vectors.py

and it writes session-cookie/tests/vectors/flask.json. Each vector holds the
secrets (hex), the cookie Flask set, the tagged JSON payload inside it, the
session as Flask loads it back (`flask_repr`) and as the crate's documented
natural JSON (`natural`), and optionally follow-up operations with the cookie
Flask sets after applying them.
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import zlib
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock
from uuid import UUID

from flask import Flask, flash, session
from itsdangerous import TimestampSigner
from markupsafe import Markup

TIMESTAMP = 1_700_000_000
SECRET_KEY = "flask-interop-secret-key-0123456789abcdef"
FALLBACK_KEY = "previous-flask-secret-key"
OUT = Path(__file__).resolve().parents[2] / "session-cookie/tests/vectors/flask.json"


def case_flashes(s):
    flash("Saved!")
    flash("Oops", "error")
    flash(Markup("<b>bold</b>"), "info")


def case_permanent(s):
    s.permanent = True
    s["user"] = "bob"


CASES = {
    "plain_basic": {"user_id": 42, "name": "alice", "admin": False, "score": 3.5, "nothing": None},
    "nested": {
        "cart": {"items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 1}], "total": 19.99},
        "prefs": {"theme": "dark", "tags": ["a", "b"], "empty": {}, "none": []},
    },
    "unicode": {
        "greeting": "h\u00e9llo w\u00f6rld",
        "emoji": "\U0001f600\U0001f389",
        "cjk": "\u65e5\u672c\u8a9e",
        "ctrl": "tab\tnl\ncr\rnul\x00bell\x07del\x7f\x08\x0c",
        "quotes": "\"'\\/</script>",
        "separators": "\u2028\u2029",
        "\u043a\u043b\u044e\u0447": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435",
        "\U0001f600": "emoji key",
        "Zebra": "sorted before lowercase",
    },
    "floats": {
        "f": [0.0, -0.0, 0.1, 1.5, 100.0, 1e15, 1e16, 1.5e16, 1e-4, 1e-5, 123456789.123,
              1e300, 5e-324, -2.5e-7, 1.7976931348623157e308, 2.0**53, 0.30000000000000004],
    },
    "ints": {"small": -1, "zero": 0, "i64max": 2**63 - 1, "i64min": -(2**63), "u64max": 2**64 - 1},
    "big_ints": {"big": 2**70, "neg_big": -(2**70)},
    "permanent": case_permanent,
    "flashes": case_flashes,
    "tuple": {"t": (1, "two", 3.0), "nested": [(1, 2), {"x": (3,)}], "empty": ()},
    "bytes": {"b": b"\x00\x01\xffbinary", "empty": b""},
    "markup": {"m": Markup("<em>hi</em> &amp; bye")},
    "uuid": {"id": UUID("12345678-1234-5678-1234-567812345678")},
    "datetime": {
        "when": datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc),
        "naive": datetime(2000, 1, 1),
        "micro": datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone.utc),
    },
    "dict_escape": {"x": {" t": "not a tuple"}, "y": {" di": 1}, "z": [{" b": "nope"}], "w": {" t": 1, "k": 2}},
    "top_level_escape": {" t": [1, 2]},
    "mixed": {"counter": 1, "gone": "bye", "pair": ("a", 1), "raw": b"\xde\xad", "when": datetime(2020, 1, 1, tzinfo=timezone.utc)},
    "large_compressible": {"blob": "lorem ipsum dolor " * 200, "numbers": list(range(300))},
    "compressed_tagged": {"pairs": [(i, str(i)) for i in range(100)], "blob": b"\x00" * 500},
}

# Follow-up operations (applied by both Flask and the Rust tests).
THEN = {
    "mixed": [{"op": "set", "key": "counter", "value": 2}, {"op": "remove", "key": "gone"}],
    "flashes": [{"op": "push_flash", "category": "warning", "message": "more"}],
    "plain_basic": [{"op": "set_permanent", "value": True}, {"op": "set", "key": "new", "value": {" u": "x"}}],
    "tuple": [{"op": "set", "key": "added", "value": ["\u00e9", 1.0]}],
}


def apply_ops(s, ops):
    for op in ops:
        if op["op"] == "set":
            s[op["key"]] = op["value"]
        elif op["op"] == "remove":
            s.pop(op["key"])
        elif op["op"] == "push_flash":
            flash(op["message"], op["category"])
        elif op["op"] == "set_permanent":
            s.permanent = op["value"]
        else:
            raise ValueError(op)


def make_app(secret, fallbacks=()):
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret, SECRET_KEY_FALLBACKS=list(fallbacks))

    @app.get("/case/<name>")
    def set_case(name):
        case = CASES[name]
        if callable(case):
            case(session)
        else:
            session.update(case)
        return "ok"

    @app.get("/then/<name>")
    def then(name):
        apply_ops(session, THEN[name])
        return "ok"

    return app


def natural(v):
    """The crate's documented natural JSON for a Python session value."""
    if isinstance(v, Markup):
        return str(v)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        return [natural(x) for x in v]
    if isinstance(v, dict):
        return {k: natural(x) for k, x in v.items()}
    if isinstance(v, bytes):
        return base64.b64encode(v).decode("ascii")
    if isinstance(v, UUID):
        return str(v)
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise TypeError(type(v))


def is_plain(v):
    """Plain JSON that serde_json holds exactly (no tags, 64-bit ints)."""
    if isinstance(v, Markup) or isinstance(v, (tuple, bytes, UUID, datetime)):
        return False
    if isinstance(v, bool) or v is None or isinstance(v, (float, str)):
        return True
    if isinstance(v, int):
        return -(2**63) <= v < 2**64
    if isinstance(v, list):
        return all(is_plain(x) for x in v)
    if isinstance(v, dict):
        return all(is_plain(x) for x in v.values())
    raise TypeError(type(v))


def payload_json(cookie):
    payload = cookie.rsplit(".", 2)[0]
    compressed = payload.startswith(".")
    data = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload.lstrip(".")) % 4))
    return (zlib.decompress(data) if compressed else data).decode("utf-8"), compressed


def load(app, cookie):
    with app.test_request_context():
        return app.session_interface.get_signing_serializer(app).loads(cookie)


def vector(name, app, sign_app, fallbacks, cookie, then=None):
    text, compressed = payload_json(cookie)
    loaded = load(app, cookie)
    out = {
        "name": name,
        "secret_key_hex": app.secret_key.encode("utf-8").hex() if isinstance(app.secret_key, str) else app.secret_key.hex(),
        "fallback_keys_hex": [k.encode("utf-8").hex() for k in fallbacks],
        "signed_with_fallback": sign_app is not app,
        "cookie": cookie,
        "payload_json": text,
        "compressed": compressed,
        "plain": is_plain(dict(loaded)),
        "flask_repr": repr(dict(loaded)),
        "natural": natural(dict(loaded)),
    }
    if then is not None:
        ops, then_cookie = then
        out["then"] = {"ops": ops, "cookie": then_cookie, "payload_json": payload_json(then_cookie)[0],
                       "natural": natural(dict(load(app, then_cookie)))}
    return out


def request_cookie(app, name, then=False):
    client = app.test_client()
    client.get(f"/case/{name}")
    first = client.get_cookie("session").value
    if not then:
        return first, None
    client.get(f"/then/{name}")
    return first, client.get_cookie("session").value


def direct_cookie(app, obj):
    with app.test_request_context():
        return app.session_interface.get_signing_serializer(app).dumps(obj)


def main():
    vectors = []
    with mock.patch.object(TimestampSigner, "get_timestamp", lambda self: TIMESTAMP):
        app = make_app(SECRET_KEY, [FALLBACK_KEY])
        for name in CASES:
            first, second = request_cookie(app, name, then=name in THEN)
            then = (THEN[name], second) if second else None
            vectors.append(vector(name, app, app, [FALLBACK_KEY], first, then))
        vectors.append(vector("empty", app, app, [FALLBACK_KEY], direct_cookie(app, {})))

        old = make_app(FALLBACK_KEY)
        cookie, _ = request_cookie(old, "plain_basic")
        vectors.append(vector("signed_with_fallback", app, old, [FALLBACK_KEY], cookie))

        for name, secret in [("unicode_secret", "cl\u00e9-secr\u00e8te-\U0001f511"),
                             ("bytes_secret", b"\x00\xff\x10raw-bytes\x80"), ("short_secret", "s")]:
            other = make_app(secret)
            cookie, _ = request_cookie(other, "tuple")
            vectors.append(vector(name, other, other, [], cookie))

    doc = {
        "generator": "tests/python/gen_flask_vectors.py",
        "flask_version": importlib.metadata.version("flask"),
        "itsdangerous_version": importlib.metadata.version("itsdangerous"),
        "timestamp": TIMESTAMP,
        "salt": "cookie-session",
        "vectors": vectors,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {OUT}")


if __name__ == "__main__":
    main()
