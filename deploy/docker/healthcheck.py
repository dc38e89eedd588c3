#!/usr/local/bin/python3
"""The image's HEALTHCHECK: exit 0 when a /healthz answers 200, else 1.

The slim image has no curl. The URL is $PYPROJ_HEALTHCHECK_URL (the REST adapter's
http://127.0.0.1:8000/healthz by default; the relay's is on its --metrics-port), or the
first argument. Standard library only: it runs with the image's system Python.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"
TIMEOUT_SECONDS = 3.0


def check(url: str) -> int:
    """0 if ``url`` answers 200, else 1; says why on stderr."""
    if not url.startswith(("http://", "https://")):
        print(f"unhealthy: not an HTTP URL: {url!r}", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: {url} answered {status}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else os.environ.get("PYPROJ_HEALTHCHECK_URL", DEFAULT_URL)
    return check(url)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
