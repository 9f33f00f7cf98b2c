"""Prints, as JSON, session cookies that real Flask produced, with what each holds.

    python flask_make_cookies.py SECRET

Output: a list of {"label", "secret", "cookie", "natural", "permanent", "flashes"}.
"""

import json
import sys

from flask_cookie_app import create_app


def cookie_after(app, *paths):
    client = app.test_client()
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    cookie = client.get_cookie("session")
    # What Flask itself reads back from that cookie.
    seen = client.get("/get").get_json()
    return cookie.value, seen


def main():
    secret = sys.argv[1]
    cases = [
        ("every type", secret, ["/make"]),
        ("one string", secret, ["/set?user=ada"]),
        ("flash only", secret, ["/flash?m=hello&c=info"]),
        ("compressed", secret, ["/set?long=" + "abc" * 300]),
        ("old secret", "the secret before rotation", ["/set?user=grace"]),
    ]
    out = []
    for label, key, paths in cases:
        app = create_app(key)
        value, seen = cookie_after(app, *paths)
        natural = seen["natural"]
        flashes = natural.pop("_flashes", [])
        natural.pop("_permanent", None)
        out.append(
            {
                "label": label,
                "secret": key,
                "cookie": value,
                "natural": natural,
                "permanent": seen["permanent"],
                "flashes": flashes,
            }
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
