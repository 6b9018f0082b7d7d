"""``flamedeck compare BASE HEAD``: the comparison as a CI gate.

BASE and HEAD are two local profile files (compared here, no server needed), or two reports
given as links or ids (the server compares them: ``GET /api/v1/compare/<base>/<head>``; ids need
``--server`` or FLAMEDECK_SERVER). Prints the table; exits 1 when a function's self share grew
significantly by more than ``--threshold`` points, 0 when none did, 2 when it could not compare.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from webapp.compare_text import format_markdown, format_text

SERVER_VARIABLE = "FLAMEDECK_SERVER"
REQUEST_TIMEOUT_S = 60
DEFAULT_WAIT_S = 600.0  # a report submitted just before is usually still queued or running
POLL_S = 2.0
PENDING = ("queued", "running")
FORMATTERS = {"text": format_text, "markdown": format_markdown,
              "json": lambda document: json.dumps(document, indent=2)}


class CompareError(Exception):
    """Could not compare; the message says why and what to do."""


def add_parser(commands) -> None:
    compare = commands.add_parser(
        "compare", help="compare two runs (report links or ids, or profile files); exit 1 on a regression",
        description="Compare two runs function by function. Exit status 1 when a function's self share grew "
                    "significantly (95 %%) by more than --threshold points, 0 otherwise, 2 on an error.")
    compare.add_argument("base", help="the run before: a report link or id, or a profile file")
    compare.add_argument("head", help="the run after: a report link or id, or a profile file")
    compare.add_argument("--threshold", type=float, default=0.0, metavar="POINTS",
                         help="only growths of more than this many percentage points fail (default 0)")
    compare.add_argument("--format", choices=sorted(FORMATTERS), default="text", help="output (default text)")
    compare.add_argument("--wait", type=float, default=DEFAULT_WAIT_S, metavar="S",
                         help=f"wait up to S seconds for reports still running (default {DEFAULT_WAIT_S:g})")
    compare.add_argument("--server", metavar="URL", default=os.environ.get(SERVER_VARIABLE),
                         help=f"the flamedeck server, for report ids (default: ${SERVER_VARIABLE})")


def run(args: argparse.Namespace) -> int:
    if args.threshold < 0:
        return _fail("--threshold must be 0 or more percentage points.")
    try:
        document = _compare(args)
    except CompareError as error:
        return _fail(str(error))
    print(FORMATTERS[args.format](document))
    return 1 if document["regressed"] else 0


def _compare(args: argparse.Namespace) -> dict:
    files = [Path(arg) for arg in (args.base, args.head)]
    if all(path.is_file() for path in files):
        from webapp.comparing import compare_files
        from webapp.profiles import ProfileFormatError

        try:
            return compare_files(*((path.read_bytes(), path.name) for path in files),
                                 threshold_points=args.threshold)
        except ProfileFormatError as error:
            raise CompareError(str(error)) from None
    if any(path.is_file() for path in files):
        raise CompareError("Give two profile files or two reports, not one of each.")
    server, tokens = _server_and_tokens(args.base, args.head, args.server)
    for token in tokens:
        _wait_until_finished(server, token, args.wait)
    query = urllib.parse.urlencode({"threshold": args.threshold})
    url = f"{server}/api/v1/compare/{tokens[0]}/{tokens[1]}?{query}"
    return _get_json(url)


def _server_and_tokens(base: str, head: str, server: str | None) -> tuple[str, list[str]]:
    tokens, servers = [], set()
    for given in (base, head):
        parsed = urllib.parse.urlsplit(given)
        if parsed.scheme in ("http", "https") and parsed.netloc:
            servers.add(f"{parsed.scheme}://{parsed.netloc}")
            parts = [part for part in parsed.path.split("/") if part]
            if len(parts) < 2 or parts[-2] != "r":
                raise CompareError(f"{given} is not a report link (…/r/<id>).")
            tokens.append(parts[-1])
        elif "/" in given or given.endswith(".json") or given.endswith(".txt"):
            raise CompareError(f"{given} is not a file here (and not a report link or id).")
        else:
            tokens.append(given)
    if len(servers) > 1:
        raise CompareError("The two links are on different servers; compare reports of one server.")
    server = (servers.pop() if servers else server or "").rstrip("/")
    if not server:
        raise CompareError(f"Report ids need a server: give --server URL (or set {SERVER_VARIABLE}), "
                           "or give the reports' links.")
    return server, tokens


def _wait_until_finished(server: str, token: str, wait_s: float) -> None:
    """Poll the report's document until its job has ended (the comparison needs both finished)."""
    deadline = time.monotonic() + wait_s
    while _get_json(f"{server}/api/v1/reports/{token}")["status"] in PENDING:
        if time.monotonic() >= deadline:
            raise CompareError(f"The report {token} is still running after {wait_s:g} s; "
                               "compare it once it has finished (or give --wait more seconds).")
        time.sleep(POLL_S)


def _get_json(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        try:
            message = json.load(error).get("error")
        except (ValueError, AttributeError):
            message = None
        raise CompareError(message or f"The server answered {error.code} for {url}.") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CompareError(f"Cannot reach {url}: {reason}. Check the server URL.") from None


def _fail(message: str) -> int:
    print(f"flamedeck: {message}", file=sys.stderr)
    return 2
