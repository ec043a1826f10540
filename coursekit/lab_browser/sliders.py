"""Sliders in JupyterLab: finding them, moving one by a key press, and timing the move until the
plots have redrawn on screen (see :mod:`coursekit.lab_browser`; bench/bench_browser.py reports it)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from coursekit.lab_browser.page import (
    FIRST_REDRAW_JS,
    PLOTS_JS,
    SLIDERS_JS,
    plot_signatures,
    wait_kernel_idle,
    wait_plots_quiet,
)
from coursekit.lab_browser.settings import LAMBDA_LABEL, PANEL, PLOT_TIMEOUT_S


@dataclass
class Slider:
    index: int
    cell: int
    label: str
    readout: str
    now: str | None
    max: str | None
    disabled: bool

    @property
    def is_lambda(self) -> bool:
        return bool(LAMBDA_LABEL.search(self.label))


def sliders(page) -> list[Slider]:
    return [Slider(**s) for s in page.evaluate(SLIDERS_JS, PANEL)]


def sliders_to_move(found: list[Slider]) -> list[Slider]:
    """Every λ slider, plus the first slider of every widget output (cell)."""
    chosen, cells_seen = [], set()
    for s in found:
        if s.is_lambda or s.cell not in cells_seen:
            chosen.append(s)
        cells_seen.add(s.cell)
    return chosen


@dataclass
class Move:
    slider: Slider
    key: str
    readout_after: str = ""
    changed_cells: list[int] = field(default_factory=list)
    latency_ms: float | None = None  # keydown -> first on-screen plot redraw
    sent_ms: float | None = None  # keydown -> first message to the kernel
    received_ms: float | None = None  # keydown -> last message from the kernel before the redraw
    error: str | None = None


def slider_locator(page, index: int):
    return page.locator(f"{PANEL} .jp-OutputArea .widget-slider").nth(index)


def move_slider(page, slider: Slider, timeout_s: float = PLOT_TIMEOUT_S, quiet_s: float = 1.0) -> Move:
    """Press one arrow key on the slider's handle (Left when at its maximum) and check that a plot
    in the notebook changed: pixels of an ipympl canvas or the source of an output image.

    The plots must be quiet before the key press (so a late first draw is not taken for the
    update); after it, wait for the first redraw, then for quiet again, and compare the final plots
    with those before the move."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    at_max = slider.now is not None and slider.max is not None and float(slider.now) >= float(
        slider.max
    )
    key = "ArrowLeft" if at_max else "ArrowRight"
    move = Move(slider=slider, key=key)
    wait_plots_quiet(page, quiet_s)
    before = plot_signatures(page)
    old_images = [p[4:] for sigs in before.values() for p in sigs.split(",") if p.startswith("img:")]
    page.evaluate("() => { const r = window.__course; r.t0 = null; r.events = []; r.ws = []; }")
    slider_locator(page, slider.index).locator(".noUi-handle").press(key)
    pixel_timeout_s = timeout_s
    try:  # cheap wait first (checked every animation frame): the first on-screen redraw
        page.wait_for_function(
            FIRST_REDRAW_JS, arg=old_images, polling="raf", timeout=timeout_s * 1000
        )
    except PlaywrightTimeout:  # nothing redrawn: give the pixel check below a short last chance
        pixel_timeout_s = 2
    try:  # then the real criterion: some plot's pixels (canvas) or source (img) differ
        page.wait_for_function(
            "([sel, before]) => JSON.stringify((" + PLOTS_JS + ")(sel)) !== JSON.stringify(before)",
            arg=[PANEL, before],
            timeout=pixel_timeout_s * 1000,
            polling=100,
        )
    except PlaywrightTimeout:  # reported; the caller asserts
        move.error = f"no plot changed within {timeout_s:.0f} s"
    rec = page.evaluate("() => window.__course")
    if rec["t0"] is not None:
        later = [
            e["t"]
            for e in rec["events"]
            if e["t"] >= rec["t0"] and e.get("sig") not in old_images
        ]
        if later:
            move.latency_ms = min(later) - rec["t0"]
            out = [w["t"] for w in rec["ws"] if w["dir"] == "out" and w["t"] >= rec["t0"]]
            into = [w["t"] for w in rec["ws"] if w["dir"] == "in" and w["t"] <= min(later)]
            move.sent_ms = min(out) - rec["t0"] if out else None
            move.received_ms = max(into) - rec["t0"] if into else None
    if move.error is None:
        wait_kernel_idle(page)
        wait_plots_quiet(page, quiet_s)
    after = plot_signatures(page)
    move.changed_cells = sorted(
        int(c) for c in set(before) | set(after) if before.get(c) != after.get(c)
    )
    if move.error is None and not move.changed_cells:
        move.error = "a plot changed, then returned to what it was before the move"
    move.readout_after = sliders(page)[slider.index].readout
    return move


def percentile(values: list[float], q: int) -> float:
    """The ``q``-th percentile (``q`` a whole number from 1 to 99) of a non-empty list, interpolated
    linearly between the two nearest ranks: ``numpy.percentile``'s default, so that p95 here means
    what it means in bench/bench_widgets.py and bench/bench_explorer.py."""
    if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= 99:
        raise ValueError(f"q must be a whole number from 1 to 99, got {q!r}")
    if not values:
        raise ValueError("values must not be empty")
    if len(values) == 1:  # statistics.quantiles wants two on Python 3.11 and 3.12
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]
