"""The standalone SVG exporter: valid, escaped, self-contained, laid out from the tree."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

from webapp.profiles.exporters.svg import SVG_SCRIPT, SvgExporter
from webapp.profiles.model import Frame, Profile

from .support import NASTY_NAME, SCRIPT, XSS_NAME, known_profile

SVG_NS = "{http://www.w3.org/2000/svg}"


def parse(svg: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # our own output; raises on anything that is not well-formed XML


def frames(root: ElementTree.Element) -> list[dict]:
    """Each frame group as {name, location, x, width, depth, fill, label}."""
    found = []
    for group in root.iter(f"{SVG_NS}g"):
        classes = (group.get("class") or "").split()
        if not classes or classes[0] != "frame":
            continue
        title = group.find(f"{SVG_NS}title").text.split("\n")
        rect, text = group.find(f"{SVG_NS}rect"), group.find(f"{SVG_NS}text")
        found.append({
            "name": title[0], "location": title[1], "figures": title[2],
            "x": float(rect.get("x")), "width": float(rect.get("width")), "depth": int(group.get("data-d")),
            "fill": rect.get("fill"), "label": text.text or "", "hidden": "hidden" in classes,
        })
    return found


def by_name(root, name: str) -> list[dict]:
    return [f for f in frames(root) if f["name"] == name]


def test_svg_is_well_formed_and_self_contained():
    svg = SvgExporter(SCRIPT).render(known_profile())
    root = parse(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert root.find(f"{SVG_NS}script") is not None and root.find(f"{SVG_NS}style") is not None
    assert not re.search(rb'(href|src)\s*=\s*["\']', svg), "nothing is loaded from elsewhere"
    assert b"http://www.w3.org/2000/svg" in svg and svg.count(b"http") == 1


def test_every_name_is_escaped():
    svg = SvgExporter(SCRIPT).render(known_profile())
    assert b"<img" not in svg and svg.count(b"</script>") == 1
    assert b"&lt;img src=x onerror=alert(1)&gt;" in svg
    assert svg.count(b"]]>") == 1, "the only CDATA terminator closes the script"
    assert "]]>" not in SVG_SCRIPT
    root = parse(svg)
    assert [f["name"] for f in by_name(root, XSS_NAME)] == [XSS_NAME]
    assert [f["name"] for f in by_name(root, NASTY_NAME)] == [NASTY_NAME]


def test_attribute_values_cannot_be_broken_out_of():
    profile = Profile(name='quote" onload="alert(1)')
    profile.add_thread("t").append(profile.intern_stack((profile.intern_frame(Frame("f'\"<>&", SCRIPT, 1)),)), 3)
    root = parse(SvgExporter(SCRIPT).render(profile))
    assert root.find(f"{SVG_NS}title").text.startswith('quote" onload="alert(1)')
    assert all(not name.startswith("on") for element in root.iter() for name in element.attrib)
    assert by_name(root, "f'\"<>&")


def test_frames_are_laid_out_function_level_root_at_the_bottom():
    exporter = SvgExporter(SCRIPT, width_px=1000)
    root = parse(exporter.render(known_profile()))
    compute = sorted(by_name(root, "compute"), key=lambda f: f["x"])
    assert [(f["x"], f["depth"]) for f in compute] == [(50.0, 2), (500.0, 3)]  # 10 samples of 200 to its left
    assert compute[0]["figures"].startswith("Total: 60 samples (30.00 %) \N{MIDDLE DOT} self: 20 (10.00 %)")
    assert compute[0]["width"] == pytest.approx(300 - 0.5)
    assert compute[0]["location"] == "/job/app.py:10"
    all_frame = frames(root)[0]
    assert all_frame["name"] == "all" and all_frame["depth"] == 0
    rows = {f["depth"]: float(g.get("y")) for f, g in zip(frames(root), _rects(root))}
    assert rows[0] > rows[1] > rows[2] > rows[3], "flame orientation: deeper frames higher up"


def _rects(root):
    return [g.find(f"{SVG_NS}rect") for g in root.iter(f"{SVG_NS}g") if g.get("class") == "frame"]


def test_labels_are_trimmed_in_the_middle_to_fit():
    profile = Profile(name="long.py")
    long_name = "a_very_long_function_name_" * 8 + "end"
    narrow = profile.intern_frame(Frame(long_name, SCRIPT, 1))
    wide = profile.intern_frame(Frame("wide", SCRIPT, 2))
    thread = profile.add_thread("t")
    thread.append(profile.intern_stack((narrow,)), 10)
    thread.append(profile.intern_stack((wide,)), 90)
    label = by_name(parse(SvgExporter(SCRIPT, width_px=1200).render(profile)), long_name)[0]["label"]
    assert label.startswith("a_very") and label.endswith("end") and "\N{HORIZONTAL ELLIPSIS}" in label
    assert len(label) * 12 * 0.6 <= 120 - 2 * 4  # fits its 120 px frame, padding included


def test_frames_too_narrow_to_see_are_left_out_with_their_subtrees():
    profile = Profile(name="tiny.py")
    main, hot, rare, rarer = (profile.intern_frame(Frame(n, SCRIPT, k)) for k, n in enumerate(["main", "hot", "rare", "rarer"]))
    thread = profile.add_thread("t")
    thread.append(profile.intern_stack((main, hot)), 1_000_000)
    thread.append(profile.intern_stack((main, rare, rarer)), 1)
    default = parse(SvgExporter(SCRIPT).render(profile))
    assert by_name(default, "hot") and not by_name(default, "rare") and not by_name(default, "rarer")
    everything = parse(SvgExporter(SCRIPT, min_frame_width_px=0).render(profile))
    assert by_name(everything, "rare") and by_name(everything, "rarer")


def test_height_counts_only_rows_wide_enough_to_see():
    """A deep stack of one sample among a million adds no rows; its frames are kept, hidden."""
    profile = Profile(name="deep.py")
    main, hot = (profile.intern_frame(Frame(n, SCRIPT, k)) for k, n in enumerate(["main", "hot"]))
    rare = [profile.intern_frame(Frame(f"rare_{k}", SCRIPT, 10 + k)) for k in range(50)]
    thread = profile.add_thread("t")
    thread.append(profile.intern_stack((main, hot)), 1_000_000)
    thread.append(profile.intern_stack((main, *rare)), 1)
    exporter = SvgExporter(SCRIPT, min_frame_width_px=0, frame_height_px=17, font_size_px=12)
    root = parse(exporter.render(profile))
    rows = 3  # the root, main, hot
    assert float(root.get("height")) == 3 * 12 + rows * 17 + 2 * 12
    assert root.get("data-rows") == str(rows)
    deep = [f for f in frames(root) if f["name"].startswith("rare_")]
    assert len(deep) == 50 and all(f["hidden"] for f in deep if f["depth"] >= rows)
    assert not any(f["hidden"] for f in frames(root) if f["name"] in ("main", "hot"))


def test_colours_follow_origin():
    root = parse(SvgExporter(SCRIPT).render(known_profile()))
    hue = {f["name"]: int(re.match(r"hsl\((\d+),", f["fill"]).group(1)) for f in frames(root)}
    assert 6 <= hue["compute"] <= 30  # the script: red to orange
    assert 40 <= hue["loads"] <= 54  # stdlib: amber
    assert 334 <= hue["fetch"] <= 352  # site-packages: rose


def test_exporter_contract():
    exporter = SvgExporter()
    assert (exporter.name, exporter.file_suffix, exporter.media_type) == ("svg", ".svg", "image/svg+xml")
    assert exporter.render(known_profile()) == exporter.render(known_profile())
    assert parse(SvgExporter().render(Profile(name="empty.py")))  # nothing sampled still gives a valid file
