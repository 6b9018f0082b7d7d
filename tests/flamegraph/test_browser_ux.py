"""The flamegraph's height, deep zoom, keyboard, touch and themes, in real Chromium.

Each test loads one harness page (served under the app's strict CSP) and checks several
things on it; every test also fails if the page logged an error or opened a dialog.
"""

from __future__ import annotations

import colorsys
import re

import pytest

from webapp.profiles.exporters.flame_tree import FlameTreeExporter
from webapp.profiles.exporters.svg import SvgExporter
from webapp.profiles.model import Frame, Profile

from .support import GRAPH, SCRIPT, centre_of, crumbs, known_profile, snapshot, wait_until_drawn

pytestmark = pytest.mark.slow

RECURSION_LEVELS = 40
RARE_DEPTH = 200  # one sample this deep must not make the graph 200 rows tall
ROOT_LABEL = "All threads (150,001 samples)"
FLAME_ROW_PX = 18  # draw.js ROW_HEIGHT_PX
WCAG_AA = 4.5


def deep_profile() -> Profile:
    """main > level_0 > ... > level_39 > leaf: 100,000 samples; main > heavy: 50,000;
    main > rare_0 > ... > rare_199: a single sample, far too narrow to draw."""
    profile = Profile(name="deep.py")
    frame = lambda name, line: profile.intern_frame(Frame(name, SCRIPT, line))  # noqa: E731
    main, heavy, leaf = frame("main", 1), frame("heavy", 2), frame("leaf", 3)
    levels = [frame(f"level_{k}", 10 + k) for k in range(RECURSION_LEVELS)]
    rare = [frame(f"rare_{k}", 100 + k) for k in range(RARE_DEPTH)]
    thread = profile.add_thread("MainThread")
    thread.append(profile.intern_stack((main, *levels, leaf)), 100_000)
    thread.append(profile.intern_stack((main, heavy)), 50_000)
    thread.append(profile.intern_stack((main, *rare)), 1)
    return profile


@pytest.fixture
def open_graph(page, harness, request):
    """Open a harness page on ``profile`` once it is drawn."""

    def open_(profile: Profile, rows=()):
        name = re.sub(r"\W+", "_", request.node.name)
        page.goto(harness.add_page(name, FlameTreeExporter(SCRIPT).render(profile), script_file=SCRIPT, rows=rows))
        wait_until_drawn(page)
        return page

    yield open_
    assert page.problems.errors == [] and page.problems.dialogs == []


def announced(page) -> str:
    return page.locator("#flamegraph .fg-announce").text_content()


def tooltip_title(page) -> str | None:
    tooltip = page.locator("#flamegraph .fg-tooltip")
    return tooltip.locator(".fg-tip-title").text_content() if tooltip.is_visible() else None


def in_view(page, label: str) -> bool:
    """Is the frame labelled ``label`` drawn inside the graph's scrolled viewport?"""
    return page.evaluate(f"(label) => {GRAPH}.locate(label) !== null", label)


def test_height_deep_zoom_breadcrumbs_and_keyboard(open_graph):
    page = open_graph(deep_profile(), rows=[("heavy", SCRIPT)])
    canvas = page.locator("#flamegraph canvas")

    # Height: rows drawn at this zoom (root, main, 40 levels, leaf), not the rare 200-deep stack;
    # taller than the window allows, so the graph scrolls, the root row in view.
    assert snapshot(page)["rows"] == RECURSION_LEVELS + 3
    viewport = page.evaluate("(() => { const v = document.querySelector('#flamegraph .fg-viewport');"
                             " return [v.clientHeight, v.scrollHeight]; })()")
    assert viewport[0] < viewport[1] <= (RECURSION_LEVELS + 3) * FLAME_ROW_PX + 2
    assert in_view(page, ROOT_LABEL) and not in_view(page, "leaf")

    # Keyboard: Tab reaches the canvas, which shows a focus ring and says what it is.
    page.locator("#flamegraph .fg-search").focus()
    for _ in range(12):
        if page.evaluate("document.activeElement.tagName") == "CANVAS":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "CANVAS"
    ring = canvas.evaluate("(c) => { const s = getComputedStyle(c); return [s.outlineStyle, s.outlineWidth]; }")
    assert ring == ["solid", "3px"]
    assert "Arrow keys" in canvas.get_attribute("aria-label")

    page.keyboard.press("ArrowDown")  # the first arrow selects the zoomed frame: the root
    assert snapshot(page)["selected"] == ROOT_LABEL and announced(page).startswith(ROOT_LABEL)
    assert tooltip_title(page) == ROOT_LABEL, "the selection is shown like hover info"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # main's heaviest child
    assert snapshot(page)["selected"] == "level_0"
    page.keyboard.press("ArrowRight")
    assert snapshot(page)["selected"] == "level_0", "rare_0 is too narrow to draw, so not reachable"
    page.keyboard.press("ArrowLeft")
    assert snapshot(page)["selected"] == "heavy" and tooltip_title(page) == "heavy"
    assert announced(page) == "heavy. job/app.py:2 (first sampled line). Total: 50,000 samples \u00b7 33.3 % of all. Self: 50,000 samples \u00b7 33.3 % of all"
    page.keyboard.press("ArrowRight")
    for _ in range(RECURSION_LEVELS):
        page.keyboard.press("ArrowDown")
    assert snapshot(page)["selected"] == "leaf" and in_view(page, "leaf"), "the selection is scrolled into view"
    page.keyboard.press("ArrowUp")
    assert snapshot(page)["selected"] == f"level_{RECURSION_LEVELS - 1}"
    assert snapshot(page)["zoom"] == [ROOT_LABEL], "moving the selection does not zoom"

    # Enter zooms; the zoomed subtree is in view; the long path is collapsed to first, ..., last three.
    page.keyboard.press("Enter")
    levels = [f"level_{k}" for k in range(RECURSION_LEVELS)]
    assert snapshot(page)["zoom"] == [ROOT_LABEL, "main", *levels]
    assert in_view(page, levels[-1]) and in_view(page, "leaf")
    assert crumbs(page) == [ROOT_LABEL, "\u2026", *levels[-3:]]
    more = page.locator("#flamegraph .fg-crumb-more")
    assert more.get_attribute("aria-label") == f"Show the {RECURSION_LEVELS + 2 - 4} hidden levels"

    # Escape resets only while the flamegraph has focus.
    page.locator("#hot tr").focus()
    page.keyboard.press("Escape")
    assert len(snapshot(page)["zoom"]) == RECURSION_LEVELS + 2
    more.click()
    assert crumbs(page) == [ROOT_LABEL, "main", *levels]
    assert page.evaluate("document.activeElement.textContent") == "main", "focus goes to the first revealed level"
    page.locator("#flamegraph .fg-crumb", has_text=re.compile(r"^level_5$")).click()
    assert crumbs(page) == [ROOT_LABEL, "\u2026", "level_3", "level_4", "level_5"], "a new path is collapsed again"
    canvas.focus()
    page.keyboard.press("Escape")
    assert snapshot(page)["zoom"] == [ROOT_LABEL] and snapshot(page)["rows"] == RECURSION_LEVELS + 3

    # A zoom to a shallow frame shrinks the graph to what it draws.
    page.mouse.click(*centre_of(page, "heavy"))
    assert snapshot(page)["rows"] == 3
    assert canvas.evaluate("(c) => c.clientHeight") == 3 * FLAME_ROW_PX


PHONE = {"viewport": {"width": 390, "height": 740}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


@pytest.mark.parametrize("context_options", [PHONE])
def test_taps_select_then_zoom_and_never_leave_a_tooltip(open_graph):
    page = open_graph(known_profile())
    root = "All threads (200 samples)"
    assert page.evaluate("document.querySelector('#flamegraph canvas').clientWidth") <= PHONE["viewport"]["width"]
    assert page.locator("#flamegraph .fg-hint").inner_text().startswith("Tap a frame"), "the hint speaks of taps"
    page.touchscreen.tap(*centre_of(page, "main"))
    assert tooltip_title(page) == "main" and snapshot(page)["selected"] == "main"
    assert crumbs(page) == [root], "the first tap only selects"
    page.touchscreen.tap(*centre_of(page, "main"))
    assert crumbs(page) == [root, "main"] and tooltip_title(page) == "main", "a second tap zooms"
    page.touchscreen.tap(*centre_of(page, "compute"))
    assert tooltip_title(page) == "compute" and crumbs(page) == [root, "main"]
    page.touchscreen.tap(*centre_of(page, "compute"))  # soon after the first: no double-tap reset
    assert crumbs(page) == [root, "main", "compute"] and tooltip_title(page) == "compute"
    compute = page.evaluate(f"{GRAPH}.locate('compute')")
    # above compute's own samples (its right third, where loads is not): no frame there
    page.touchscreen.tap(compute["x"] + compute["width"] - 4, compute["y"] - compute["height"] / 2)
    assert tooltip_title(page) is None and snapshot(page)["selected"] is None, "a tap on no frame clears"
    page.touchscreen.tap(*centre_of(page, "loads"))
    assert tooltip_title(page) == "loads"
    page.locator("#flamegraph h2").tap()
    assert tooltip_title(page) is None and snapshot(page)["selected"] is None, "a tap elsewhere clears"
    assert crumbs(page) == [root, "main", "compute"]


# -- colours ---------------------------------------------------------------------------------
def relative_luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour with 0..1 channels."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def parse_colour(text: str) -> tuple[float, float, float]:
    """'#rrggbb', 'hsl(h, s%, l%)' or 'rgb(r, g, b)' as 0..1 channels."""
    text = text.strip()
    if text.startswith("#"):
        return tuple(int(text[i:i + 2], 16) / 255 for i in (1, 3, 5))
    numbers = [float(n) for n in re.findall(r"[\d.]+", text)]
    if text.startswith("hsl"):
        return hsl(*numbers[:3])
    return tuple(n / 255 for n in numbers[:3])


def hsl(hue: float, saturation: float, lightness: float) -> tuple[float, float, float]:
    return colorsys.hls_to_rgb(hue / 360, lightness / 100, saturation / 100)


def frame_fills(origin: dict) -> list[tuple[float, float, float]]:
    """Every fill an origin's palette can give a function (whole degrees and percents, as drawn)."""
    (hue_low, hue_high), (light_low, light_high) = origin["hue"], origin["light"]
    return [hsl(h % 360, origin["sat"], light) for h in range(round(hue_low), round(hue_high) + 1)
            for light in range(round(light_low), round(light_high) + 1)]


def check_theme(theme: dict) -> None:
    """Every label keeps WCAG AA contrast on every frame colour it is drawn on, and a frame
    dimmed by a search never looks like a "native / unknown" frame."""
    text, dim_text = parse_colour(theme["text"]), parse_colour(theme["dimText"])
    for name, origin in theme["origins"].items():
        worst = min(contrast(text, fill) for fill in frame_fills(origin))
        assert worst >= WCAG_AA, f"{name} frames: label contrast {worst:.2f}"
    assert contrast(text, parse_colour(theme["root"])) >= WCAG_AA
    assert contrast(parse_colour(theme["matchText"]), parse_colour(theme["match"])) >= WCAG_AA
    dimmed = [hsl(h, theme["dimmed"]["sat"], theme["dimmed"]["light"]) for h in range(360)]
    assert min(contrast(dim_text, fill) for fill in dimmed) >= WCAG_AA
    native = theme["origins"]["native"]
    native_fills = frame_fills(native)
    assert min(contrast(a, b) for a in dimmed for b in native_fills) >= 1.5, "dimmed looks like native"


READ_THEME = """async () => {
    const palette = await import('/static/js/flamegraph/palette.js');
    return palette.readTheme(document.querySelector('#flamegraph .fg'));
}"""
LOOK = """(label) => {
    const graph = document.getElementById('flamegraph').flamegraph;
    const box = graph.locate(label);
    const canvas = graph.ui.canvas;
    const ratio = canvas.width / canvas.clientWidth;
    const at = canvas.getBoundingClientRect();
    const [r, g, b] = canvas.getContext('2d').getImageData(
        Math.round((box.x - at.left + 2) * ratio), Math.round((box.y - at.top + box.height / 2) * ratio), 1, 1).data;
    return { frame: [r, g, b], background: getComputedStyle(graph.ui.viewport).backgroundColor,
             swatch: getComputedStyle(graph.ui.root.querySelector('.fg-swatch')).backgroundColor };
}"""


def test_dark_mode_follows_the_system_and_the_page_toggle(open_graph):
    page = open_graph(known_profile())
    light = page.evaluate(LOOK, "main")
    light_theme = page.evaluate(READ_THEME)
    check_theme(light_theme)

    # Searching dims the other frames in a colour far from the "native / unknown" legend colour.
    page.locator("#flamegraph .fg-search").fill("loads")
    dimmed = [c / 255 for c in page.evaluate(LOOK, "main")["frame"]]
    native_swatch = parse_colour(page.locator("#flamegraph .fg-swatch").nth(3).evaluate(
        "(s) => getComputedStyle(s).backgroundColor"))
    assert contrast(dimmed, native_swatch) >= 1.5
    page.locator("#flamegraph .fg-search").fill("")

    page.emulate_media(color_scheme="dark")
    page.wait_for_function(f"(before) => ({LOOK})('main').frame.join() !== before", arg=",".join(map(str, light["frame"])))
    dark = page.evaluate(LOOK, "main")
    assert dark["background"] != light["background"] and dark["swatch"] != light["swatch"]
    assert relative_luminance(parse_colour(dark["background"])) < 0.05, "a dark background"
    dark_theme = page.evaluate(READ_THEME)
    assert dark_theme != light_theme
    check_theme(dark_theme)
    assert contrast(parse_colour(dark_theme["text"]), [c / 255 for c in dark["frame"]]) >= WCAG_AA

    # The page's own choice wins over the system's, and its toggle event redraws.
    toggle = """(theme) => { document.documentElement.dataset.theme = theme;
        document.dispatchEvent(new CustomEvent('flamedeck:themechange')); }"""
    page.evaluate(toggle, "light")
    assert page.evaluate(LOOK, "main") == light
    page.emulate_media(color_scheme="light")
    page.evaluate(toggle, "dark")
    assert page.evaluate(LOOK, "main") == dark


def test_svg_download_takes_the_height_of_what_it_shows(page, tmp_path):
    svg_file = tmp_path / "deep.svg"
    svg_file.write_bytes(SvgExporter(SCRIPT, min_frame_width_px=0).render(deep_profile()))
    page.goto(svg_file.as_uri())
    height = lambda: float(page.evaluate("document.documentElement.getAttribute('height')"))  # noqa: E731
    drawn_rows = RECURSION_LEVELS + 3
    assert height() == 3 * 12 + drawn_rows * 17 + 2 * 12, "the 200-deep single sample adds no rows"
    rare = page.locator("g.frame", has=page.locator("title", has_text=re.compile(r"^rare_199\n")))
    assert rare.get_attribute("class") == "frame hidden"
    index = page.evaluate("""() => [...document.querySelectorAll('g.frame')].findIndex(
        (g) => g.querySelector('title').textContent.startsWith('rare_0\\n'))""")
    page.evaluate("(i) => window.flamegraphSvg.zoom(i)", index)
    assert height() == 3 * 12 + (RARE_DEPTH + 2) * 17 + 2 * 12, "zoomed into the rare stack: as tall as it is"
    assert rare.get_attribute("class") == "frame"
    svg_box, rare_box = page.locator("svg").bounding_box(), rare.locator("rect").bounding_box()
    assert svg_box["y"] + 3 * 12 <= rare_box["y"] and rare_box["y"] + rare_box["height"] <= svg_box["y"] + svg_box["height"]
    heavy = page.locator("g.frame", has=page.locator("title", has_text=re.compile(r"^heavy\n")))
    assert heavy.get_attribute("class") == "frame hidden"
    page.evaluate("window.flamegraphSvg.zoom(0)")
    assert height() == 3 * 12 + drawn_rows * 17 + 2 * 12 and rare.get_attribute("class") == "frame hidden"
    assert page.problems.errors == []
