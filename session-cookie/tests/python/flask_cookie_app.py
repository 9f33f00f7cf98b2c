"""A tiny Flask app for the interop tests of session-cookie's FlaskCookieBackend.

Served over HTTP by the Rust tests:

    python flask_cookie_app.py --port 0 --secret KEY [--fallback OLD]

prints ``PORT <n>`` on stdout once it listens on 127.0.0.1 (port 0 picks a free one).
The other scripts in this folder import ``create_app`` and drive it with Flask's test
client instead.

Routes (all GET, so the tests can drive them with plain requests):

- ``/set?k=v&...``     session[k] = v (strings) for every query argument
- ``/tuple?k=name``    session[name] = ("a", 1)            (a Flask-only type)
- ``/bytes?k=name``    session[name] = b"\\x00\\xffbytes"
- ``/flash?m=msg[&c=category]``  flash(msg, category)
- ``/permanent``       session.permanent = True
- ``/make``            a session with every type Flask's tagged JSON knows, 2 flashes,
                       permanent
- ``/get``             JSON: the session as Flask sees it (``natural`` values, the Python
                       ``types`` of each key, ``permanent``), without changing it
- ``/flashes``         JSON: get_flashed_messages(with_categories=True)
"""

import argparse
import base64
import datetime
import json
import logging
import sys
import uuid

from flask import Flask, flash, get_flashed_messages, jsonify, request, session
from markupsafe import Markup


def natural(value):
    """A Python session value as the natural JSON session-cookie decodes it to."""
    if isinstance(value, dict):
        return {k: natural(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [natural(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def describe_session():
    return {
        "natural": {k: natural(v) for k, v in session.items()},
        "types": {k: type(v).__name__ for k, v in session.items()},
        "permanent": session.permanent,
    }


def create_app(secret, fallbacks=()):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret
    app.config["SECRET_KEY_FALLBACKS"] = list(fallbacks)

    @app.get("/set")
    def set_values():
        for key, value in request.args.items():
            session[key] = value
        return "ok"

    @app.get("/tuple")
    def set_tuple():
        session[request.args["k"]] = ("a", 1)
        return "ok"

    @app.get("/bytes")
    def set_bytes():
        session[request.args["k"]] = b"\x00\xffbytes"
        return "ok"

    @app.get("/flash")
    def add_flash():
        flash(request.args["m"], request.args.get("c", "message"))
        return "ok"

    @app.get("/permanent")
    def make_permanent():
        session.permanent = True
        return "ok"

    @app.get("/make")
    def make():
        session["user_id"] = 42
        session["name"] = "Zoë 😀 </script>"
        session["pair"] = ("a", 1)
        session["blob"] = b"\x00\x01\xfe\xff"
        session["nested"] = {"list": [1, 2.5, None, True], "dict": {"k": "v"}}
        session["markup"] = Markup("<b>bold</b>")
        session["id"] = uuid.UUID("12345678-1234-5678-1234-567812345678")
        session["when"] = datetime.datetime(2015, 10, 21, 7, 28, tzinfo=datetime.timezone.utc)
        session["big"] = 2**70
        flash("Welcome, ada!")
        flash("Careful", "error")
        session.permanent = True
        return "ok"

    @app.get("/get")
    def get():
        return jsonify(describe_session())

    @app.get("/flashes")
    def flashes():
        return jsonify([list(f) for f in get_flashed_messages(with_categories=True)])

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--fallback", action="append", default=[])
    args = parser.parse_args()

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", args.port, create_app(args.secret, args.fallback), threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
