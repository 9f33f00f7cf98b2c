"""A Flask app on Flask-Session's filesystem backend, driven one request at a time.

The Rust interop tests of session-files (session-files/tests/flask_interop.rs) run this
with the repository's venv and read the JSON it prints:

    flask_session_files_app.py --dir DIR --lifetime 3600 [--digest md5] [--not-permanent] \
        write --set '{"user": "ada"}' [--sid SID] [--flash TEXT] [--tuple KEY]
    flask_session_files_app.py ... read --sid SID [--take-flashes]
    flask_session_files_app.py ... logout --sid SID

`--digest sha256` (the default) is Flask-Session's own `SESSION_TYPE = "filesystem"`,
which names files with cachelib 0.17's SHA-256; `--digest md5` is the same directory
layout as cachelib 0.15 and earlier wrote it, through `SESSION_TYPE = "cachelib"` with a
`FileSystemCache(hash_method=hashlib.md5)`.

Each run makes one request through Flask's test client and prints
{"sid": <the session cookie after the request>, "session": <dict(session), tuples as
lists>, "permanent": bool, "flashes": [...], "types": {key: Python type name} (read), "file": <the session's file name or null>,
"raw": <hex of the file or null>, "count": <cachelib's count file or null>,
"set_cookie": <the Set-Cookie header or null>}.
"""

import argparse
import hashlib
import json
import os
import pickle
import struct
import warnings
from datetime import timedelta

from cachelib.file import FileSystemCache
from flask import Flask, flash, get_flashed_messages, jsonify, request, session
from flask_session import Session

warnings.simplefilter("ignore", DeprecationWarning)


def make_app(args):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="not used: Flask-Session 0.8 does not sign the sid",
        SESSION_PERMANENT=not args.not_permanent,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=args.lifetime),
    )
    if args.digest == "md5":
        app.config.update(
            SESSION_TYPE="cachelib",
            SESSION_CACHELIB=FileSystemCache(args.dir, threshold=500, hash_method=hashlib.md5),
        )
    else:
        app.config.update(SESSION_TYPE="filesystem", SESSION_FILE_DIR=args.dir)
    Session(app)

    @app.post("/write")
    def write():
        body = request.get_json()
        for key, value in body.get("set", {}).items():
            session[key] = tuple(value) if key in body.get("tuples", []) else value
        if body.get("flash"):
            flash(body["flash"])
        return jsonify(ok=True)

    @app.get("/read")
    def read():
        types = {key: type(value).__name__ for key, value in session.items()}
        types.update({f"_flashes[{i}]": type(item).__name__ for i, item in enumerate(session.get("_flashes", []))})
        flashes = get_flashed_messages(with_categories=True) if request.args.get("take_flashes") else []
        return jsonify(session=dict(session), permanent=session.permanent, flashes=flashes, types=types)

    @app.post("/logout")
    def logout():
        session.clear()
        return jsonify(ok=True)

    return app


def digest(args, key):
    method = hashlib.md5 if args.digest == "md5" else hashlib.sha256
    return method(key.encode()).hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--lifetime", type=int, default=3600)
    parser.add_argument("--digest", choices=["sha256", "md5"], default="sha256")
    parser.add_argument("--not-permanent", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write")
    write.add_argument("--set", default="{}")
    write.add_argument("--sid")
    write.add_argument("--flash")
    write.add_argument("--tuple", action="append", default=[], help="store this key's list as a tuple")
    read = commands.add_parser("read")
    read.add_argument("--sid", required=True)
    read.add_argument("--take-flashes", action="store_true")
    logout = commands.add_parser("logout")
    logout.add_argument("--sid", required=True)
    args = parser.parse_args()

    app = make_app(args)
    client = app.test_client()
    if args.sid:
        client.set_cookie("session", args.sid)
    if args.command == "write":
        body = {"set": json.loads(args.set), "flash": args.flash, "tuples": args.tuple}
        response = client.post("/write", json=body)
        out = {}
    elif args.command == "logout":
        response = client.post("/logout")
        out = {}
    else:
        response = client.get("/read", query_string={"take_flashes": "1"} if args.take_flashes else {})
        out = response.get_json()
    if response.status_code != 200:
        raise SystemExit(f"request failed with {response.status_code}: {response.get_data(as_text=True)}")

    cookie = client.get_cookie("session")
    sid = cookie.value if cookie is not None else args.sid
    out["sid"] = sid
    out["set_cookie"] = response.headers.get("Set-Cookie")
    name = digest(args, "session:" + sid) if sid else None
    path = os.path.join(args.dir, name) if name else None
    raw = open(path, "rb").read() if path and os.path.exists(path) else None
    out["file"] = name
    out["raw"] = raw.hex() if raw is not None else None
    count_path = os.path.join(args.dir, digest(args, "__wz_cache_count"))
    if os.path.exists(count_path):
        with open(count_path, "rb") as f:
            f.read(4)
            out["count"] = pickle.load(f)
    else:
        out["count"] = None
    if raw is not None:
        out["expiry"] = struct.unpack("I", raw[:4])[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
