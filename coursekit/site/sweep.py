"""A widget's states, drawn through its own controls (:class:`Sweep`; the website's capture runs it
after a notebook's last cell, :func:`coursekit.site.capture.capture_widgets`).

The controls are the widget's sliders and toggles (:mod:`coursekit.layout.controls`); each state is
set through them, so the widget's own callbacks redraw it (by blitting, as in JupyterLab) and the
picture is read from its canvas. Every combination of the controls when that fits the budget,
otherwise each control alone with the others at their start (:meth:`Sweep.plan`); a slider keeps at
most :data:`MAX_POSITIONS` positions. The states are drawn one after another, each reached from the
one before (a widget may keep hidden state along the way), and stored in that order. At the ends and
the middle of each control the blitted picture is compared with a full redraw (:meth:`Sweep.verify`).
"""

from __future__ import annotations

import itertools
import math
import re
import time

import numpy as np

from coursekit.layout.controls import controls, slider_ends, toggle_values
from coursekit.site.render import _on_agg, _title, webp_bytes

__all__ = ["MAX_POSITIONS", "MIN_POSITIONS_ALL", "PIXEL_TOLERANCE", "WIDGET_BUDGET_BYTES", "Sweep"]

MAX_POSITIONS = 25  # the most positions a slider keeps on the page
MIN_POSITIONS_ALL = 7  # fewer than this per slider: sweep each control instead of all combinations
WIDGET_BUDGET_BYTES = 6_000_000  # the pictures of one widget, at most
PIXEL_TOLERANCE = 8  # blit vs full redraw: the largest difference of one channel allowed (antialiasing)


def _format_value(widget, value) -> str:
    """The readout ipywidgets shows for ``value`` (its ``readout_format``, d3-style exponents)."""
    import ipywidgets as w

    if isinstance(widget, w.IntSlider):
        return str(int(value))
    spec = getattr(widget, "readout_format", "") or (".3g" if isinstance(widget, w.FloatLogSlider) else ".2f")
    try:
        text = format(float(value), spec)
    except ValueError:
        text = f"{float(value):g}"
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", text)


def _slider_positions(widget) -> list[tuple[object, str]]:
    """Every value a slider can take, with the text it shows: ``[(value, readout), ...]``."""
    import ipywidgets as w

    if isinstance(widget, w.SelectionSlider):
        return [(value, label) for label, value in widget._options_full]
    if isinstance(widget, w.FloatLogSlider):
        count = int(round((widget.max - widget.min) / widget.step))
        exps = [widget.min + k * widget.step for k in range(count + 1)]
        return [(widget.base ** e, _format_value(widget, widget.base ** e)) for e in exps]
    count = int(round((widget.max - widget.min) / widget.step))
    if isinstance(widget, w.IntSlider):
        values = [widget.min + k * widget.step for k in range(count + 1)]
    else:
        digits = max(0, -int(math.floor(math.log10(widget.step)))) + 2 if widget.step > 0 else 10
        values = [round(widget.min + k * widget.step, digits) for k in range(count + 1)]
    return [(v, _format_value(widget, v)) for v in values if v <= widget.max + 1e-12]


def _nearest(values: list, current) -> int:
    if current in values:
        return values.index(current)
    try:
        return int(np.argmin([abs(float(v) - float(current)) for v in values]))
    except (TypeError, ValueError):
        return 0


def _subsample(n: int, keep: set, cap: int) -> list[int]:
    """At most about ``cap`` of the indices 0..n-1, evenly spaced, with the ends and ``keep``."""
    if n <= cap:
        return list(range(n))
    chosen = {int(round(i)) for i in np.linspace(0, n - 1, cap)} | {0, n - 1, (n - 1) // 2} | keep
    return sorted(chosen)


def _kind(widget) -> str:
    import ipywidgets as w

    if isinstance(widget, (w.Checkbox, w.ToggleButton)):
        return "checkbox"
    if isinstance(widget, w.Dropdown):
        return "dropdown"
    return "buttons"


def _toggle_options(widget) -> list[tuple[object, str]]:
    import ipywidgets as w

    if isinstance(widget, (w.Checkbox, w.ToggleButton)):
        return [(False, "off"), (True, "on")]
    return [(value, label) for label, value in widget._options_full]


class Sweep:
    """One widget's states, drawn through its controls."""

    def __init__(self, owner, entry: dict, budget: int, scale: float, store):
        """``owner``: the widget; ``entry``: its ``name``, ``cell`` and ``folder``; ``budget``: bytes
        for its pictures; ``scale``: device pixels per CSS pixel; ``store``: where pictures go (the
        capture's recorder: ``store.write(folder, rgba)`` returns a picture's path in the capture
        folder ``store.out`` and its digest; ``store.flush()`` waits for the files)."""
        self.owner, self.entry, self.budget, self.scale, self.recorder = owner, entry, budget, scale, store
        found = controls(owner.ui)
        self.toggles = [c for c in found if toggle_values(c) is not None]
        self.sliders = [c for c in found if slider_ends(c) is not None]
        self.start = [(c, c.value) for c in self.toggles + self.sliders]
        self.frames: list[str] = []
        self.frame_index: dict[str, int] = {}
        self.states: dict[str, int] = {}
        self.checked: list[str] = []
        self.problems: list[str] = []

    def restore(self):
        for control, value in self.start:
            if control.value != value:
                control.value = value

    def frame(self) -> np.ndarray:
        """The picture the widget shows now (its canvas's buffer after its own redraw)."""
        return np.array(self.owner.fig.canvas.buffer_rgba())

    def redraw_full(self) -> np.ndarray:
        self.owner.fig.canvas.draw()
        return self.frame()

    def store(self, key: str, rgba: np.ndarray) -> None:
        name, digest = self.recorder.write(self.entry["folder"], rgba)
        if digest not in self.frame_index:
            self.frame_index[digest] = len(self.frames)
            self.frames.append(name.rsplit("/", 1)[1])
        self.states[key] = self.frame_index[digest]

    def set_toggles(self, combo) -> None:
        for control, value in zip(self.toggles, combo, strict=True):
            if control.value != value:
                control.value = value

    def slider_defs(self, cap: int) -> list[dict]:
        """The sliders as the current toggles leave them: the positions kept, their readouts, the
        starting position, whether each is disabled."""
        defs = []
        for slider in self.sliders:
            positions = _slider_positions(slider)
            values = [v for v, _ in positions]
            start = _nearest(values, slider.value)
            keep = _subsample(len(positions), {start}, cap)
            defs.append({"values": [values[i] for i in keep], "labels": [positions[i][1] for i in keep],
                         "initial": keep.index(start), "of": len(positions), "disabled": bool(slider.disabled),
                         "readout": bool(getattr(slider, "readout", True))})
        return defs

    def toggle_combos(self, mode: str) -> list[tuple]:
        options = [[v for v, _ in _toggle_options(t)] for t in self.toggles]
        initial = tuple(t.value for t in self.toggles)
        if mode == "all":
            return list(itertools.product(*options))
        combos = [initial]
        for i, values in enumerate(options):
            combos += [initial[:i] + (v,) + initial[i + 1:] for v in values if v != initial[i]]
        return combos

    def count(self, mode: str, cap: int) -> int:
        """How many states ``mode`` with at most ``cap`` positions per slider draws."""
        sizes = [min(len(_slider_positions(s)), cap + 3) for s in self.sliders]
        toggles = [len(_toggle_options(t)) for t in self.toggles]
        if mode == "all":
            return math.prod(toggles) * math.prod(sizes)
        return 1 + sum(n - 1 for n in toggles) + sum(n - 1 for n in sizes)

    def plan(self, frame_bytes: float) -> tuple[str, int]:
        """The mode and slider cap that fit the budget: every combination with the most positions
        per slider that fits (at least MIN_POSITIONS_ALL), else each control alone."""
        for cap in range(MAX_POSITIONS, MIN_POSITIONS_ALL - 1, -1):
            if self.count("all", cap) * frame_bytes <= self.budget:
                return "all", cap
            if not self.sliders:
                break
        for cap in range(MAX_POSITIONS, 2, -1):
            if self.count("each", cap) * frame_bytes <= self.budget or not self.sliders:
                return "each", cap
        return "each", 3

    def run(self) -> dict:
        start = time.perf_counter()
        # A widget that mirrors its figure into an ipywidgets.Image (``frame``, lesson 05's and 06's)
        # would PNG-encode every state for that image too: detached while the pictures are drawn.
        mirror = getattr(self.owner, "frame", None)
        if mirror is not None:
            self.owner.frame = None
        try:
            return self._run(start)
        finally:
            if mirror is not None:
                self.owner.frame = mirror

    def _run(self, start: float) -> dict:
        with _on_agg(self.owner.fig, self.scale):
            first = self.redraw_full()
            sample = len(webp_bytes(first))
            mode, cap = self.plan(sample * 1.15)
            combos = self.toggle_combos(mode)
            toggle_keys = {}
            slider_defs = {}
            for combo in combos:
                self.restore()
                self.set_toggles(combo)
                tkey = ",".join(str(_toggle_index(t, v)) for t, v in zip(self.toggles, combo, strict=True))
                defs = self.slider_defs(cap)
                slider_defs[tkey] = defs
                toggle_keys[tkey] = combo
                self.sweep_sliders(tkey, defs, mode)
            self.restore()
        self.recorder.flush()
        report = {
            "key": self.entry["folder"].rsplit("/", 1)[1], "name": self.entry["name"],
            "type": type(self.owner).__name__, "cell": self.entry["cell"],
            "model_id": getattr(self.owner.ui, "model_id", None), "folder": self.entry["folder"],
            "width": round(first.shape[1] / self.scale), "height": round(first.shape[0] / self.scale),
            "alt": _title(self.owner.fig), "mode": mode,
            "toggles": [{"description": t.description, "labels": [label for _, label in _toggle_options(t)],
                         "kind": _kind(t), "initial": _toggle_index(t, value)}
                        for t, value in zip(self.toggles, [v for _, v in self.start[:len(self.toggles)]],
                                            strict=True)],
            "sliders": [{"description": s.description} for s in self.sliders],
            "slider_defs": {k: [{key: d[key] for key in ("labels", "initial", "of", "disabled", "readout")}
                                for d in defs] for k, defs in slider_defs.items()},
            "frames": self.frames, "states": self.states, "checked": self.checked,
            "bytes": sum((self.recorder.out / self.entry["folder"] / f).stat().st_size for f in self.frames),
            "seconds": round(time.perf_counter() - start, 2), "problems": self.problems,
        }
        return report

    def sweep_sliders(self, tkey: str, defs: list[dict], mode: str) -> None:
        """Draw the slider states of one toggle combination, in order, each reached from the one
        before by moving the sliders that differ (in their order). A widget may keep hidden state
        along the way (lesson 01's keeps its axis limits while they fit), so the route is part of
        what a picture shows: the states are stored in the order they were drawn (the report's
        ``states``), and a route replayed in that order draws the same pictures."""
        start = [d["initial"] for d in defs]
        if mode == "all":
            grid = list(itertools.product(*[range(len(d["values"])) for d in defs]))
        else:
            grid = [tuple(start)]
            for i, d in enumerate(defs):
                grid += [tuple(start[:i]) + (k,) + tuple(start[i + 1:]) for k in range(len(d["values"]))
                         if k != start[i]]
        check = {tuple(start)}
        for i, d in enumerate(defs):  # the ends and the middle of each slider, the others at their start
            for k in {0, len(d["values"]) - 1, (len(d["values"]) - 1) // 2}:
                check.add(tuple(start[:i]) + (k,) + tuple(start[i + 1:]))
        for point in grid:
            for slider, d, k in zip(self.sliders, defs, point, strict=True):
                if not slider.disabled and slider.value != d["values"][k]:
                    slider.value = d["values"][k]
            if not self.sliders:
                self.owner_redraw()
            key = f"{tkey}|{','.join(map(str, point))}"
            rgba = self.frame()
            self.store(key, rgba)
            if point in check:
                self.verify(key, rgba)

    def owner_redraw(self) -> None:
        blitter = getattr(self.owner, "blitter", None)
        if blitter is not None and hasattr(blitter, "redraw"):
            blitter.redraw()
        else:
            self.owner.fig.canvas.draw()

    def verify(self, key: str, rgba: np.ndarray) -> None:
        """The blitted picture of state ``key`` against a full redraw of the same state."""
        full = self.redraw_full()
        self.checked.append(key)
        if full.shape != rgba.shape:
            self.problems.append(f"state {key}: the blitted picture is {rgba.shape[1]}x{rgba.shape[0]} px, a full "
                                 f"redraw {full.shape[1]}x{full.shape[0]} px")
            return
        diff = np.abs(full.astype(np.int16) - rgba.astype(np.int16)).max(axis=2)
        bad = diff > PIXEL_TOLERANCE
        if bad.any():
            ys, xs = np.nonzero(bad)
            self.problems.append(
                f"state {key}: the picture drawn by blitting differs from a full redraw of the same state in "
                f"{int(bad.sum())} pixels (x {xs.min() // self.scale}-{xs.max() // self.scale}, "
                f"y {ys.min() // self.scale}-{ys.max() // self.scale} CSS px; largest difference {int(diff.max())}): "
                "a stale blitted background")


def _toggle_index(toggle, value) -> int:
    values = [v for v, _ in _toggle_options(toggle)]
    return values.index(value) if value in values else 0
