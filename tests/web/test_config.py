"""The settings table: environment parsing, units in names, and the README staying in step."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from webapp import create_app
from webapp.config import SETTINGS, ConfigError, load_settings, settings_markdown

README = Path(__file__).resolve().parents[2] / "README.md"
UNIT_SUFFIXES = ("_BYTES", "_S", "_HZ", "_CHARS", "_CORES", "_DAYS")
COUNT_UNITS = {"jobs", "attempts", "threads", "processes", "arguments", "rows", "files", "connections",
               "requests", "proxies", "times"}  # "times": a dimensionless ratio (unpacked / compressed size)


def test_environment_overrides_defaults_with_the_default_type():
    settings = load_settings({"FLAMEDECK_MAX_DURATION_S": "90", "FLAMEDECK_HEARTBEAT_INTERVAL_S": "0.5",
                              "FLAMEDECK_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert settings["MAX_DURATION_S"] == 90
    assert settings["HEARTBEAT_INTERVAL_S"] == 0.5
    assert settings["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert settings["MAX_RATE_HZ"] == 1000  # untouched default


def test_a_malformed_number_names_the_variable_and_the_unit():
    with pytest.raises(ConfigError, match=r"FLAMEDECK_MAX_UPLOAD_BYTES must be a whole number \(bytes\)"):
        load_settings({"FLAMEDECK_MAX_UPLOAD_BYTES": "10MB"})


def test_every_limit_has_its_unit_in_its_name():
    for setting in SETTINGS:
        is_switch = isinstance(setting.default, bool)  # on/off, not a limit
        if isinstance(setting.default, (int, float)) and not is_switch and setting.unit not in COUNT_UNITS | {"port"}:
            assert setting.name.endswith(UNIT_SUFFIXES), f"{setting.name} ({setting.unit}) lacks a unit suffix"
        assert setting.help.endswith("."), f"{setting.name}: help should be a sentence"


def test_the_app_reads_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FLAMEDECK_DATA_DIR", str(tmp_path / "env-data"))
    monkeypatch.setenv("FLAMEDECK_MAX_QUEUED", "7")
    app = create_app()
    assert app.config["MAX_QUEUED"] == 7
    assert app.config["DATA_DIR"] == str((tmp_path / "env-data").resolve())
    # No SECRET_KEY given: one is generated once, kept private, and reused.
    key_file = tmp_path / "env-data" / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"] == key_file.read_text().strip()


def test_markdown_command_prints_every_setting():
    result = subprocess.run([sys.executable, "-m", "webapp.config", "--markdown"],
                            capture_output=True, text=True, check=True)
    assert result.stdout == settings_markdown()
    for setting in SETTINGS:
        assert f"`{setting.env_var}`" in result.stdout


def test_readme_settings_table_matches_the_settings():
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    match = re.search(r"<!-- settings:start -->\n(.*?)<!-- settings:end -->", text, re.S)
    assert match, "README.md needs the settings table between <!-- settings:start --> and <!-- settings:end -->"
    assert match.group(1).strip() == settings_markdown().strip(), (
        "README.md's settings table is out of date: paste the output of `python -m webapp.config --markdown`"
    )
