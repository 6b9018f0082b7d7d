"""PEP 723 dependencies through the real worker path: installed once from a local wheel
directory into a cached environment, reused by the next job; a missing one ends the job
before it runs, with a sentence."""

from __future__ import annotations

import base64
import hashlib
import time
import zipfile

import pytest

from .conftest import make_app, row

pytestmark = pytest.mark.slow

TINY_MODULE = b"""\
def work(rounds):
    total = 0
    for i in range(rounds):
        total += i * i % 13
    return total
"""
NEEDS_TINY = """\
# /// script
# requires-python = ">=3.9"
# dependencies = ["tinydep>=1.0"]
# ///
import tinydep

for _ in range(20):
    tinydep.work(100_000)
print("tinydep from", tinydep.__file__.split("/lib/python")[0].rsplit("/", 1)[-1])
"""
NEEDS_MISSING = """\
# /// script
# dependencies = ["notapackage-flamedeck>=2"]
# ///
print("ran anyway")
"""


def build_wheel(directory, name: str = "tinydep", version: str = "1.0") -> None:
    """A minimal pure-Python wheel (PEP 427), written the way any build backend would."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": TINY_MODULE,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: flamedeck-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + f"\n{dist_info}/RECORD,,\n").encode()
    with zipfile.ZipFile(directory / f"{name}-{version}-py3-none-any.whl", "w") as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)


def run_job(app, client, code: str) -> tuple[dict, float]:
    response = client.post("/api/v1/reports", data={"code": code, "duration": "20", "rate": "200"})
    assert response.status_code == 202, response.get_json()
    token = response.get_json()["id"]
    started = time.monotonic()
    app.extensions["flamedeck.queue"].runner.run(row(app.extensions["flamedeck.store"], token).id)
    elapsed = time.monotonic() - started
    return client.get(f"/api/v1/reports/{token}").get_json(), elapsed


def test_dependencies_install_once_into_a_cached_environment_and_missing_ones_stop_the_job(tmp_path):
    wheels, cache = tmp_path / "wheels", tmp_path / "envs"
    wheels.mkdir()
    build_wheel(wheels)
    for app in make_app(tmp_path / "data", SCRIPT_PACKAGE_SOURCE=str(wheels), SCRIPT_ENV_CACHE_DIR=str(cache)):
        client = app.test_client()
        first, first_s = run_job(app, client, NEEDS_TINY)
        assert first["summary"]["outcome"]["status"] == "finished", first["summary"]["outcome"]
        assert first["summary"]["dependencies"] == {
            "declared": ["tinydep>=1.0"], "environment": "cached", "packages": {"tinydep": "1.0"}, "installed": True}
        environments = [path for path in cache.iterdir() if path.is_dir()]
        assert len(environments) == 1
        assert client.get(first["artifacts"]["stdout.txt"]).data.decode() == f"tinydep from {environments[0].name}\n"
        assert any(fn["file"].endswith("/site-packages/tinydep/__init__.py") for fn in first["summary"]["hot_functions"])

        second, second_s = run_job(app, client, NEEDS_TINY)
        assert second["summary"]["outcome"]["status"] == "finished"
        assert second["summary"]["dependencies"]["installed"] is False  # the cached environment, reused
        assert [path for path in cache.iterdir() if path.is_dir()] == environments
        print(f"\nfirst PEP 723 job (with install): {first_s:.2f} s; second (cached): {second_s:.2f} s")

        missing, _ = run_job(app, client, NEEDS_MISSING)
        assert missing["status"] == "failed" and "summary" not in missing or not missing["summary"]
        message = missing["outcome"]["message"]
        assert "notapackage-flamedeck>=2" in message and "cannot be had" in message
        assert "sortedcontainers 2.4.0" in message  # what the script environment has


def test_without_installs_a_dependency_the_default_environment_lacks_ends_the_job_before_it_runs(app, client):
    assert not app.config["SCRIPT_PACKAGE_SOURCE"]
    missing, _ = run_job(app, client, NEEDS_MISSING)
    message = missing["outcome"]["message"]
    assert missing["status"] == "failed"
    assert "needs notapackage-flamedeck>=2" in message and "installs no other packages" in message
    assert "sortedcontainers 2.4.0" in message
    available, _ = run_job(app, client, '# /// script\n# dependencies = ["sortedcontainers"]\n# ///\n'
                                        'import sortedcontainers\nprint(len(sortedcontainers.SortedList(range(5))))\n')
    assert available["summary"]["dependencies"]["environment"] == "default"
    assert client.get(available["artifacts"]["stdout.txt"]).data == b"5\n"


def test_the_status_box_and_the_api_say_what_is_being_installed(app, client, store):
    from webapp.store import SCRIPT
    from webapp.store.lifecycle import claim, insert_queued, set_phase

    with store.writing() as session:
        report = insert_queued(session, kind=SCRIPT, script_name="a.py", script_source=NEEDS_TINY,
                               options={"duration_s": 5, "rate_hz": 100})
    with store.writing() as session:
        lease = claim(session, report.id, lease_s=30)
        assert set_phase(session, report.id, lease, "installing tinydep 1.0 …")
    assert "installing tinydep 1.0 …" in client.get(f"/r/{report.token}").get_data(as_text=True)
    assert client.get(f"/api/v1/reports/{report.token}").get_json()["phase"] == "installing tinydep 1.0 …"
