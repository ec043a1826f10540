"""Layout checks for the course's figures, with matplotlib's own geometry (issue 18: every figure
and widget looks right at every setting, and a test proves it).

:func:`layout_problems` draws a figure headless and returns, as sentences, what a learner would
see as a defect:

* a text (title, axis label, tick label, legend entry, annotation) that extends outside the figure;
* two texts that overlap; a legend that covers a text;
* a plotted series (line, markers, bars, steps) that crosses a legend or a text drawn inside the
  axes (a readout, an annotation);
* a plotted series with points outside its axes' view limits, unless it is declared clipped: by
  the code that draws it (:func:`helpers.plots.allow_outside`, in the widgets of ``helpers``) or by
  a named exception the caller passes (``allowed_outside``, series label -> reason);
* an axis that shows tick labels but has no label, and a log axis with fewer than two labelled
  ticks;
* tick labels of neighbouring axes that touch, a line across the axes (a marked position) on
  their edge, legend entries that look alike (:mod:`coursekit.layout.legibility`).

Everything is measured after a draw, in display pixels, with ``get_window_extent``; animated
artists (the parts a widget redraws by blitting) count like the others, since the learner sees them.
:mod:`coursekit.layout.recorder` runs these checks inside the notebooks' kernels.
"""

from __future__ import annotations

import itertools

import numpy as np

from coursekit.layout.legibility import lookalike_legend_entries, markers_on_the_edge, touching_tick_labels
from helpers.plots import OUTSIDE_OK

__all__ = ["layout_problems"]

TOLERANCE_PX = 1.0  # how far a text may poke out, or two boxes overlap, before it counts


# ------------------------------------------------------------------------------- the checks
def _check_allowed(allowed_outside) -> dict:
    if allowed_outside is None:
        return {}
    if not isinstance(allowed_outside, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str) and v.strip() for k, v in allowed_outside.items()):
        raise ValueError("allowed_outside must map series labels to the reason they may leave the axes "
                         f"(non-empty strings), got {allowed_outside!r}")
    return allowed_outside


def layout_problems(fig, allowed_outside: dict | None = None) -> list[str]:
    """Everything this module counts as a defect in ``fig`` (see the module docstring), as
    sentences; an empty list means the figure looks right. ``allowed_outside`` maps the label of a
    series that may leave its axes to the reason (a named exception)."""
    return _layout_problems(fig, _check_allowed(allowed_outside), set())


def _layout_problems(fig, allowed: dict, used: set) -> list[str]:
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    texts = _texts(fig, renderer)
    problems = [f"{desc} extends outside the figure" for desc, _, bbox in texts
                if _outside_figure(bbox, width, height)]
    for (d1, _, b1), (d2, _, b2) in itertools.combinations(texts, 2):
        if _overlap(b1, b2):
            problems.append(f"{d1} overlaps {d2}")
    for legend in _legends(fig):
        frame = legend.get_window_extent(renderer)
        own = {id(t) for t in legend.get_texts()} | {id(legend.get_title())}
        problems += [f"the legend of {_owner_name(legend)} covers {desc}"
                     for desc, text, bbox in texts if id(text) not in own and _overlap(frame, bbox)]
        axes = [legend.axes] if legend.axes is not None else fig.axes
        problems += [f"{name} runs through the legend of {_owner_name(legend)}"
                     for ax in axes for name in _series_through(ax, frame)]
    problems += touching_tick_labels(texts, _axes_name)
    for legend in _legends(fig):
        problems += [f"the legend of {_owner_name(legend)} shows {a!r} and {b!r} alike: they cannot be told apart"
                     for a, b in lookalike_legend_entries(legend)]
    for ax in _visible_axes(fig):
        problems += markers_on_the_edge(ax, _axes_name)
        for text in ax.texts:
            if _shown(text):
                box = text.get_window_extent(renderer)
                problems += [f"{name} is drawn over the text {_quote(text)} in {_axes_name(ax)}"
                             for name in _series_through(ax, box)]
        problems += _data_outside(ax, allowed, used)
        problems += _axis_problems(ax)
    return problems


# ----------------------------------------------------------------------------- texts
def _shown(text) -> bool:
    return text.get_visible() and bool(text.get_text().strip()) and (text.get_alpha() is None or text.get_alpha() > 0)


def _quote(text) -> str:
    content = " ".join(text.get_text().split())
    return repr(content[:50] + ("…" if len(content) > 50 else ""))


def _visible_axes(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def _texts(fig, renderer) -> list[tuple[str, object, object]]:
    """(description, text, display bbox) of every text the figure draws, built from what
    matplotlib draws (visible axes and axis, ticks inside the view) rather than from every Text
    object (matplotlib keeps labels for ticks outside the view, and for hidden axes)."""
    found = []

    def add(kind, text, where=None):
        if _shown(text):
            bbox = text.get_window_extent(renderer)
            if bbox.width > 0 and bbox.height > 0:
                found.append((f"{kind} {_quote(text)}{' in ' + where if where else ''}", text, bbox))

    for ax in _visible_axes(fig):
        name = _axes_name(ax)
        for title in (ax.title, ax._left_title, ax._right_title):
            add("title", title, name)
        if ax.axison:
            for axis, letter in ((ax.xaxis, "x"), (ax.yaxis, "y")):
                if not axis.get_visible():
                    continue
                add(f"{letter} label", axis.label, name)
                add(f"{letter} offset text", axis.offsetText, name)
                for tick in _drawn_ticks(axis):
                    for label in (tick.label1, tick.label2):
                        if label.get_visible():
                            add(f"{letter} tick label", label, name)
        for text in ax.texts:
            add("text", text, name)
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            for text in [legend.get_title(), *legend.get_texts()]:
                add("legend entry", text, name)
    sup = {}
    for attr, kind in (("_suptitle", "figure title"), ("_supxlabel", "figure x label"),
                       ("_supylabel", "figure y label")):
        if getattr(fig, attr, None) is not None:
            sup[id(getattr(fig, attr))] = kind
    for text in fig.texts:  # suptitle and friends are figure texts too
        add(sup.get(id(text), "figure text"), text)
    for legend in fig.legends:
        if legend.get_visible():
            for text in [legend.get_title(), *legend.get_texts()]:
                add("figure legend entry", text)
    return found


def _drawn_ticks(axis):
    """The ticks of ``axis`` that matplotlib draws (inside the view interval)."""
    return axis._update_ticks()  # what Axis.draw uses


def _axes_name(ax) -> str:
    title = " ".join((ax.get_title() or "").split())
    if title:
        return f"axes {title[:40] + ('…' if len(title) > 40 else '')!r}"
    fig = ax.get_figure()
    index = fig.axes.index(ax) + 1 if fig is not None and ax in fig.axes else "?"
    return f"axes {index} (untitled)"


def _owner_name(legend) -> str:
    return _axes_name(legend.axes) if legend.axes is not None else "the figure"


def _legends(fig) -> list:
    found = [ax.get_legend() for ax in _visible_axes(fig) if ax.get_legend() is not None]
    return [legend for legend in found + list(fig.legends) if legend.get_visible()]


def _overlap(a, b) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > TOLERANCE_PX
            and min(a.y1, b.y1) - max(a.y0, b.y0) > TOLERANCE_PX)


def _outside_figure(bbox, width, height) -> bool:
    t = TOLERANCE_PX
    return bbox.x0 < -t or bbox.y0 < -t or bbox.x1 > width + t or bbox.y1 > height + t


# ----------------------------------------------------------------------------- plotted series
def _artist_name(kind: str, artist) -> str:
    label = artist.get_label() or ""
    return f"{kind} {label!r}" if label and not label.startswith("_") else f"an unlabelled {kind}"


def _bar_ends(container):
    """Display points of the bars' far ends (the top of a vertical bar), skipping empty bars."""
    ends = []
    for rect in container.patches:
        if not rect.get_visible() or rect.get_height() == 0 or rect.get_width() == 0:
            continue
        x, y, w, h = rect.get_x(), rect.get_y(), rect.get_width(), rect.get_height()
        ends.append((x + w, y + h / 2) if container.orientation == "horizontal" else (x + w / 2, y + h))
    return ends


def _series(ax):
    """(description, artist, display points, display paths) of the data series drawn in ``ax``:
    lines, scatter markers, bars, step patches. The points are the data (tested against the view
    limits); the paths, each with whether it is filled, are what is drawn (tested against legends
    and texts: a filled bar covers a text inside it, a line only where it passes)."""
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer
    from matplotlib.patches import StepPatch
    from matplotlib.path import Path

    found = []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = np.asarray(line.get_xydata(), dtype=float)
        if xy.size == 0:
            continue
        transform = line.get_transform()
        pts = transform.transform(xy)
        if line.get_linestyle() in ("None", "none", "", " "):
            paths = [(Path(pts[np.all(np.isfinite(pts), axis=1)]), False)]
        else:
            paths = [(transform.transform_path(line.get_path()), False)]
        found.append((_artist_name("line", line), line, pts, paths))
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible():
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if offsets.size:
                pts = coll.get_offset_transform().transform(offsets)
                found.append((_artist_name("set of markers", coll), coll, pts,
                              [(Path(pts[np.all(np.isfinite(pts), axis=1)]), False)]))
    for container in ax.containers:
        if isinstance(container, BarContainer):
            ends = _bar_ends(container)
            if ends:
                pts = ax.transData.transform(np.asarray(ends, dtype=float))
                paths = [(r.get_transform().transform_path(r.get_path()), True) for r in container.patches
                         if r.get_visible() and r.get_height() != 0 and r.get_width() != 0]
                found.append((_artist_name("bar series", container), container, pts, paths))
    for patch in ax.patches:
        if isinstance(patch, StepPatch) and patch.get_visible():
            values, edges, _baseline = patch.get_data()
            centres = (np.asarray(edges[:-1]) + np.asarray(edges[1:])) / 2
            keep = np.asarray(values) != 0
            if keep.any():
                xy = np.column_stack([centres[keep], np.asarray(values)[keep]])
                if patch.orientation == "horizontal":
                    xy = xy[:, ::-1]
                pts = patch.get_transform().transform(xy)
                paths = [(patch.get_transform().transform_path(patch.get_path()), patch.get_fill())]
                found.append((_artist_name("step patch", patch), patch, pts, paths))
    return found


def _series_through(ax, box) -> list[str]:
    """The series of ``ax`` drawn across the display box ``box`` (a legend, a text)."""
    from matplotlib.transforms import Bbox

    t = TOLERANCE_PX
    inner = Bbox.from_extents(box.x0 + t, box.y0 + t, box.x1 - t, box.y1 - t)
    if inner.width <= 0 or inner.height <= 0:
        return []
    found = []
    for name, artist, _pts, paths in _series(ax):
        test = inner
        clip = None
        if hasattr(artist, "get_clip_on") and artist.get_clip_on():  # bars: a container, unclipped here
            clip = artist.get_clip_box()
        if clip is not None:  # a clipped series is drawn only inside its clip box (the axes)
            test = Bbox.intersection(inner, clip)
            if test is None or test.width <= 0 or test.height <= 0:
                continue
        if any(len(p.vertices) and p.intersects_bbox(test, filled=filled) for p, filled in paths):
            found.append(name)
    return found


def _data_outside(ax, allowed: dict, used: set) -> list[str]:
    box = ax.get_window_extent()
    problems = []
    t = TOLERANCE_PX
    for name, artist, pts, _paths in _series(ax):
        if getattr(artist, OUTSIDE_OK, None):
            continue
        label = artist.get_label() or ""
        if label in allowed:
            used.add(label)
            continue
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        if not len(pts):
            continue
        out = ((pts[:, 0] < box.x0 - t) | (pts[:, 0] > box.x1 + t)
               | (pts[:, 1] < box.y0 - t) | (pts[:, 1] > box.y1 + t))
        if out.any():
            problems.append(f"{out.sum()} of {len(pts)} points of {name} lie outside the view of "
                            f"{_axes_name(ax)} (if that is meant, declare it: allow_outside)")
    return problems


# ----------------------------------------------------------------------------- axes
def _labelled_ticks(axis) -> list[str]:
    return [label.get_text() for tick in _drawn_ticks(axis) for label in (tick.label1, tick.label2)
            if label.get_visible() and label.get_text().strip()]


def _axis_problems(ax) -> list[str]:
    if not ax.axison:
        return []
    fig = ax.get_figure()
    problems = []
    for axis, letter in ((ax.xaxis, "x"), (ax.yaxis, "y")):
        if not axis.get_visible():
            continue
        template = axis.get_major_ticks()[0]
        if not (template.label1.get_visible() or template.label2.get_visible()):
            continue  # tick labels switched off (an inner panel of sharey): nothing to name
        labelled = _labelled_ticks(axis)
        figure_label = getattr(fig, f"_sup{letter}label", None)
        if not axis.get_label_text().strip() and not (figure_label and figure_label.get_text().strip()):
            problems.append(f"the {letter} axis of {_axes_name(ax)} has no label")
        if axis.get_scale() == "log" and len(labelled) < 2:
            problems.append(f"the log {letter} axis of {_axes_name(ax)} shows fewer than two labelled "
                            f"ticks ({labelled})")
    return problems
