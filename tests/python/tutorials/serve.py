"""Serves one tutorial's Flask app for the side-by-side tests of examples/flask-tutorials.

    serve.py PATH/TO/app.py --port N

Imports the tutorial's file as a module (so its ``if __name__ == "__main__"`` block does
not run) and serves its ``app`` with ``app.run`` on 127.0.0.1:N, as that block would, but
without ``debug=True``: debug mode starts Werkzeug's reloader, a second process the tests
could not stop with the first, and answers errors with the interactive debugger instead of
the 500 page a deployed app sends. Werkzeug prints `` * Running on http://127.0.0.1:N``
on stderr once it listens; the tests wait for that line.
"""

import argparse
import importlib.util
import os
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    path = os.path.abspath(args.path)
    spec = importlib.util.spec_from_file_location("tutorial_app", path)
    module = importlib.util.module_from_spec(spec)
    # Flask finds the app's templates next to the module it was created in.
    sys.modules["tutorial_app"] = module
    spec.loader.exec_module(module)
    module.app.run(host="127.0.0.1", port=args.port, debug=False, use_reloader=False)


if __name__ == "__main__":
    main()
