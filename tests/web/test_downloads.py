"""Downloads are immutable: attachment names, strong ETags, long caching, gzip when accepted."""

from __future__ import annotations

import gzip

from .conftest import SPEEDSCOPE_BYTES, insert_done_report


def test_speedscope_download_is_an_attachment_named_after_the_script(client, store):
    report = insert_done_report(store, "server_simulation.py")
    response = client.get(f"/r/{report.token}/profile.speedscope.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="server_simulation.speedscope.json"'
    assert response.mimetype == "application/json"
    assert response.data == SPEEDSCOPE_BYTES
    assert "immutable" in response.headers["Cache-Control"] and "max-age=31536000" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(f"/r/{report.token}/profile.speedscope.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_collapsed_stacks_are_gzipped_for_clients_that_accept_it(client, store):
    report = insert_done_report(store, "busy.py")
    response = client.get(f"/r/{report.token}/profile.collapsed.txt", headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["Content-Disposition"] == 'attachment; filename="busy.collapsed.txt"'
    assert gzip.decompress(response.data) == b"main;spin 150\nmain 50\n"
    plain = client.get(f"/r/{report.token}/profile.collapsed.txt")
    assert "Content-Encoding" not in plain.headers and plain.data == b"main;spin 150\nmain 50\n"
    assert plain.headers["ETag"] != response.headers["ETag"]  # two encodings, two strong ETags


def test_an_unknown_artifact_is_404(client, store):
    report = insert_done_report(store)
    response = client.get(f"/r/{report.token}/secrets.txt")
    assert response.status_code == 404 and "no file called" in response.get_data(as_text=True)
