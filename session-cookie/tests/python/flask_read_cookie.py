"""Prints, as JSON, what real Flask sees in a session cookie.

    python flask_read_cookie.py SECRET COOKIE [FALLBACK...]

Output: {"natural": {...}, "types": {key: python type}, "permanent": bool,
"flashes": get_flashed_messages(with_categories=True)}; an empty session if Flask
refuses the cookie.
"""

import json
import sys

from flask_cookie_app import create_app


def main():
    secret, cookie, fallbacks = sys.argv[1], sys.argv[2], sys.argv[3:]
    client = create_app(secret, fallbacks).test_client()
    client.set_cookie("session", cookie)
    seen = client.get("/get").get_json()
    seen["flashes"] = client.get("/flashes").get_json()
    json.dump(seen, sys.stdout)


if __name__ == "__main__":
    main()
