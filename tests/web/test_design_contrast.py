"""The desk's colours meet WCAG 2.1 AA in light and dark mode: each pair of desk.css colour
variables that carries text has a contrast ratio of at least 4.5:1, and borders and focus
rings at least 3:1 (success criteria 1.4.3 and 1.4.11), computed with WCAG's formula from the
variables as the stylesheet defines them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "src/sevadesk/web/ui/static/desk.css"
TEXT, NON_TEXT = 4.5, 3.0
# (foreground, background, minimum): every combination the stylesheet puts together.
PAIRS = [
    *[(fg, bg, TEXT) for fg in ("ink", "muted", "link") for bg in ("bg", "surface", "surface-2")],
    *[("ink", bg, TEXT) for bg in ("badge-bg", "p1-bg", "warn-bg", "chip-bg", "selected-bg")],
    ("ink", "fresh-bg", TEXT),
    ("ink", "ok-bg", TEXT),
    ("muted", "ok-bg", TEXT),  # a reply's byline
    ("muted", "selected-bg", TEXT),  # the selected inbox row
    ("link", "selected-bg", TEXT),
    ("muted", "chip-bg", TEXT),
    ("muted", "badge-bg", TEXT),
    ("ok", "bg", TEXT),  # "● Live"
    ("ok", "surface", TEXT),
    ("error", "error-bg", TEXT),
    ("on-brand", "brand", TEXT),  # the header
    ("on-brand-muted", "brand", TEXT),
    ("on-attention", "attention", TEXT),  # the header's count badges
    ("on-primary", "primary", TEXT),  # primary buttons, the current queue
    ("on-primary", "primary-hover", TEXT),
    ("on-sos", "sos", TEXT),  # SOS badges, danger buttons
    ("border", "surface", NON_TEXT),  # inputs and buttons
    ("focus", "bg", NON_TEXT),
    ("focus", "surface", NON_TEXT),
    ("focus", "selected-bg", NON_TEXT),
    ("focus-on-brand", "brand", NON_TEXT),
    ("chart-a", "surface", NON_TEXT),  # the reports' bars
    ("chart-b", "surface", NON_TEXT),
]


def _variables(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})\s*;", block))


def palettes() -> dict[str, dict[str, str]]:
    css = CSS.read_text(encoding="utf-8")
    light = re.search(r":root\s*\{(.*?)\}", css, re.S)
    dark = re.search(r"@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{(.*?)\}", css, re.S)
    assert light and dark, "desk.css defines its colours in :root and a dark :root"
    base = _variables(light.group(1))
    return {"light": base, "dark": {**base, **_variables(dark.group(1))}}


def _luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_formula_gives_wcags_figures() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # just fails AA


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_colour_pair_meets_aa(scheme: str) -> None:
    colours = palettes()[scheme]
    low = [
        f"--{fg} on --{bg}: {contrast(colours[fg], colours[bg]):.2f} < {minimum}"
        for fg, bg, minimum in PAIRS
        if contrast(colours[fg], colours[bg]) < minimum
    ]
    assert not low, f"{scheme} mode: " + "; ".join(low)


def test_dark_mode_changes_the_surfaces() -> None:
    light, dark = palettes()["light"], palettes()["dark"]
    assert all(light[k] != dark[k] for k in ("bg", "surface", "ink", "muted", "link", "focus"))
