"""The kernel side of the course's website: crisp pictures of every figure and of every widget state.

The website (``python3 course.py site``, :mod:`coursekit.site.build`) shows each lesson as it looks
after *Run All* in JupyterLab. No kernel runs behind the pages, so everything a learner would see
is drawn while the notebook executes, in the notebook's own kernel, by the code that draws it in
JupyterLab:

* **figures**: each figure a cell shows (``plt.show()``, or left open at the end of the cell, as
  ipympl and the inline backend show it) is rendered at :data:`SCALE` times its resolution (sharp
  on high-density screens, shown at its JupyterLab size) and saved as a lossless WebP file;
* **widgets** (an object with a matplotlib ``fig`` and an ipywidgets ``ui``, the same rule as the
  layout check, :mod:`coursekit.layout.controls`): after the notebook's last cell, every state of its
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
in a first, hidden cell; the test suite runs it from :mod:`coursekit.site.plugin` during nbval), and
:func:`capture_widgets` runs after the last cell and returns the report (figures, widgets, their
frames and the states that map to them) that :mod:`coursekit.site.build` turns into pages.

How a capture is matched with a cell's outputs: by the cell's source (its SHA-256, numbered when a
notebook holds the same source twice), and then by the ipympl canvas's or the widget box's model
id (the ``application/vnd.jupyter.widget-view+json`` output), or, for the inline backend, by the
order of the cell's image outputs.
"""

from __future__ import annotations

import hashlib
import json
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from coursekit.layout.controls import is_widget_owner
from coursekit.site.render import SCALE, _title, render_rgba, webp_bytes
from coursekit.site.sweep import WIDGET_BUDGET_BYTES, Sweep

__all__ = ["cell_key", "capture_report", "capture_widgets", "install"]


def cell_key(source: str, seen: dict) -> str:
    """The key of a code cell: the SHA-256 of its source (16 hex digits), with ``#k`` for the k-th
    repeat of the same source in a notebook (``seen`` counts them; pass the same dict for all of a
    notebook's cells, in order). Used here and by :mod:`coursekit.site.build`."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    count = seen.get(digest, 0)
    seen[digest] = count + 1
    return digest if count == 0 else f"{digest}#{count}"


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
        self.submitted: set[str] = set()  # files being or already written, so one is never written twice at once

    def write(self, folder: str, rgba: np.ndarray) -> tuple[str, int]:
        """Encode ``rgba`` (in a worker thread) into ``folder``/<hash>.webp; returns the file's path
        relative to the capture folder and a future-free size estimate filled in later."""
        digest = hashlib.sha256(rgba.tobytes()).hexdigest()[:20]
        name = f"{folder}/{digest}.webp"
        path = self.out / name
        if name not in self.submitted and not path.exists():  # the same frame twice: two workers, one .tmp
            self.submitted.add(name)
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
        if not name.startswith("_") and id(value) not in seen and is_widget_owner(value):
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
            entry["report"] = Sweep(owner, entry, budget_bytes, _STATE.scale, _STATE).run()
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
