"""A Flask app on Flask-Session's Redis backend, driven one request at a time.

The Rust interop tests of session-redis (session-redis/tests/flask_interop.rs) run this
with the repository's venv and read the JSON it prints:

    flask_session_app.py --redis-url URL --prefix session: --lifetime 3600 \
        write --set '{"user": "ada"}' [--sid SID] [--not-permanent] [--flash TEXT]
    flask_session_app.py ... read --sid SID [--take-flashes]

Each run makes one request through Flask's test client against a real Redis and prints
{"sid": <the session cookie after the request>, "session": <dict(session)>,
 "permanent": bool, "flashes": [...], "raw": <hex of the Redis value>, "pttl": ms}.
"""

import argparse
import json
from datetime import timedelta

import redis
from flask import Flask, flash, get_flashed_messages, jsonify, request, session
from flask_session import Session


def make_app(args):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="not used: Flask-Session 0.8 does not sign the sid",
        SESSION_TYPE="redis",
        SESSION_REDIS=redis.Redis.from_url(args.redis_url),
        SESSION_KEY_PREFIX=args.prefix,
        SESSION_PERMANENT=not args.not_permanent,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=args.lifetime),
    )
    Session(app)

    @app.post("/write")
    def write():
        body = request.get_json()
        for key, value in body.get("set", {}).items():
            session[key] = value
        if body.get("flash"):
            flash(body["flash"])
        return jsonify(ok=True)

    @app.get("/read")
    def read():
        flashes = get_flashed_messages(with_categories=True) if request.args.get("take_flashes") else []
        return jsonify(session=dict(session), permanent=session.permanent, flashes=flashes)

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", default="session:")
    parser.add_argument("--lifetime", type=int, default=3600)
    parser.add_argument("--not-permanent", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write")
    write.add_argument("--set", default="{}")
    write.add_argument("--sid")
    write.add_argument("--flash")
    read = commands.add_parser("read")
    read.add_argument("--sid", required=True)
    read.add_argument("--take-flashes", action="store_true")
    args = parser.parse_args()

    app = make_app(args)
    client = app.test_client()
    if args.sid:
        client.set_cookie("session", args.sid)
    if args.command == "write":
        body = {"set": json.loads(args.set), "flash": args.flash}
        response = client.post("/write", json=body)
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
    raw_client = redis.Redis.from_url(args.redis_url)
    raw = raw_client.get(args.prefix + sid) if sid else None
    out["raw"] = raw.hex() if raw is not None else None
    out["pttl"] = raw_client.pttl(args.prefix + sid) if sid else None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
