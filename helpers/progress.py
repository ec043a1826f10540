"""A progress bar for the cells that train or measure for more than a few seconds (issue 25).

A learner who runs lesson 05 or 06 waits tens of seconds on a training cell; with only ``[*]`` to
look at, that reads as a hang. :class:`Progress` shows what the cell is doing, how far it got and
about how long is left, as an ipywidgets bar under the cell, and **closes** it when the work is done:

* nothing goes to stderr (the test suite fails any; a text bar on stderr is a red box in JupyterLab);
* a closed widget leaves no output behind: the saved notebook and the course's website show
  nothing where the bar was (``coursekit.site`` drops the outputs of closed widgets);
* outside a notebook (a script, a test, a benchmark) it shows nothing at all.

The time left is ``elapsed × (1 − f) / f`` for the fraction ``f`` of the work done, where the
caller weighs each unit of work by its cost (``update(done)`` in the caller's own units out of
``total``): a rough estimate, shown rounded. Used through :func:`helpers.moons_experiment.run_design`
(lessons 05 and 06).
"""

from __future__ import annotations

import math
import time

from helpers._validate import check_scalar

__all__ = ["Progress", "in_notebook"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel with a front end that can show widgets (an IPython kernel)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is pinned
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _seconds(value: float) -> str:
    """``value`` seconds rounded for a reader: "8 s", "about 40 s", "about 2 min"."""
    if value < 10:
        return f"{max(1, round(value))} s"
    if value < 90:
        return f"about {5 * round(value / 5)} s"
    return f"about {round(value / 60)} min"


class Progress:
    """A bar from 0 to ``total`` (any units of work) with a description, shown by :meth:`show`
    (only in a notebook, or when ``show=True``) and closed by :meth:`close`; also a context manager
    (``with Progress(...) as bar: ... bar.update(done, "part 3 of 10")``).

    ``.text`` is the line the bar shows (what is being done, how far, the time left), kept also
    when nothing is displayed, so tests can read it; ``.closed`` says the bar is gone."""

    def __init__(self, total: float, description: str, *, show: bool | None = None):
        self.total = check_scalar(total, "total", strict=True)
        if not isinstance(description, str) or not description.strip():
            raise ValueError(f"description must say what the cell is doing, got {description!r}")
        self.description = description.strip()
        self.done = 0.0
        self.text = f"{self.description}: starting"
        self.closed = False
        self._start = time.perf_counter()
        self._show = in_notebook() if show is None else bool(show)
        self.widget = None
        if self._show:
            import ipywidgets as widgets

            self._bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, layout={"width": "240px"})
            self._label = widgets.Label(self.text)
            self.widget = widgets.HBox([self._bar, self._label])

    def show(self) -> Progress:
        """Display the bar under the running cell (in a notebook; otherwise nothing)."""
        if self.widget is not None and not self.closed:
            from IPython.display import display

            display(self.widget)
        return self

    def update(self, done: float, note: str = "") -> None:
        """``done`` units of ``total`` finished (clipped to ``[0, total]``); ``note`` says where
        (e.g. "part 4 of 10"). Updates the fraction, the text and the estimate of the time left."""
        done = check_scalar(done, "done", min_value=None)
        self.done = min(max(done, 0.0), self.total)
        fraction = self.done / self.total
        elapsed = time.perf_counter() - self._start
        left = ""
        if 0 < fraction < 1 and elapsed > 0.5:
            remaining = elapsed * (1 - fraction) / fraction
            if math.isfinite(remaining):
                left = f", {_seconds(remaining)} left"
        self.text = f"{self.description}: {note + ', ' if note else ''}{fraction:.0%}{left}"
        if self.widget is not None and not self.closed:
            self._bar.value = fraction
            self._label.value = self.text

    def close(self) -> None:
        """Remove the bar (a closed widget leaves no output in the notebook or on the website)."""
        if not self.closed and self.widget is not None:
            for w in (self._bar, self._label, self.widget):
                w.close()
        self.closed = True

    def __enter__(self) -> Progress:
        return self.show()

    def __exit__(self, *exc) -> None:
        self.close()
