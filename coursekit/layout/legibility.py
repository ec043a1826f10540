"""Three defects a learner reads wrong although nothing overlaps (issue 25, §7), for
:func:`coursekit.layout.checks.layout_problems`:

* **tick labels of neighbouring axes that touch**: the last x tick label of one panel and the first
  of the next, closer than :data:`MIN_GAP_EM` of their font size, read as one ("3" and "−2" as
  "3−2"); tick labels of one axis are matplotlib's business and are not compared;
* **a marked position on the edge of its axes**: a vertical or horizontal line drawn across the
  axes (``axvline`` / ``axhline``, e.g. the current epoch) within :data:`EDGE_PX` of the axes' edge
  or outside the view, where the spine hides it;
* **legend entries that cannot be told apart**: two entries of one legend with different labels
  whose handles look the same (colour, line style, width, marker, alpha).
"""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.colors import to_rgba

__all__ = ["MIN_GAP_EM", "EDGE_PX", "touching_tick_labels", "markers_on_the_edge", "lookalike_legend_entries"]

MIN_GAP_EM = 0.3  # the least gap between tick labels of two axes, in units of their font size
EDGE_PX = 2.0  # a line this close to the axes' edge (display pixels) is hidden by the spine


def touching_tick_labels(texts, name) -> list[str]:
    """Pairs of tick labels of *different* axes whose boxes are closer than MIN_GAP_EM of the font
    size side by side (or one above the other), as sentences. ``texts``: the figure's texts as
    :func:`coursekit.layout.checks._texts` lists them, ``(description, text, display bbox)``;
    ``name(ax)`` names an axes."""
    ticks = [(text, bbox) for desc, text, bbox in texts if desc.startswith(("x tick label", "y tick label"))]
    if not ticks:
        return []
    owner = {id(label): ax for ax in ticks[0][0].figure.axes for axis in (ax.xaxis, ax.yaxis)
             for tick in [*axis.majorTicks, *axis.minorTicks] for label in (tick.label1, tick.label2)}
    problems = []
    for (ta, ba), (tb, bb) in itertools.combinations(ticks, 2):
        axes_a, axes_b = owner.get(id(ta)), owner.get(id(tb))
        if axes_a is axes_b:
            continue  # one axes' own tick labels: matplotlib's business
        px_per_point = ta.figure.dpi / 72
        gap_needed = MIN_GAP_EM * max(ta.get_fontsize(), tb.get_fontsize()) * px_per_point
        dx = max(ba.x0, bb.x0) - min(ba.x1, bb.x1)  # > 0: apart side by side
        dy = max(ba.y0, bb.y0) - min(ba.y1, bb.y1)
        if dx < gap_needed and dy < gap_needed:
            a, b = ta.get_text(), tb.get_text()
            problems.append(f"tick label {a!r} of {name(axes_a)} and tick label {b!r} of {name(axes_b)} "
                            f"nearly touch (they read as one: {a}{b})")
    return problems


def _spanning(line, ax):
    """``("x", x)`` for a line drawn across the axes at one x (axvline), ``("y", y)`` for one at one y
    (axhline), else None."""
    try:
        x = np.asarray(line.get_xdata(), dtype=float).ravel()
        y = np.asarray(line.get_ydata(), dtype=float).ravel()
    except (TypeError, ValueError):  # dates, units: not a marker this check knows
        return None
    if x.size != 2 or y.size != 2:
        return None
    transform = line.get_transform()
    if x[0] == x[1] and transform == ax.get_xaxis_transform() and set(y) == {0.0, 1.0}:
        return "x", float(x[0])
    if y[0] == y[1] and transform == ax.get_yaxis_transform() and set(x) == {0.0, 1.0}:
        return "y", float(y[0])
    return None


def markers_on_the_edge(ax, name) -> list[str]:
    """Lines across ``ax`` (axvline / axhline) at a position within EDGE_PX of the axes' edge or
    outside the view, as sentences."""
    problems = []
    box = ax.get_window_extent()
    for line in ax.lines:
        found = _spanning(line, ax) if line.get_visible() else None
        if found is None:
            continue
        which, value = found
        if which == "x":
            at, low, high = ax.transData.transform((value, 0))[0], box.x0, box.x1
        else:
            at, low, high = ax.transData.transform((0, value))[1], box.y0, box.y1
        if at < low + EDGE_PX or at > high - EDGE_PX:
            label = line.get_label()
            what = f"the line {label!r}" if label and not label.startswith("_") else "an unlabelled line"
            problems.append(f"{what} across {name(ax)} lies on the edge of the axes or outside them "
                            f"({which} = {value:g}), where it cannot be seen")
    return problems


def _value(value):
    """A handle's property as a comparable value: colours as rounded RGBA, numbers and arrays of
    them (a collection's widths) as rounded tuples, anything else as its repr."""
    if value is None or isinstance(value, str) and value not in ("none", "None"):
        try:
            return tuple(np.round(to_rgba(value), 3)) if value is not None else None
        except (ValueError, TypeError):
            return value
    try:
        return tuple(np.round(to_rgba(value), 3))
    except (ValueError, TypeError):
        pass
    try:
        return tuple(np.round(np.asarray(value, dtype=float).ravel(), 3))
    except (ValueError, TypeError):
        return repr(value)


def _looks(handle) -> tuple:
    """What a legend handle looks like, as comparable values."""
    attrs = ("color", "facecolor", "edgecolor", "linestyle", "linewidth", "marker", "alpha", "hatch")
    return (type(handle).__name__,
            *(_value(getattr(handle, f"get_{attr}")()) if hasattr(handle, f"get_{attr}") else None
              for attr in attrs))


def lookalike_legend_entries(legend) -> list[tuple[str, str]]:
    """Pairs of labels of ``legend`` whose handles look the same."""
    handles = getattr(legend, "legend_handles", None) or getattr(legend, "legendHandles", [])
    labels = [t.get_text() for t in legend.get_texts()]
    entries = [(label, _looks(h)) for label, h in zip(labels, handles, strict=False) if h is not None]
    return [(a, b) for (a, la), (b, lb) in itertools.combinations(entries, 2) if la == lb and a != b]
