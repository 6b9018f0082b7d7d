"""Coverage through the real path: `flamedeck serve`, the worker, the bubblewrap sandbox (issue 13, point 2)."""

from __future__ import annotations

import urllib.request

from .live import free_port, http_json, serve, wait_until_ended

# One branch never runs (no arguments are given): its line must be greyed, the branch % below 100.
BRANCHY = (
    "import sys\n"
    "\n"
    "def work(n):\n"
    "    total = 0\n"
    "    for i in range(n):\n"
    "        total += sum(range(20_000))  # the work in C: the coverage run is hardly slower\n"
    "    return total\n"
    "\n"
    "if len(sys.argv) > 3:\n"
    "    print('never')\n"
    "else:\n"
    "    print(work(2000))\n"
)


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_coverage_run_greys_the_branch_that_never_ran_and_offers_its_files(tmp_path):
    with serve(tmp_path / "data", free_port(), COVERAGE_BY_DEFAULT=True) as (_process, base):  # the default on
        status, created = http_json("POST", f"{base}/api/v1/reports", {"code": BRANCHY, "duration": "10"})
        assert status in (201, 202), created
        status, no_coverage = http_json("POST", f"{base}/api/v1/reports",
                                        {"code": BRANCHY, "duration": "10", "coverage": "off"})
        assert status in (201, 202), no_coverage
        document = wait_until_ended(base, created["id"])
        without = wait_until_ended(base, no_coverage["id"])

        assert document["status"] == "done", document["outcome"]
        assert document["summary"]["sandboxed"]  # measured in the bubblewrap sandbox, like the profile
        coverage = document["summary"]["coverage"]
        assert "separate run" in coverage["measured"]
        (name, figures), = coverage["files"].items()
        assert 10 in figures["missing_lines"] and 12 in figures["executed_lines"]
        assert figures["branch_pct"] < 100 and coverage["branch_pct"] < 100
        assert figures["functions"]["work"]["line_pct"] == 100.0
        for artifact in ("coverage.json", "coverage.lcov"):
            status, body = _get(document["artifacts"][artifact])
            assert status == 200 and name in body
        _, page = _get(document["url"] if "url" in document else f"{base}/r/{created['id']}")
        assert 'id="L10" class="src-line src-missed"' in page
        assert 'id="L12" class="src-line"' in page
        assert "Branches covered" in page and "separate run" in page

        assert without["status"] == "done", without["outcome"]
        assert "coverage" not in without["summary"]
        assert "coverage.json" not in without.get("artifacts", {})
