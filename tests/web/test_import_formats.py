"""Importing any supported format through the API and the form: a report like a run's;
a bad file gets a 4xx sentence naming its format and stores nothing."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from .conftest import post_form, report_count, row

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
PROFILE_DOWNLOADS = ("profile.speedscope.json", "profile.collapsed.txt", "flamegraph.svg", "flame.json")


def upload(name: str, data: bytes | None = None):
    return (io.BytesIO((FORMATS / name).read_bytes() if data is None else data), name)


def test_a_pprof_file_imported_by_the_api_gets_a_report_and_every_download(client, store):
    response = client.post("/api/v1/reports", data={"profile": upload("go-style.pb.gz")},
                           content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
    token = response.get_json()["url"].rsplit("/", 1)[-1]
    summary = client.get(f"/api/v1/reports/{token}").get_json()
    assert summary["status"] == "done"
    assert summary["summary"]["import"] == {"format": "pprof", "approximation": None,
                                            "format_description": "pprof protobuf (`.pb` / `.pb.gz`, Go, Pyroscope)"}
    for name in PROFILE_DOWNLOADS:
        download = client.get(f"/r/{token}/{name}")
        assert download.status_code == 200 and download.data, name
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert "is_prime" in client.get(f"/r/{token}/profile.collapsed.txt").get_data(as_text=True)
    assert "a pprof file" in page and 'id="flamegraph"' in page


def test_a_cprofile_import_says_on_its_page_that_it_is_an_approximation(client, store):
    response = post_form(client, {"profile": upload("cprofile.prof")})
    assert response.status_code == 303
    token = response.headers["Location"].rsplit("/", 1)[-1]
    report = row(store, token)
    assert report.summary["import"]["format"] == "pstats"
    assert "call-graph approximation" in report.summary["import"]["approximation"]
    assert "call-graph approximation" in client.get(f"/r/{token}").get_data(as_text=True)


def test_a_damaged_file_of_each_kind_is_refused_with_its_format_named_and_nothing_stored(app, client, store):
    app.config["MAX_DECOMPRESSED_BYTES"] = 1024 * 1024
    cases = {
        "trace.json": (FORMATS / "viztracer.json").read_bytes()[:700],
        "profile.pb.gz": gzip.compress(b"\x0a\x04\x08\x01\x10\x02" + b"\xff" * 40),
        "bomb.txt.gz": gzip.compress(b"main 1\n" + b" " * (2 * 1024 * 1024)),
        "stacks.folded": b"main;work 3\nmain;idle -4\n",
    }
    expected = {"trace.json": "Trace Event file", "profile.pb.gz": "pprof file",
                "bomb.txt.gz": "may be a gzip bomb", "stacks.folded": "collapsed-stack file"}
    for name, data in cases.items():
        response = client.post("/api/v1/reports", data={"profile": upload(name, data)},
                               content_type="multipart/form-data")
        assert response.status_code == 400, name
        assert expected[name] in response.get_json()["error"], (name, response.get_json())
    assert report_count(store) == 0


def test_the_import_form_names_the_formats_and_its_file_dialog_offers_their_files(client):
    page = client.get("/").get_data(as_text=True)
    form = page[page.index("Import a profile"):]
    assert all(name in form for name in ("pprof", "perf script", "cpuprofile", "cProfile", "Firefox Profiler"))
    accept = form[form.index('id="profile"'):].split('accept="', 1)[1].split('"', 1)[0]
    assert {".json", ".txt", ".folded", ".cpuprofile", ".pb", ".gz", ".prof"} <= set(accept.split(","))
