"""Unpacking uploads into projects: what is kept, what is refused, before anything is written."""

from __future__ import annotations

import io
import random
import zipfile

import pytest

from webapp.projects import ProjectError, ProjectLimits, from_files, from_zip
from webapp.projects.project import from_stored_zip

LIMITS = ProjectLimits(max_project_files=10, max_project_bytes=100_000, max_zip_ratio=50)


def archive(members: dict[str, bytes], **info) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in members.items():
            entry = zipfile.ZipInfo(name)
            for key, value in info.get(name, {}).items():
                setattr(entry, key, value)
            zipped.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def encrypted(data: bytes) -> bytes:
    """The archive with its (first) central-directory entry marked encrypted, as a password tool writes it."""
    at = data.index(b"PK\x01\x02") + 8
    return data[:at] + (1).to_bytes(2, "little") + data[at + 2:]


def test_a_folder_zip_is_its_contents_and_tool_noise_is_dropped():
    project = from_zip(archive({"proj/pkg/__init__.py": b"", "proj/pkg/run.py": b"print(1)\n",
                                "proj/__MACOSX/._run.py": b"x", "proj/pkg/__pycache__/run.cpython-311.pyc": b"x",
                                "proj/data/in.csv": b"a,b\n"}), LIMITS, entry="pkg/run.py")
    assert sorted(project.files) == ["data/in.csv", "pkg/__init__.py", "pkg/run.py"]
    assert project.entry == "pkg/run.py"
    assert from_stored_zip(project.to_zip(), project.entry) == project  # stored and read back unchanged


def test_the_obvious_entry_is_chosen_and_a_lone_nested_script_too():
    assert from_zip(archive({"__main__.py": b"", "a.py": b""}), LIMITS).entry == "__main__.py"
    assert from_zip(archive({"run.py": b"", "lib/util.py": b""}), LIMITS).entry == "run.py"
    assert from_zip(archive({"src/only.py": b"", "README": b""}), LIMITS).entry == "src/only.py"


@pytest.mark.parametrize("data, words, status", [
    (b"not a zip at all", "is not a .zip archive", 400),
    (archive({"a\\..\\b.py": b""}), "backslash", 400),
    (archive({"C:/x.py": b""}), "absolute path", 400),
    (archive({"main.py": b"", "data/../../x": b""}), "leaves the project", 400),
    (encrypted(archive({"secret.py": b"y"})), "encrypted", 400),
    (archive({"main.py": b"x", "dev": b""}, **{"dev": {"external_attr": 0o020644 << 16}}), "not a regular file", 400),
    (archive({f"f{i}.py": b"" for i in range(11)}), "at most 10", 413),
    (archive({"main.py": b"", "big.bin": random.Random(0).randbytes(100_001)}), "at most 98 KiB", 413),
    (archive({"README": b"no code"}), "no .py file", 400),
], ids=["not-zip", "backslash", "drive", "dotdot", "encrypted", "device", "files", "bytes", "no-script"])
def test_unsafe_or_unusable_archives_are_refused(data, words, status):
    with pytest.raises(ProjectError, match=words) as refused:
        from_zip(data, LIMITS)
    assert refused.value.status_code == status


def test_several_uploaded_files_are_a_flat_project_without_duplicates():
    project = from_files([("main.py", b"import helper\n"), ("helper.py", b""), ("input.txt", b"1\n")], LIMITS)
    assert project.entry == "main.py" and sorted(project.files) == ["helper.py", "input.txt", "main.py"]
    with pytest.raises(ProjectError, match="called 'a.py'"):
        from_files([("a.py", b""), ("a.py", b"")], LIMITS)
