"""Two reports (or two profile files) -> the comparison document: the one road shared by the
server (API, compare page, a report's baseline) and ``flamedeck compare`` on local files.

No Flask, no database: callers hand in the profile files' bytes and what they know of each
side (links, options, static metrics).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from webapp.analysis.compare import Comparison, compare_profiles, option_differences
from webapp.profiles import Profile, ProfileFormatError, load_profile

# The report's function-level speedscope file is what we compare (one frame per function,
# at its definition line); reports made before it existed have only the line-level one.
FUNCTIONS_ARTIFACT = "profile.functions.speedscope.json"
LINES_ARTIFACT = "profile.speedscope.json"
STATIC_FIELDS = ("lines_of_code", "functions", "complexity_score", "maintainability_index")


def read_profile(data: bytes, filename: str) -> Profile:
    """A profile file as a function-level Profile; ProfileFormatError when it is not one."""
    profile = load_profile(data, filename)
    if profile.sample_count == 0:
        raise ProfileFormatError(f"{filename} holds no samples, so there is nothing to compare.")
    return profile.function_level()


def build_document(comparison: Comparison, base_side: dict[str, Any], head_side: dict[str, Any],
                   threshold_points: float = 0.0) -> dict[str, Any]:
    """The comparison's JSON document (see ``GET /api/v1/compare``), at ``threshold_points``."""
    comparison = dataclasses.replace(comparison, threshold_points=threshold_points)
    differences = option_differences(base_side.get("options"), head_side.get("options"))
    return {"base": base_side, "head": head_side} | comparison.to_dict() | {
        "options_check": {"same": not differences, "differences": differences},
    }


def compare_files(base: tuple[bytes, str], head: tuple[bytes, str], threshold_points: float = 0.0) -> dict[str, Any]:
    """Compare two local profile files, given as (bytes, file name)."""
    profiles = [read_profile(data, name) for data, name in (base, head)]
    comparison = compare_profiles(*profiles)
    sides = [{"script_name": name, "samples": profile.sample_count, "interval_s": profile.interval_s}
             for (_, name), profile in zip((base, head), profiles)]
    return build_document(comparison, sides[0], sides[1], threshold_points)


def static_changes(base_summary: dict[str, Any] | None, head_summary: dict[str, Any] | None) -> dict[str, Any]:
    """Static metrics of two script runs side by side: the file's figures and each function's
    complexity (functions in either version, by name)."""
    base_static = (base_summary or {}).get("static_metrics") or {}
    head_static = (head_summary or {}).get("static_metrics") or {}
    if not base_static and not head_static:
        return {"available": False, "file": [], "functions": []}
    file_rows = [{"metric": name.replace("_", " "), "base": base_static.get(name), "head": head_static.get(name)}
                 for name in STATIC_FIELDS]
    old = {row["name"]: row for row in base_static.get("function_complexity") or []}
    new = {row["name"]: row for row in head_static.get("function_complexity") or []}
    functions = []
    for name in sorted(old.keys() | new.keys(), key=lambda n: ((new.get(n) or old.get(n))["line"], n)):
        before, after = old.get(name), new.get(name)
        functions.append({
            "name": name,
            "base": before["complexity"] if before else None,
            "head": after["complexity"] if after else None,
            "base_rank": before["rank"] if before else None,
            "head_rank": after["rank"] if after else None,
            "changed": (before or {}).get("complexity") != (after or {}).get("complexity"),
        })
    return {"available": True, "file": file_rows, "functions": functions}
