"""`flamedeck convert FILE -o OUT.speedscope.json`: any supported format to a valid speedscope file."""

from __future__ import annotations

import json
from pathlib import Path

from webapp.cli import main

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ROOT / "tests/fixtures/formats"


def convert(*args: str, capsys) -> tuple[int, str, str]:
    """The command run in this process (its output captured): as a user runs it, without the start-up cost."""
    status = main(["convert", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_convert_writes_a_valid_speedscope_file_and_notes_an_approximation(tmp_path, speedscope_validator, capsys):
    status, out, err = convert(str(FORMATS / "cprofile.prof"), "-o", str(tmp_path / "out.speedscope.json"), capsys=capsys)
    assert status == 0, err
    assert "as cProfile / pstats" in out and "Note: cProfile records time per function" in out
    document = json.loads((tmp_path / "out.speedscope.json").read_text())
    speedscope_validator.validate(document)
    assert any(frame["name"] == "is_prime" for frame in document["shared"]["frames"])


def test_convert_refuses_a_file_it_cannot_read_with_a_sentence_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("just some notes\n")
    status, _, err = convert(str(tmp_path / "notes.txt"), "-o", str(tmp_path / "out.speedscope.json"), capsys=capsys)
    assert status == 2
    assert "is not in a profile format flamedeck can read" in err
    assert not (tmp_path / "out.speedscope.json").exists()
