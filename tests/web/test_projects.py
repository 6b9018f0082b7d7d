"""Projects (several files) and the script environment, through the API, the worker and the pages.

The job runs for real: the app's own job runner, the sandbox the settings choose
(bubblewrap in CI), py-spy, SQLite. Hostile archives are refused before anything is stored.
"""

from __future__ import annotations

import io
import stat
import zipfile

import orjson
import pytest
from sqlalchemy import func, select

from webapp.store import Report
from webapp.store.tables import Artifact

from .conftest import row

MAIN = b"""\
import helper

with open("data/numbers.txt") as numbers:
    values = [int(line) for line in numbers]
print("read", len(values), "numbers")
for _ in range(30):
    helper.crunch(values)
"""
HELPER = b"""\
def crunch(values):
    total = 0
    for _ in range(300):
        for value in values:
            total += value * value % 7
    return total
"""
NUMBERS = b"\n".join(str(n).encode() for n in range(200)) + b"\n"


def zip_bytes(members: dict[str, bytes], *, symlinks: dict[str, str] | None = None,
              method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def submit_project(client, data: bytes, entry: str = "", name: str = "project.zip"):
    fields = {"project": (io.BytesIO(data), name), "duration": "10", "rate": "200"}
    if entry:
        fields["entry"] = entry
    return client.post("/api/v1/reports", data=fields, content_type="multipart/form-data")


def stored_counts(store) -> tuple[int, int]:
    with store.reading() as session:
        return (session.scalar(select(func.count()).select_from(Report)),
                session.scalar(select(func.count()).select_from(Artifact)))


@pytest.mark.slow
def test_a_zip_project_runs_from_its_entry_with_its_module_and_data_file(app, client, store):
    project = zip_bytes({"myproject/main.py": MAIN, "myproject/helper.py": HELPER,
                         "myproject/data/numbers.txt": NUMBERS, "myproject/notes.md": b"# notes\n"})
    response = submit_project(client, project)
    assert response.status_code == 202, response.get_json()
    token = response.get_json()["id"]
    report = row(store, token)
    assert report.script_name == "main.py"  # the obvious entry, in a zip of a folder
    app.extensions["flamedeck.queue"].runner.run(report.id)

    document = client.get(f"/api/v1/reports/{token}").get_json()
    summary = document["summary"]
    assert summary["outcome"]["status"] == "finished", client.get(document["artifacts"]["stderr.txt"]).data
    assert summary["sandboxed"] is True  # bubblewrap here and in CI: the project was bound read-only
    assert client.get(document["artifacts"]["stdout.txt"]).data == b"read 200 numbers\n"
    assert {fn["file"] for fn in summary["hot_functions"]} >= {"helper.py", "main.py"}
    assert [file["file"] for file in summary["project_files"]] == ["helper.py", "main.py"]
    assert summary["static_metrics"]["functions"] == 1 and summary["static_metrics"]["files"] == 2
    assert summary["static_metrics"]["sloc"] == sum(file["sloc"] for file in summary["project_files"])
    assert any(fn["name"] == "crunch" and fn["file"] == "helper.py" and fn["total_percent"] > 50
               for fn in summary["function_complexity"])

    flame = orjson.loads(client.get(document["artifacts"]["flame.json"]).data)
    origin_of = {flame["files"][f]: flame["origins"][o] for f, o in zip(flame["frames"]["file"], flame["frames"]["origin"])}
    assert origin_of["helper.py"] == origin_of["main.py"] == "script"  # "your code" is every project file
    # No artifact names the server's scratch directory.
    for name, url in document["artifacts"].items():
        if name != "project.zip":
            assert b"flamedeck-jobs" not in client.get(url).data, name

    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert 'id="project-metrics"' in page and "<code>helper.py</code>" in page and "Project files (.zip)" in page


@pytest.mark.parametrize("members, symlinks, status, words", [
    ({"../evil.py": b"x = 1\n", "main.py": b"x = 1\n"}, None, 400, "leaves the project"),
    ({"/etc/evil.py": b"x = 1\n"}, None, 400, "absolute path"),
    ({"main.py": b"x = 1\n"}, {"data": "/etc/passwd"}, 400, "symbolic link"),
    ({"main.py": b"x = 1\n", "big.txt": b"\0" * 5_000_000}, None, 400, "zip bomb"),
    ({f"m{i}.py": b"" for i in range(25)} | {"main.py": b"x = 1\n"}, None, 413, "at most 20"),
], ids=["traversal", "absolute", "symlink", "bomb", "too-many-files"])
def test_a_hostile_archive_is_refused_and_nothing_is_stored(data_dir, members, symlinks, status, words):
    from .conftest import make_app

    for app in make_app(data_dir, MAX_PROJECT_FILES=20):
        client, store = app.test_client(), app.extensions["flamedeck.store"]
        response = submit_project(client, zip_bytes(members, symlinks=symlinks))
        assert response.status_code == status, response.get_json()
        assert words in response.get_json()["error"]
        assert stored_counts(store) == (0, 0)


def test_the_entry_must_be_chosen_among_several_scripts_and_must_exist(client, store):
    project = zip_bytes({"a.py": b"x = 1\n", "b.py": b"y = 2\n"})
    response = submit_project(client, project)
    assert response.status_code == 400 and "a.py, b.py" in response.get_json()["error"]
    assert submit_project(client, project, entry="c.py").status_code == 400
    assert stored_counts(store) == (0, 0)
    response = submit_project(client, project, entry="b.py")
    assert response.status_code == 202 and row(store, response.get_json()["id"]).script_name == "b.py"


def test_several_files_uploaded_at_once_make_a_project(client, store):
    fields = {"source": "project", "project": [(io.BytesIO(MAIN), "main.py"), (io.BytesIO(HELPER), "helper.py")]}
    response = client.post("/api/v1/reports", data=fields, content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
    assert row(store, response.get_json()["id"]).script_name == "main.py"


def test_the_environment_is_listed_by_the_api_and_on_the_home_page(client):
    document = client.get("/api/v1/environment").get_json()
    assert document["available"] and document["python"].startswith("3.")
    assert {"name": "sortedcontainers", "version": "2.4.0"} in document["packages"]
    assert document["installs_enabled"] is False
    assert not any(package["name"] in ("flask", "sqlalchemy") for package in document["packages"])
    page = client.get("/").get_data(as_text=True)
    assert "<code>sortedcontainers</code>" in page and f"Python {document['python']}" in page
    assert 'id="source-project"' in page and 'name="entry"' in page
