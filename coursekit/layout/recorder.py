"""The layout check inside a notebook's kernel (the test suite's nbval runs, :mod:`coursekit.layout.plugin`).

:func:`record_shown_figures` checks each figure when a cell shows it (:func:`coursekit.layout.checks.layout_problems`)
and notes the widgets a cell creates; :func:`sweep_widgets` sets every widget to its initial state,
both ends of each slider and every toggle state, checking its figure each time; :func:`layout_report`
returns what was found, by cell and widget state. The lessons never call this module.
"""

from __future__ import annotations

import gc
import itertools
import time
import warnings
import weakref

from coursekit.layout.checks import _check_allowed, _layout_problems
from coursekit.layout.controls import (
    control_name,
    control_problems,
    controls,
    is_widget_owner,
    slider_ends,
    toggle_values,
    value_text,
)

__all__ = ["layout_report", "record_shown_figures", "sweep_widgets"]


class _Recorder:
    """What the kernel side found: problems, counts, the widgets seen and where they came from."""

    def __init__(self):
        self.allowed: dict = {}
        self.used: set = set()
        self.problems: list[dict] = []
        self.figures = 0
        self.states = 0
        self.seconds = 0.0
        self.cell = ""  # the source of the cell running now
        self.checked = weakref.WeakSet()  # figures checked when shown
        self.widgets: list[dict] = []  # {"owner": weakref, "name", "cell"}
        self.installed = False

    def add(self, cell, figure, state, problems):
        for problem in problems:
            self.problems.append({"cell": cell, "figure": figure, "state": state, "problem": problem})

    def check(self, fig, cell, state=None, figure_name=None) -> None:
        start = time.perf_counter()
        name = _figure_name(fig) if figure_name is None else figure_name
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = _layout_problems(fig, self.allowed, self.used)
        except Exception as exc:  # a crash of the check is reported, never raised in a cell
            found = [f"the layout check failed: {type(exc).__name__}: {exc}"]
        self.add(cell, name, state, found)
        self.seconds += time.perf_counter() - start

    def widget_figures(self) -> set:
        return {id(w["owner"]().fig) for w in self.widgets if w["owner"]() is not None}


_RECORD = _Recorder()


def _figure_name(fig) -> str:
    titles = [t for t in ([fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else [])
              + [ax.get_title() for ax in fig.axes] if t.strip()]
    return repr(" ".join(titles[0].split())[:60]) if titles else f"figure {getattr(fig, 'number', '?')}"


def _note_widgets(namespace: dict, cell: str) -> None:
    seen = {id(w["owner"]()) for w in _RECORD.widgets}
    for name, value in list(namespace.items()):
        if not name.startswith("_") and id(value) not in seen and is_widget_owner(value):
            _RECORD.widgets.append({"owner": weakref.ref(value), "name": name, "cell": cell})
            seen.add(id(value))


def _check_unchecked(figures, cell) -> None:
    widget_figs = _RECORD.widget_figures()
    for fig in figures:
        if fig not in _RECORD.checked and id(fig) not in widget_figs:
            _RECORD.checked.add(fig)
            _RECORD.figures += 1
            _RECORD.check(fig, cell)


def _open_figures():
    """pyplot's open figures, without making any of them current (plt.figure(num) would, and
    ipympl's plt.show shows the current one)."""
    from matplotlib._pylab_helpers import Gcf

    return [manager.canvas.figure for manager in Gcf.get_all_fig_managers()]


def record_shown_figures(allowed_outside: dict | None = None, shell=None) -> None:
    """In a notebook kernel: check every figure a cell shows (``plt.show()``, or left open at the
    end of the cell), once, and note the widgets (objects with ``.fig`` and ``.ui``) the cell
    leaves in the namespace, for :func:`sweep_widgets`. ``allowed_outside``: named exceptions,
    series label -> reason. Installed by the test suite (:mod:`coursekit.layout.plugin`), never by a
    lesson; calling it again only replaces the exceptions."""
    import matplotlib.pyplot as plt

    _RECORD.allowed = _check_allowed(allowed_outside)
    if _RECORD.installed:
        return
    shell = shell if shell is not None else _ipython()
    original = plt.show

    def show(*args, **kwargs):
        _check_unchecked(_open_figures(), _RECORD.cell)
        return original(*args, **kwargs)

    show.__doc__ = original.__doc__
    plt.show = show
    if shell is not None:
        def pre_run_cell(info):
            _RECORD.cell = info.raw_cell or ""

        def post_run_cell(_result):
            try:
                _note_widgets(shell.user_ns, _RECORD.cell)
                _check_unchecked(_open_figures(), _RECORD.cell)
            except Exception as exc:  # never a traceback in the learner's cell: a problem instead
                _RECORD.add(_RECORD.cell, "", None, [f"the layout recorder failed: {type(exc).__name__}: {exc}"])

        shell.events.register("pre_run_cell", pre_run_cell)
        shell.events.register("post_run_cell", post_run_cell)
    _RECORD.installed = True


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    return get_ipython()


def _all_widget_owners() -> list:
    """Course widgets alive but not found in the notebook's namespace (a fallback: gc scan)."""
    known = {id(w["owner"]()) for w in _RECORD.widgets}
    found = []
    for obj in gc.get_objects():
        module = getattr(type(obj), "__module__", None)
        if isinstance(module, str) and module.startswith("helpers.") and id(obj) not in known \
                and is_widget_owner(obj):
            found.append(obj)
    return found


def sweep_widgets() -> int:
    """Set every widget noted by :func:`record_shown_figures` (and any other course widget still
    alive) to its initial state, to both ends of each slider and through every combination of its
    toggles, checking its figure in each state; then restore every control. Returns the number of
    states checked."""
    start_states = _RECORD.states
    entries = [(w["owner"](), w["name"], w["cell"]) for w in _RECORD.widgets]
    entries += [(obj, type(obj).__name__, "") for obj in _all_widget_owners()]
    for owner, name, cell in entries:
        if owner is not None:
            _sweep(owner, f"{name} ({type(owner).__name__})", cell)
    return _RECORD.states - start_states


def _sweep(owner, name, cell) -> None:
    found = controls(owner.ui)
    sliders = [c for c in found if slider_ends(c) is not None]
    toggles = [c for c in found if toggle_values(c) is not None]
    start = [(c, c.value) for c in toggles + sliders]
    initial = {id(c): value for c, value in start}

    def check(state):
        _RECORD.states += 1
        _RECORD.check(owner.fig, cell, f"{name}: {state}", figure_name="")
        _RECORD.add(cell, "", f"{name}: {state}", control_problems(found))

    try:
        check("initial state")
        combos = itertools.product(*[[(t, v) for v in toggle_values(t)] for t in toggles])
        for combo in combos:
            for toggle, value in combo:
                toggle.value = value
            label = ", ".join(f"{control_name(t)} = {value_text(t)}" for t, _v in combo)
            if any(v != initial[id(t)] for t, v in combo):
                check(label)
            for slider in sliders:
                if slider.disabled:
                    continue
                before = slider.value
                for end, end_name in zip(slider_ends(slider), ("min", "max"), strict=True):
                    slider.value = end
                    check(f"{label + ', ' if label else ''}{control_name(slider)} at its {end_name} "
                          f"({value_text(slider)})")
                slider.value = before
    finally:
        for control, value in start:
            control.value = value


def layout_report() -> dict:
    """What :func:`record_shown_figures` and :func:`sweep_widgets` found, as plain data (JSON):
    ``problems`` (each with ``cell`` source, ``figure``, widget ``state`` or None, ``problem``;
    duplicates removed), the numbers of ``figures`` and widget ``states`` checked, the ``seconds``
    spent checking and the named exceptions never used (``unused_exceptions``)."""
    seen, problems = set(), []
    for p in _RECORD.problems:
        key = (p["cell"], p["figure"], p["state"], p["problem"])
        if key not in seen:
            seen.add(key)
            problems.append(p)
    return {"problems": problems, "figures": _RECORD.figures, "states": _RECORD.states,
            "widgets": len(_RECORD.widgets), "seconds": round(_RECORD.seconds, 3),
            "unused_exceptions": sorted(set(_RECORD.allowed) - _RECORD.used)}
