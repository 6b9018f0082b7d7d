"""Comparing two reports: the API (JSON, Markdown), the page, its downloads, the picker, baselines."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from webapp.analysis.collapsed_diff import read_folded
from webapp.profiles import get_exporter
from webapp.store import SCRIPT
from webapp.store.lifecycle import insert_queued
from webapp.store.tables import Artifact

from .compare_support import OPTIONS, store_pair, synthetic_profile


def test_the_compare_api_names_the_regression_with_links_and_a_verdict(client, store):
    base, head = store_pair(store)
    response = client.get(f"/api/v1/compare/{base.token}/{head.token}")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["base"]["id"] == base.token and doc["head"]["url"].endswith(f"/r/{head.token}")
    assert doc["compare_url"].endswith(f"/compare/{base.token}...{head.token}")
    rows = {row["name"]: row for row in doc["functions"]}
    assert doc["functions"][0]["name"] in ("hot", "fresh")  # significant regressions first
    assert rows["hot"]["verdict"] == "regression" and round(rows["hot"]["self_change_points"], 6) == 20
    assert rows["steady"]["verdict"] == "~"
    assert rows["fresh"]["only_in"] == "head" and rows["gone"]["only_in"] == "base"
    assert doc["regressed"] and doc["options_check"] == {"same": True, "differences": []}
    assert doc["static_metrics"]["available"]
    complexity = {row["name"]: row for row in doc["static_metrics"]["functions"]}
    assert complexity["hot"]["changed"] and (complexity["hot"]["base"], complexity["hot"]["head"]) == (1, 2)
    # A threshold above every growth: nothing counts as a regression.
    assert not client.get(f"/api/v1/compare/{base.token}/{head.token}?threshold=50").get_json()["regressed"]
    assert client.get(f"/api/v1/compare/{base.token}/{head.token}?threshold=lots").status_code == 400
    # Reports made before summaries kept design effects are compared from their profiles, alike.
    old_base, old_head = store_pair(store, with_design_effects=False)
    old = client.get(f"/api/v1/compare/{old_base.token}/{old_head.token}").get_json()
    assert old["functions"] == doc["functions"] and old["verdict"] == doc["verdict"]


def test_markdown_puts_regressions_first_and_links_both_reports(client, store):
    base, head = store_pair(store, head_options=OPTIONS | {"rate_hz": 250})
    response = client.get(f"/api/v1/compare/{base.token}/{head.token}?format=markdown")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    text = response.get_data(as_text=True)
    assert f"[base](http://flamedeck.test/r/{base.token})" in text
    assert f"[compare page](http://flamedeck.test/compare/{base.token}...{head.token})" in text
    assert "Sampling rate: 100 in base, 250 in head." in text
    table = [line for line in text.splitlines() if line.startswith("| `")]
    assert "slower" in table[0] and table[-1].endswith("~ |")


def test_errors_say_which_report_and_why(client, store):
    base, _ = store_pair(store)
    missing = client.get(f"/api/v1/compare/{base.token}/nosuchreport000")
    assert missing.status_code == 404 and "no report" in missing.get_json()["error"]
    page = client.get(f"/compare/nosuchreport000...{base.token}")
    assert page.status_code == 404 and "text/html" in page.content_type
    with store.writing() as session:
        queued = insert_queued(session, kind=SCRIPT, script_name="later.py", script_source="pass\n", options=OPTIONS)
    pending = client.get(f"/api/v1/compare/{base.token}/{queued.token}")
    assert pending.status_code == 409
    assert pending.get_json()["error"].startswith("The head report (later.py) has not finished yet.")


def test_the_page_and_its_downloads(client, store):
    base, head = store_pair(store, head_options=OPTIONS | {"gil": True})
    page = client.get(f"/compare/{base.token}...{head.token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "GIL only: off in base, on in head." in html and "comparison is skewed" in html
    assert 'id="compare-functions"' in html and "Red: more time in head than in base" in html
    assert html.index("<code>hot</code>") < html.index("<code>steady</code>")
    assert 'id="complexity-changes"' in html
    collapsed = client.get(f"/compare/{base.token}...{head.token}/diff.collapsed.txt")
    assert collapsed.headers["Content-Disposition"] == 'attachment; filename="app.diff.collapsed.txt"'
    lines = dict(line.rsplit(b" ", 2)[0:1] + [line.rsplit(b" ", 2)[1] + b" " + line.rsplit(b" ", 2)[2]]
                 for line in collapsed.data.splitlines())
    assert lines[b"main (app.py:1);hot (app.py:5)"] == b"200 400"
    assert lines[b"main (app.py:1);fresh (app.py:14)"] == b"0 300"
    # Every stack of each report's own collapsed file, with its count, on its side.
    for side, profile in ((0, synthetic_profile({"hot": 200, "steady": 300, "gone": 500})),):
        for stack, count in read_folded(get_exporter("collapsed").render(profile)).items():
            assert int(lines[stack].split()[side]) == count
    svg = client.get(f"/compare/{base.token}...{head.token}/diff.svg?widths=base")
    assert svg.mimetype == "image/svg+xml" and "sandbox" in svg.headers["Content-Security-Policy"]
    assert b"(gone: only in base)" in svg.data
    tree = client.get(f"/compare/{base.token}...{head.token}/diff.json").get_json()
    assert tree["format"] == "flamedeck-diff-tree" and tree["head"]["samples"] == 1000
    by_line = client.get(f"/compare/{base.token}...{head.token}/diff.json?level=line").get_json()
    assert by_line["level"] == "line" and by_line["head"]["samples"] == 1000 and "level" not in tree
    packed = client.get(f"/compare/{base.token}...{head.token}/diff.json", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and json.loads(gzip.decompress(packed.data)) == tree
    # A long table is cut to COMPARE_FUNCTION_ROWS on the page, in its order, saying so.
    listed = len(client.get(f"/api/v1/compare/{base.token}/{head.token}").get_json()["functions"])
    client.application.config["COMPARE_FUNCTION_ROWS"] = 2
    short = client.get(f"/compare/{base.token}...{head.token}").get_data(as_text=True)
    assert short.count('<td class="fn-name">') == 2 and "<code>hot</code>" in short
    assert f"{listed - 2} more functions with smaller changes are not listed here" in short


def test_grouping_by_line_says_why_when_a_report_kept_no_flame_tree(client, store):
    base, head = store_pair(store)
    with store.writing() as session:  # as a report made before reports kept flame.json
        session.execute(delete(Artifact).where(Artifact.report_id == base.id, Artifact.name == "flame.json"))
    by_line = client.get(f"/compare/{base.token}...{head.token}/diff.json?level=line")
    assert by_line.status_code == 409
    assert "cannot be compared line by line" in by_line.get_data(as_text=True)
    by_function = client.get(f"/compare/{base.token}...{head.token}/diff.json")
    assert by_function.status_code == 200 and by_function.get_json()["base"]["samples"] == 1000


def test_compare_with_picks_this_browsers_reports_or_a_pasted_link(client, store):
    base, head = store_pair(store)
    picker = client.get(f"/compare/with/{head.token}")
    assert picker.status_code == 200 and "link or id" in picker.get_data(as_text=True)
    pasted = client.get(f"/compare/with/{head.token}?other=https://elsewhere.example/r/{base.token}#flamegraph")
    assert pasted.status_code == 303 and pasted.headers["Location"].endswith(f"/compare/{base.token}...{head.token}")
    nonsense = client.get(f"/compare/with/{head.token}?other=what%3F")
    assert nonsense.status_code == 400 and "is not a report link or id" in nonsense.get_data(as_text=True)


def test_a_report_submitted_with_a_baseline_carries_the_comparison(client, store):
    base, _ = store_pair(store)
    data = get_exporter("speedscope").render(synthetic_profile({"hot": 400, "steady": 300, "fresh": 300}))
    created = client.post("/api/v1/reports", data={"baseline": base.token,
                                                    "profile": (io.BytesIO(data), "app.speedscope.json")})
    assert created.status_code == 202, created.get_json()
    doc = client.get(created.get_json()["api_url"]).get_json()
    assert doc["baseline"]["id"] == base.token
    comparison = doc["baseline"]["comparison"]
    assert comparison["regressed"] and comparison["head"]["id"] == doc["id"]
    unknown = client.post("/api/v1/reports", data={"baseline": "nosuchreport000", "example": "busy"})
    assert unknown.status_code == 400 and "no report" in unknown.get_json()["error"]


def test_the_page_preloads_its_preview_and_every_module_it_imports(client, store):
    base, head = store_pair(store, worker_samples=100)
    html = client.get(f"/compare/{base.token}...{head.token}").get_data(as_text=True)
    preview_url, tree_url = (f"/compare/{base.token}...{head.token}/{name}"
                             for name in ("diff-preview.json", "diff.json"))
    assert f'<link rel="preload" href="{preview_url}"' in html and f'href="{tree_url}"' not in html  # read later
    assert f'data-diff-preview-url="{preview_url}"' in html and f'data-diff-url="{tree_url}"' in html
    assert "js/flamegraph.js" not in html
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/(js/[^"]+)"', html))
    assert preloaded == _imports(STATIC / "js/compare/page.js") - {"js/compare/page.js"}
    # The preview: the same document cut to what the first picture draws (here nothing is cut).
    tree, preview = (client.get(url).get_json() for url in (tree_url, preview_url))
    assert preview["preview"]["min_share"] > 0 and preview["frames"] == tree["frames"]
    assert [preview[key] for key in ("depth", "frame", "base_self", "head_self")] == [
        tree[key] for key in ("depth", "frame", "base_self", "head_self")]
    assert [view["label"] for view in preview["views"]] == [view["label"] for view in tree["views"]]
    assert "node" not in preview["views"][1]  # one thread at a time waits for the full tree


def test_reports_that_kept_no_tree_are_compared_from_their_profiles_without_a_preview(client, store):
    base, head = store_pair(store)
    with store.writing() as session:  # as a report made before reports kept flame.json
        session.execute(delete(Artifact).where(Artifact.report_id == base.id,
                                               Artifact.name.in_(["flame.json", "function-tree.bin"])))
    preview = client.get(f"/compare/{base.token}...{head.token}/diff-preview.json")
    assert preview.status_code == 404 and "only the full tree" in preview.get_data(as_text=True)
    tree = client.get(f"/compare/{base.token}...{head.token}/diff.json")
    assert tree.status_code == 200 and tree.get_json()["base"]["samples"] == 1000


def test_a_damaged_function_tree_falls_back_to_flame_json(client, store):
    base, head = store_pair(store)
    expected = client.get(f"/compare/{base.token}...{head.token}/diff.json").get_data()
    again = store_pair(store)  # the same pair again (the first one's tree is kept in memory), made to break
    with store.writing() as session:
        artifact = session.scalars(select(Artifact).where(Artifact.report_id == again[0].id,
                                                          Artifact.name == "function-tree.bin")).one()
        artifact.gzip_data = gzip.compress(b"not a tree")
    repaired = client.get(f"/compare/{again[0].token}...{again[1].token}/diff.json").get_json()
    assert repaired == json.loads(expected)


def _imports(module: Path) -> set[str]:
    """The modules ``module`` imports, directly or not, itself included (paths under static/)."""
    found, pending = set(), [module.resolve()]
    while pending:
        path = pending.pop()
        name = path.relative_to(STATIC.resolve()).as_posix()
        if name in found:
            continue
        found.add(name)
        pending += [(path.parent / spec).resolve() for spec in IMPORT.findall(path.read_text())]
    return found


STATIC = Path(__file__).resolve().parents[2] / "static"
IMPORT = re.compile(r'^\s*(?:import|export)\b[^;"]*?\bfrom\s+"([^"]+)"', re.M)


def test_a_pages_requests_share_one_build_of_the_tree_and_a_later_visit_builds_again(client):
    from webapp.views.diff_builds import DiffBuilds

    calls = []

    def build(result):
        calls.append(1)
        result.preview.set_result(b"preview")
        result.full.set_result(b"full")

    def fail(result):
        raise ValueError("no tree")

    builds = DiffBuilds()
    with client.application.app_context():
        first = builds.get("pair", build)
        assert builds.get("pair", build) is first  # the preview's and the tree's requests
        assert builds.take("pair", first, "preview") == b"preview" and builds.take("pair", first, "full") == b"full"
        again = builds.get("pair", build)  # both parts taken: a new visit builds again
        builds.take("pair", again, "full")
        assert again is not first and len(calls) == 2
        broken = builds.get("broken", fail)
        with pytest.raises(ValueError, match="no tree"):
            builds.take("broken", broken, "preview")
        assert builds.get("broken", fail) is not broken  # a failed build is tried again
