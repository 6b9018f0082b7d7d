"""Without isolation, every page and API response says so; with bubblewrap, none does."""

from __future__ import annotations

import pytest

from webapp import create_app
from webapp.profiling.sandbox import NO_SANDBOX_WARNING


def make_client(tmp_path, mode: str):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "DATA_DIR": str(tmp_path / mode),
                      "SANDBOX": mode})
    return app.test_client()


@pytest.mark.parametrize("path", ["/", "/r/no-such-report-token-at-all"])
def test_pages_warn_when_scripts_run_without_isolation(tmp_path, path):
    html = make_client(tmp_path, "rlimits").get(path).get_data(as_text=True)
    assert "Scripts run without isolation" in html
    assert "Scripts run without isolation" not in make_client(tmp_path, "bwrap").get(path).get_data(as_text=True)


def test_api_responses_carry_the_warning(tmp_path):
    client = make_client(tmp_path, "rlimits")
    created = client.post("/api/v1/reports", data={"code": "print(1)\n", "duration": "2"})
    assert created.status_code == 202
    assert created.get_json()["warning"] == NO_SANDBOX_WARNING
    shown = client.get(f"/api/v1/reports/{created.get_json()['id']}").get_json()
    assert shown["warning"] == NO_SANDBOX_WARNING
    isolated = make_client(tmp_path, "bwrap").post("/api/v1/reports", data={"code": "print(1)\n", "duration": "2"})
    assert "warning" not in isolated.get_json()
