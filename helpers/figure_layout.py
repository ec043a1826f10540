"""Layout checks for the course's figures, with matplotlib's own geometry (issue: every figure and
widget looks right at every setting, and a test proves it).

:func:`layout_problems` draws a figure headless and returns what a learner would see as a defect:

* a text (title, axis label, tick label, legend entry, annotation) that extends outside the figure;
* two texts that overlap; a legend that covers another text or whose entries a plotted line
  crosses;
* a plotted series (line, markers, bars) with points outside its axes' view limits, unless the
  figure says so with :func:`allow_outside` (a named, explicit exception);
* an axis without a label (an axis whose tick labels are hidden, or that shares its label with
  a sibling, is exempt), or a log axis with fewer than two labelled ticks.

The notebooks never call this module. The test suite installs it in every notebook's kernel
(``conftest.py``): :func:`record_shown_figures` checks each figure when a cell shows it, and
:func:`sweep_widgets` moves every slider of every live widget to both ends and through every
toggle state, checking the open figures each time. :func:`recorded` returns what was found,
labelled by cell and widget state.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

TOLERANCE_PX = 1.0  # how far a text may poke out, or two texts overlap, before it counts
_OUTSIDE_OK = "_course_outside_ok"
_RECORD: list[str] = []


# ------------------------------------------------------------------------------- the checks
def allow_outside(artist, reason: str):
    """Declare that ``artist`` (a line, collection or bar container) may have data outside its
    axes' view limits, for ``reason`` (shown in the figure, e.g. "clipped at 10"). Returns it."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason must say why the data may fall outside the axes")
    setattr(artist, _OUTSIDE_OK, reason)
    return artist


def _roles(fig) -> tuple[dict, set]:
    """``({id(text): (kind, axes)}, {id(tick labels that are not drawn)})`` for the figure's axes:
    titles, axis labels and tick labels (matplotlib keeps labels for ticks outside the view too,
    and tick labels' ``.axes`` is not set, so they are found through the axes)."""
    roles, undrawn = {}, set()
    for ax in fig.axes:
        for title in (ax.title, ax._left_title, ax._right_title):
            roles[id(title)] = ("title", ax)
        roles[id(ax.xaxis.label)] = ("x label", ax)
        roles[id(ax.yaxis.label)] = ("y label", ax)
        for axis, letter in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            drawn = {id(t) for t in _drawn_ticks(axis)}
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                for label in (tick.label1, tick.label2):
                    roles[id(label)] = (f"{letter} tick label", ax)
                    if id(tick) not in drawn:
                        undrawn.add(id(label))
    return roles, undrawn


def _texts(fig, renderer) -> list[tuple[str, object, object]]:
    """(description, artist, display bbox) of every text the figure draws."""
    from matplotlib.text import Text

    roles, undrawn = _roles(fig)
    legend_texts = {id(t): legend for legend in _legends(fig)
                    for t in [*legend.get_texts(), legend.get_title()]}
    found = []
    for text in fig.findobj(Text):
        if id(text) in undrawn or not text.get_visible() or not text.get_text().strip():
            continue
        bbox = text.get_window_extent(renderer)
        if bbox.width <= 0 or bbox.height <= 0:
            continue
        kind, ax = roles.get(id(text), ("text", text.axes))
        if id(text) in legend_texts:
            kind, ax = "legend entry", legend_texts[id(text)].axes
        where = f" in {_axes_name(ax)}" if ax is not None else ""
        content = " ".join(text.get_text().split())
        found.append((f"{kind} {content[:50]!r}{where}", text, bbox))
    return found


def _drawn_ticks(axis):
    """The ticks of ``axis`` that matplotlib draws (inside the view interval)."""
    try:
        return axis._update_ticks()  # what Axis.draw uses
    except AttributeError:  # pragma: no cover - very old or very new matplotlib
        return axis.get_major_ticks()


def _axes_name(ax) -> str:
    title = " ".join((ax.get_title() or "").split())
    if title:
        return f"axes {title[:40] + ('…' if len(title) > 40 else '')!r}"
    index = ax.figure.axes.index(ax) + 1 if ax.figure is not None and ax in ax.figure.axes else "?"
    return f"axes {index} (untitled)"


def _artist_name(kind: str, artist) -> str:
    label = artist.get_label() or ""
    return f"{kind} {label!r}" if label and not label.startswith("_") else f"an unlabelled {kind}"


def _legends(fig) -> list:
    found = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return found + list(fig.legends)


def _overlap(a, b) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > TOLERANCE_PX
            and min(a.y1, b.y1) - max(a.y0, b.y0) > TOLERANCE_PX)


def _same_text_drawn_twice(t1, b1, t2, b2) -> bool:
    """Twin axes (``twinx``) draw the shared axis's tick labels twice, exactly on top of each other:
    the learner sees one label, not an overlap."""
    same_place = all(abs(a - b) <= TOLERANCE_PX for a, b in zip(b1.extents, b2.extents, strict=True))
    return same_place and t1.get_text() == t2.get_text()


def _outside_figure(bbox, width, height) -> bool:
    t = TOLERANCE_PX
    return bbox.x0 < -t or bbox.y0 < -t or bbox.x1 > width + t or bbox.y1 > height + t


def _series(ax):
    """(description, artist, display points) of the data series drawn in ``ax``."""
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer

    found = []
    for line in ax.get_lines():
        if not line.get_visible() or getattr(line, _OUTSIDE_OK, None):
            continue
        xy = np.asarray(line.get_xydata(), dtype=float)
        if xy.size == 0:
            continue
        pts = line.get_transform().transform(xy)
        found.append((_artist_name("line", line), line, pts))
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible() and not getattr(coll, _OUTSIDE_OK, None):
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if offsets.size:
                pts = coll.get_offset_transform().transform(offsets)
                found.append((_artist_name("set of markers", coll), coll, pts))
    for container in ax.containers:
        if isinstance(container, BarContainer) and not getattr(container, _OUTSIDE_OK, None):
            tops = []
            for rect in container.patches:
                if rect.get_visible():
                    x, y = rect.get_x() + rect.get_width() / 2, rect.get_y() + rect.get_height()
                    tops.append((x, y))
            if tops:
                pts = ax.transData.transform(np.asarray(tops, dtype=float))
                found.append((_artist_name("bar series", container), container, pts))
    return found


def _data_outside(ax) -> list[str]:
    box = ax.get_window_extent()
    problems = []
    t = TOLERANCE_PX
    for name, _artist, pts in _series(ax):
        finite = np.all(np.isfinite(pts), axis=1)
        pts = pts[finite]
        if not len(pts):
            continue
        out = ((pts[:, 0] < box.x0 - t) | (pts[:, 0] > box.x1 + t)
               | (pts[:, 1] < box.y0 - t) | (pts[:, 1] > box.y1 + t))
        if out.any():
            problems.append(f"{out.sum()} of {len(pts)} points of {name} lie outside {_axes_name(ax)} "
                            "(mark it with allow_outside if meant)")
    return problems


def _axis_problems(ax, renderer) -> list[str]:
    problems = []
    name = _axes_name(ax)
    if not ax.axison or not ax.get_visible():
        return problems
    for axis, letter in ((ax.xaxis, "x"), (ax.yaxis, "y")):
        drawn = [t for t in _drawn_ticks(axis) if t.label1.get_visible() or t.label2.get_visible()]
        labelled = [t for t in drawn if (t.label1.get_visible() and t.label1.get_text().strip())
                    or (t.label2.get_visible() and t.label2.get_text().strip())]
        minor = [t for t in axis.get_minor_ticks()
                 if (t.label1.get_visible() and t.label1.get_text().strip())]
        if not labelled and not minor:
            continue  # no tick labels shown (e.g. sharey): nothing to name
        if not axis.get_label_text().strip():
            shared = (ax.get_shared_x_axes() if letter == "x" else ax.get_shared_y_axes()).get_siblings(ax)
            if not any((o.xaxis if letter == "x" else o.yaxis).get_label_text().strip() for o in shared):
                problems.append(f"the {letter} axis of {name} has no label")
        if axis.get_scale() == "log" and len(labelled) + len(minor) < 2:
            problems.append(f"the log {letter} axis of {name} shows fewer than two labelled ticks")
    return problems


def layout_problems(fig) -> list[str]:
    """Everything :mod:`helpers.figure_layout` counts as a defect in ``fig`` (see the module
    docstring), as sentences; an empty list means the figure looks right."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    width, height = fig.canvas.get_width_height()
    if hasattr(fig.canvas, "device_pixel_ratio"):
        width, height = fig.bbox.width, fig.bbox.height
    problems = []
    texts = _texts(fig, renderer)
    for desc, _text, bbox in texts:
        if _outside_figure(bbox, width, height):
            problems.append(f"{desc} extends outside the figure")
    for (d1, t1, b1), (d2, t2, b2) in itertools.combinations(texts, 2):
        if _overlap(b1, b2) and not _same_text_drawn_twice(t1, b1, t2, b2):
            problems.append(f"{d1} overlaps {d2}")
    for legend in _legends(fig):
        if not legend.get_visible():
            continue
        frame = legend.get_window_extent(renderer)
        own = set(map(id, legend.get_texts())) | {id(legend.get_title())}
        for desc, text, bbox in texts:
            if id(text) not in own and _overlap(frame, bbox):
                problems.append(f"the legend covers {desc}")
        problems += _lines_through_legend(legend, renderer)
    for ax in fig.axes:
        problems += _data_outside(ax)
        problems += _axis_problems(ax, renderer)
    return problems


def _lines_through_legend(legend, renderer) -> list[str]:
    """Plotted lines of the legend's axes that cross one of its entries' text."""
    from matplotlib.transforms import Bbox

    ax = legend.axes
    if ax is None:
        return []
    found = []
    for text in legend.get_texts():
        if not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        inner = Bbox.from_extents(box.x0 + 1, box.y0 + 1, box.x1 - 1, box.y1 - 1)
        for line in ax.get_lines():
            if not line.get_visible() or getattr(line, _OUTSIDE_OK, None):
                continue
            path = line.get_transform().transform_path(line.get_path())
            if path.intersects_bbox(inner, filled=False):
                found.append(f"{_artist_name('line', line)} runs through the legend entry "
                             f"{text.get_text()!r} in {_axes_name(ax)}")
    return found


# ------------------------------------------------------------------------------- in a kernel
def _figures():
    import matplotlib.pyplot as plt

    return [plt.figure(num) for num in plt.get_fignums()]


def _check_open_figures(where: str, figures=None) -> None:
    for fig in figures if figures is not None else _figures():
        for problem in layout_problems(fig):
            _RECORD.append(f"{where}, figure {fig.number}: {problem}")


def record_shown_figures(shell=None) -> None:
    """In a notebook kernel: check every figure when ``plt.show()`` shows it (the cell is named by
    its execution count). Installed by the test suite, never by a lesson."""
    import matplotlib.pyplot as plt

    if getattr(plt.show, "_course_layout", False):
        return
    original = plt.show
    shell = shell or _ipython()

    def show(*args, **kwargs):
        count = getattr(shell, "execution_count", "?") if shell is not None else "?"
        _check_open_figures(f"cell In[{count}]")
        return original(*args, **kwargs)

    show._course_layout = True
    plt.show = show


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    return get_ipython()


def _live_widgets():
    import ipywidgets

    instances = getattr(ipywidgets.Widget, "_active_widgets", None) or getattr(ipywidgets.Widget, "widgets", {})
    return list(instances.values())


def _slider_ends(widget):
    """The two ends of a slider widget, or None for anything else."""
    import ipywidgets as w

    if isinstance(widget, w.FloatLogSlider):
        return widget.base ** widget.min, widget.base ** widget.max
    if isinstance(widget, (w.IntSlider, w.FloatSlider)):
        return widget.min, widget.max
    if isinstance(widget, w.SelectionSlider):
        values = [value for _, value in widget._options_full] if hasattr(widget, "_options_full") else None
        if values is None:
            values = [o[1] if isinstance(o, tuple) else o for o in widget.options]
        return values[0], values[-1]
    return None


def _toggle_values(widget):
    import ipywidgets as w

    if isinstance(widget, (w.ToggleButtons, w.Dropdown, w.RadioButtons)):
        return [o[1] if isinstance(o, tuple) else o for o in widget.options]
    return None


def _name(widget) -> str:
    return widget.description or type(widget).__name__


def sweep_widgets(where: str = "widgets") -> int:
    """Move every live slider to both ends and every toggle through its options (sliders at their
    values of that moment), checking the open figures after each move; restore every value.
    Returns the number of states checked."""
    widgets = _live_widgets()
    sliders = [(w, _slider_ends(w)) for w in widgets if _slider_ends(w) is not None]
    toggles = [(w, _toggle_values(w)) for w in widgets if _toggle_values(w) is not None]
    start = {id(w): w.value for w, _ in sliders + toggles}
    states = 0
    toggle_states = itertools.product(*[[(t, v) for v in values] for t, values in toggles]) if toggles else [()]
    for combo in toggle_states:
        for toggle, value in combo:
            toggle.value = value
        label = ", ".join(f"{_name(t)} = {v!r}" for t, v in combo)
        _check_open_figures(f"{where}: {label or 'initial state'}")
        states += 1
        for slider, ends in sliders:
            if slider.disabled:
                continue
            before = slider.value
            for end, end_name in zip(ends, ("min", "max"), strict=True):
                slider.value = end
                state = f"{label + ', ' if label else ''}{_name(slider)} at its {end_name} ({_fmt(end)})"
                _check_open_figures(f"{where}: {state}")
                states += 1
            slider.value = before
    for w, _ in sliders + toggles:
        w.value = start[id(w)]
    return states


def _fmt(value) -> str:
    if isinstance(value, float) and value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e4):
        return f"{value:.1e}"
    return f"{value:g}" if isinstance(value, float) and math.isfinite(value) else str(value)


def recorded(clear: bool = True) -> list[str]:
    """What :func:`record_shown_figures` and :func:`sweep_widgets` found so far."""
    found = list(dict.fromkeys(_RECORD))  # the same defect in the same state, once
    if clear:
        _RECORD.clear()
    return found
