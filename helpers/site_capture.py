"""The kernel side of the course's website: crisp pictures of every figure and of every widget state.

The website (``python3 course.py site``, :mod:`helpers.site_build`) shows each lesson as it looks
after *Run All* in JupyterLab. No kernel runs behind the pages, so everything a learner would see
is drawn while the notebook executes, in the notebook's own kernel, by the code that draws it in
JupyterLab:

* **figures**: each figure a cell shows (``plt.show()``, or left open at the end of the cell, as
  ipympl and the inline backend show it) is rendered at :data:`SCALE` times its resolution (sharp
  on high-density screens, shown at its JupyterLab size) and saved as a lossless WebP file;
* **widgets** (an object with a matplotlib ``fig`` and an ipywidgets ``ui``, the same rule as the
  layout check, :mod:`helpers.figure_layout`): after the notebook's last cell, every state of its
  sliders and toggles is set through the controls themselves (the widget's own callbacks redraw
  it, by blitting, exactly as in JupyterLab) and each picture is saved. Every combination of the
  controls when that fits the size budget; otherwise each control is swept with the others at
  their starting values. The states are drawn one after another, each reached from the one before
  (a widget may keep hidden state along the way, e.g. axis limits; the report lists the states
  in that order, so the route can be replayed). A slider with more positions than :data:`MAX_POSITIONS` shows an evenly
  spaced subset (its ends, its middle and its starting value included). Identical pictures are
  stored once.

For the ends and the middle of every control (the states the website's browser test visits),
the picture drawn by blitting is compared with a full redraw of the same state: a mismatch (a
stale blitted background, say) is reported, and the website's build fails on it.

Nothing here runs on import. :func:`install` starts recording in a kernel (the site build runs it
in a first, hidden cell; the test suite runs it from :mod:`helpers.site_plugin` during nbval), and
:func:`capture_widgets` runs after the last cell and returns the report (figures, widgets, their
frames and the states that map to them) that :mod:`helpers.site_build` turns into pages.

How a capture is matched with a cell's outputs: by the cell's source (its SHA-256, numbered when a
notebook holds the same source twice), and then by the ipympl canvas's or the widget box's model
id (the ``application/vnd.jupyter.widget-view+json`` output), or, for the inline backend, by the
order of the cell's image outputs.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["cell_key", "capture_report", "capture_widgets", "install", "render_rgba", "webp_bytes"]

SCALE = 2  # device pixels per CSS pixel of every picture (high-density screens)
MAX_POSITIONS = 25  # the most positions a slider keeps on the page
MIN_POSITIONS_ALL = 7  # fewer than this per slider: sweep each control instead of all combinations
WIDGET_BUDGET_BYTES = 6_000_000  # the pictures of one widget, at most
WEBP = {"lossless": True, "method": 2, "quality": 70}  # measured: 2.5x smaller than PNG, ~40 ms a frame
PIXEL_TOLERANCE = 8  # blit vs full redraw: the largest difference of one channel allowed (antialiasing)


def cell_key(source: str, seen: dict) -> str:
    """The key of a code cell: the SHA-256 of its source (16 hex digits), with ``#k`` for the k-th
    repeat of the same source in a notebook (``seen`` counts them; pass the same dict for all of a
    notebook's cells, in order). Used here and by :mod:`helpers.site_build`."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    count = seen.get(digest, 0)
    seen[digest] = count + 1
    return digest if count == 0 else f"{digest}#{count}"


# ------------------------------------------------------------------------------- rendering
@contextmanager
def _on_agg(fig, scale: float):
    """``fig`` on a plain Agg canvas at ``scale`` times its dpi, for the duration of the block;
    its own canvas (ipympl's, in JupyterLab) and dpi are put back afterwards."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas, dpi = fig.canvas, fig.dpi
    base = getattr(fig, "_original_dpi", dpi)  # ipympl raises dpi on a high-density screen
    FigureCanvasAgg(fig)
    fig.set_dpi(base * scale)
    try:
        yield fig.canvas
    finally:
        fig.set_dpi(dpi)
        fig.set_canvas(canvas)


def render_rgba(fig, scale: float = SCALE) -> np.ndarray:
    """A full draw of ``fig`` at ``scale`` times its resolution, as an RGBA array (height, width, 4):
    what ipympl draws on a screen with that device-pixel ratio. The figure keeps its canvas."""
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    with _on_agg(fig, scale) as canvas:
        canvas.draw()
        return np.array(canvas.buffer_rgba())


def webp_bytes(rgba) -> bytes:
    """``rgba`` (an (h, w, 4) uint8 array) as a lossless WebP image."""
    from PIL import Image

    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"rgba must be an (h, w, 4) uint8 array, got {rgba.shape} {rgba.dtype}")
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="WEBP", **WEBP)
    return buf.getvalue()


def _title(fig) -> str:
    """The figure's titles, for an ``alt`` text: its suptitle, else its axes' titles."""
    sup = getattr(fig, "_suptitle", None)
    titles = [sup.get_text()] if sup is not None and sup.get_text().strip() else []
    titles = titles or [ax.get_title() for ax in fig.axes if ax.get_title().strip()]
    return " · ".join(" ".join(t.split()) for t in titles)[:300]


# ------------------------------------------------------------------------------- the recorder
class _Capture:
    """What the kernel recorded: where files go, the figures shown, the widgets noted."""

    def __init__(self, out: Path, scale: float):
        self.out = out
        self.scale = scale
        self.cell = ""  # the key of the cell running now
        self.seen_sources: dict = {}
        self.figures: list[dict] = []
        self.captured = weakref.WeakSet()
        self.widgets: list[dict] = []  # {"owner": weakref, "name", "cell"}
        self.per_cell: dict[str, int] = {}
        self.problems: list[str] = []
        self.seconds = 0.0
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.pending = []

    def write(self, folder: str, rgba: np.ndarray) -> tuple[str, int]:
        """Encode ``rgba`` (in a worker thread) into ``folder``/<hash>.webp; returns the file's path
        relative to the capture folder and a future-free size estimate filled in later."""
        digest = hashlib.sha256(rgba.tobytes()).hexdigest()[:20]
        name = f"{folder}/{digest}.webp"
        path = self.out / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            self.pending.append(self.pool.submit(_write_webp, path, rgba))
        return name, digest

    def flush(self) -> None:
        for future in self.pending:
            future.result()
        self.pending = []


def _write_webp(path: Path, rgba: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(webp_bytes(rgba))
    tmp.replace(path)


_STATE: _Capture | None = None


def _is_widget_owner(obj) -> bool:
    from helpers.figure_layout import _is_widget_owner as rule

    return rule(obj)


def _figure_record(fig) -> None:
    state = _STATE
    start = time.perf_counter()
    rgba = render_rgba(fig, state.scale)
    name, _ = state.write("figures", rgba)
    seq = state.per_cell.get(state.cell, 0)
    state.per_cell[state.cell] = seq + 1
    height, width = rgba.shape[:2]
    state.figures.append({"cell": state.cell, "seq": seq, "model_id": getattr(fig.canvas, "model_id", None),
                          "file": name, "width": round(width / state.scale),
                          "height": round(height / state.scale), "alt": _title(fig)})
    state.captured.add(fig)
    state.seconds += time.perf_counter() - start


def _widget_figures() -> set:
    return {id(w["owner"]().fig) for w in _STATE.widgets if w["owner"]() is not None}


def _capture_open_figures() -> None:
    from matplotlib._pylab_helpers import Gcf

    skip = _widget_figures()
    for manager in Gcf.get_all_fig_managers():
        fig = manager.canvas.figure
        if fig not in _STATE.captured and id(fig) not in skip:
            try:
                _figure_record(fig)
            except Exception as exc:  # reported by the build, never a traceback in a learner's cell
                _STATE.problems.append(f"a figure of cell {_STATE.cell} could not be drawn: "
                                       f"{type(exc).__name__}: {exc}")


def _note_widgets(namespace: dict) -> None:
    seen = {id(w["owner"]()) for w in _STATE.widgets}
    for name, value in list(namespace.items()):
        if not name.startswith("_") and id(value) not in seen and _is_widget_owner(value):
            _STATE.widgets.append({"owner": weakref.ref(value), "name": name, "cell": _STATE.cell})
            seen.add(id(value))


def install(out_dir: str, scale: float = SCALE, shell=None) -> None:
    """Start recording in this kernel: every figure a cell shows is drawn into ``out_dir``/figures,
    and every widget a cell leaves in the namespace is noted for :func:`capture_widgets`. Run once,
    before the notebook's first cell; a second call only changes where files go."""
    global _STATE
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if _STATE is not None:
        _STATE.out, _STATE.scale = out, scale
        return
    _STATE = _Capture(out, scale)
    shell = shell if shell is not None else _ipython()
    original = plt.show

    def show(*args, **kwargs):
        _capture_open_figures()
        return original(*args, **kwargs)

    show.__doc__ = original.__doc__
    plt.show = show
    if shell is None:
        return

    def pre_run_cell(info):
        _STATE.cell = cell_key(info.raw_cell or "", _STATE.seen_sources)

    def post_run_cell(_result):
        try:
            _note_widgets(shell.user_ns)
            _capture_open_figures()
        except Exception as exc:  # never a traceback in the learner's cell
            _STATE.problems.append(f"the capture failed after cell {_STATE.cell}: {type(exc).__name__}: {exc}")

    shell.events.register("pre_run_cell", pre_run_cell)
    shell.events.register("post_run_cell", post_run_cell)


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    return get_ipython()


# ------------------------------------------------------------------------------- widget controls
def _format_value(widget, value) -> str:
    """The readout ipywidgets shows for ``value`` (its ``readout_format``, d3-style exponents)."""
    import re

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


# ------------------------------------------------------------------------------- widget sweep
class _Sweep:
    """One widget's states, drawn through its controls."""

    def __init__(self, owner, entry: dict, budget: int, scale: float):
        from helpers.figure_layout import _controls, _slider_ends, _toggle_values

        self.owner, self.entry, self.budget, self.scale = owner, entry, budget, scale
        controls = _controls(owner.ui)
        self.toggles = [c for c in controls if _toggle_values(c) is not None]
        self.sliders = [c for c in controls if _slider_ends(c) is not None]
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
        name, digest = _STATE.write(self.entry["folder"], rgba)
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
        _STATE.flush()
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
            "bytes": sum((_STATE.out / self.entry["folder"] / f).stat().st_size for f in self.frames),
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


def capture_widgets(budget_bytes: int = WIDGET_BUDGET_BYTES) -> dict:
    """Draw every state of every widget noted since :func:`install` (see the module docstring) into
    the capture folder, restore every control, and return :func:`capture_report`."""
    if _STATE is None:
        raise RuntimeError("install() was not called in this kernel")
    start = time.perf_counter()
    for index, entry in enumerate(_STATE.widgets):
        owner = entry["owner"]()
        if owner is None or entry.get("report"):
            continue
        entry["folder"] = f"widgets/w{index}"
        try:
            entry["report"] = _Sweep(owner, entry, budget_bytes, _STATE.scale).run()
        except Exception as exc:  # the build reports it with the notebook's name
            _STATE.problems.append(f"widget {entry['name']} ({type(owner).__name__}) could not be drawn: "
                                   f"{type(exc).__name__}: {exc}")
    _STATE.flush()
    _STATE.seconds += time.perf_counter() - start
    return capture_report()


def _open_models() -> list[str]:
    """The model ids of the ipywidgets still open in this kernel (a closed widget, e.g. a finished
    progress bar, shows nothing in JupyterLab: the site leaves its output out)."""
    try:
        from ipywidgets.widgets.widget import _instances  # ipywidgets 8: the open widgets, by model id
    except ImportError:  # pragma: no cover - ipywidgets is pinned
        return []
    return sorted(str(k) for k in _instances)


def capture_report() -> dict:
    """What was captured so far, as plain data (JSON): ``figures``, ``widgets``, ``problems``,
    ``seconds`` and ``open_models`` (the ipywidgets still open). Also written to ``capture.json`` in
    the capture folder."""
    if _STATE is None:
        raise RuntimeError("install() was not called in this kernel")
    _STATE.flush()
    widgets = [e["report"] for e in _STATE.widgets if e.get("report")]
    problems = list(_STATE.problems) + [f"widget {w['name']}: {p}" for w in widgets for p in w["problems"]]
    report = {"figures": _STATE.figures, "widgets": widgets, "problems": problems,
              "seconds": round(_STATE.seconds, 2), "scale": _STATE.scale, "open_models": _open_models()}
    (_STATE.out / "capture.json").write_text(json.dumps(report, indent=1))
    return report
