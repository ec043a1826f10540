"""Widget glue for notebook 05: explore a precomputed grid of λ for the article's network.

No TensorFlow here: the explorer works on arrays computed beforehand (decision-boundary grids and
weight histograms, one per λ, e.g. from :class:`helpers.keras_tools.ModelPool`), so moving the
slider only swaps image data, one contour and bar heights. The figure is
blitted (:class:`helpers.blit.Blitter`): axes, ticks and labels are drawn once; a slider move
redraws only the image, the points on it, the p = 0.5 line, the histogram and the two titles.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from helpers._validate import check_array, check_choice, check_same_shape, check_scalar, finite_result
from helpers.blit import Blitter
from helpers.plots import CLASS_COLORS, COLORS, widget_canvas

FIGSIZE = (10, 4)  # inches; at the course's 90 dpi a 900 x 360 frame


class KerasLambdaExplorer:
    """Decision boundary (left) and hidden-weight histogram (right) of the network trained with
    the λ chosen on a slider.

    Arguments: ``lams`` (L,) increasing; ``proba_grids`` (L, ny, nx) P(class 1) on the grid
    ``xx, yy`` (ny, nx); ``edges`` (B+1,) histogram edges (one bin centred on 0);
    ``counts`` (L, B) weight counts per λ; ``X, y`` the points to overlay (training set);
    ``labels`` optional list of L strings shown in the titles (e.g. accuracies);
    ``penalty`` the colour key of :data:`helpers.COLORS` for the histogram.

    By default the figure is a plain Agg figure whose frames are sent as PNG to an
    ``ipywidgets.Image`` (``frame``): blitting keeps each frame cheap, and the view never depends
    on ipympl's canvas start-up, which in ipympl 0.10 can leave a canvas embedded in a box empty
    when the kernel is busy (seen in the real-browser test). Pass an ipympl ``fig`` to use its
    canvas instead. The frame is shown at its natural size, one CSS pixel per pixel rendered (the
    size an ipympl figure of the same ``figsize`` has, so its text matches the other figures'):
    stretched to the output's width it was blurred (issue 18). Rendering it at twice the
    resolution for high-density screens made a slider move about 5 times slower (93 ms against
    18 ms median, measured on the course's 2-core machine), so it is not done.

    Exposes ``fig``, ``slider`` (an ``ipywidgets.SelectionSlider`` whose value is the index
    into ``lams``), ``ui`` (what to ``display``) and :meth:`update` (the pure redraw path;
    the slider calls it). Notebook 05.
    """

    @finite_result("X", "xx", "yy", "edges", "counts", "lams", action="draw", hint="rescale {name}")
    def __init__(self, lams, proba_grids, xx, yy, edges, counts, X, y, labels=None,
                 penalty: str = "l1", fig=None):
        import ipywidgets as widgets
        import matplotlib as mpl
        from matplotlib.collections import LineCollection
        from matplotlib.ticker import NullLocator

        self.lams = check_array(lams, "lams", ndim=1)
        if np.any(np.diff(self.lams) <= 0):
            raise ValueError("lams must be strictly increasing")
        n = self.lams.size
        self.proba_grids = check_array(proba_grids, "proba_grids", ndim=3)
        self.xx, self.yy, _ = _check_grid(xx, yy)
        self.edges = check_array(edges, "edges", ndim=1)
        if np.any(np.diff(self.edges) <= 0) or not self.edges[0] < 0 < self.edges[-1]:
            raise ValueError("edges must be increasing and span 0 (the histogram's zero bin)")
        self.counts = check_array(counts, "counts", ndim=2)
        X = check_array(X, "X", ndim=2)
        y = check_array(y, "y", ndim=1)
        if self.proba_grids.shape[0] != n or self.proba_grids.shape[1:] != self.xx.shape:
            raise ValueError(f"proba_grids must have shape ({n}, *xx.shape), got "
                             f"{self.proba_grids.shape}")
        if self.counts.shape != (n, self.edges.size - 1):
            raise ValueError(f"counts must have shape ({n}, {self.edges.size - 1}), got "
                             f"{self.counts.shape}")
        if X.shape[1] != 2:
            raise ValueError(f"X must have 2 columns (points in the plane), got shape {X.shape}")
        if len(X) != len(y):
            raise ValueError(f"y must have one label per row of X: {len(y)} != {len(X)}")
        if labels is not None and (not isinstance(labels, (list, tuple)) or len(labels) != n):
            raise ValueError(f"labels must be a list of {n} strings, got {labels!r}")
        check_choice(penalty, "penalty", tuple(COLORS))
        if fig is not None and (not isinstance(fig, Figure) or len(fig.axes) < 2):
            raise ValueError("fig must be a matplotlib Figure with two axes (map, histogram)")
        self.labels = list(labels) if labels is not None else [""] * n

        css_width = None
        if fig is None:
            # A plain Agg figure, shown as PNG frames in an ipywidgets.Image (see the class doc).
            fig = Figure(figsize=FIGSIZE, dpi=mpl.rcParams["figure.dpi"])
            FigureCanvasAgg(fig)
            fig.subplots(1, 2)
            css_width = round(fig.bbox.width)
        self.fig = fig
        self.ax_map, self.ax_hist = fig.axes[:2]
        extent = (self.xx.min(), self.xx.max(), self.yy.min(), self.yy.max())
        # bilinear: the grid shaded smoothly, not as blocks (issue 25), as in EpochExplorer
        self.image = self.ax_map.imshow(self.proba_grids[0], origin="lower", extent=extent, aspect="auto",
                                        cmap="RdBu_r", vmin=0, vmax=1, alpha=0.55, interpolation="bilinear")
        colors = np.where(y == 1, CLASS_COLORS[1], CLASS_COLORS[0])
        self.points = self.ax_map.scatter(X[:, 0], X[:, 1], c=colors, s=14, edgecolor="k",
                                          linewidth=0.4)
        # The p = 0.5 boundary: one LineCollection whose segments are replaced on each update
        # (contourpy, what ax.contour uses), so no artist is created or removed per frame.
        self.contour = LineCollection([], colors="k", linewidths=1.5, zorder=2)
        self.ax_map.add_collection(self.contour, autolim=False)
        self.ax_map.set(xlabel="$x_1$", ylabel="$x_2$", xlim=extent[:2], ylim=extent[2:])
        # One StepPatch (not one Rectangle per bin) and fixed limits/ticks keep redraws cheap.
        self.bars = self.ax_hist.stairs(self.counts[0], self.edges, fill=True, baseline=0.8,
                                        color=COLORS[penalty])
        self.ax_hist.set_yscale("log")
        self.ax_hist.set_ylim(0.8, 2 * max(self.counts.max(), 1))
        self.ax_hist.yaxis.set_minor_locator(NullLocator())
        self.ax_hist.set(xlabel="hidden weight $w$ (both hidden kernels; end bins hold the tails)",
                         ylabel="count (log)")
        self.ax_map.set_title(" ")
        self.ax_hist.set_title(" ")
        fig.tight_layout()
        # Drawn in this order over the static background (the image lies under the points).
        self.blitter = Blitter(fig, [self.image, self.points, self.contour, self.bars],
                               labels=[self.ax_map.title, self.ax_hist.title])

        options = [(f"{lam:.0e}", i) for i, lam in enumerate(self.lams)]
        self.slider = widgets.SelectionSlider(options=options, value=0, description="λ",
                                              continuous_update=True)
        self.slider.observe(lambda change: self.update(change["new"]), names="value")
        canvas = widget_canvas(fig)
        # At its own size, never stretched to the output's width (max-width keeps it inside a
        # narrow window; height follows the aspect ratio).
        self.frame = None
        if canvas is None:
            layout = {"layout": widgets.Layout(width=f"{css_width}px", max_width="100%", height="auto")} \
                if css_width else {}
            self.frame = widgets.Image(format="png", **layout)
        self.ui = widgets.VBox([self.slider, canvas if canvas is not None else self.frame])
        self.update(0)

    def update(self, index: int) -> None:
        """Show the model trained with ``lams[index]``: swap the image, replace the p = 0.5
        contour lines, set the bar heights and the titles, then blit."""
        if not isinstance(index, (int, np.integer)) or not 0 <= index < self.lams.size:
            raise ValueError(f"index must be an integer in [0, {self.lams.size}), got {index!r}")
        self.index = int(index)
        grid = self.proba_grids[index]
        self.image.set_data(grid)
        self.contour.set_segments(boundary_lines(self.xx, self.yy, grid))
        self.bars.set_data(values=self.counts[index])
        zero_bin = int(np.searchsorted(self.edges, 0.0, side="right") - 1)
        lam = self.lams[index]
        label = self.labels[index]
        self.ax_map.set_title(f"λ = {lam:.0e}: boundary p = 0.5 {label}".rstrip())
        self.ax_hist.set_title(f"λ = {lam:.0e}: {int(self.counts[index, zero_bin])} weights in "
                               f"the zero bin")
        self.blitter.redraw()
        if self.frame is not None:
            self.frame.value = png_frame(self.fig)


def png_frame(fig) -> bytes:
    """The figure's current Agg buffer as PNG bytes (fast compression: ~10 ms for 900×360)."""
    import io

    from PIL import Image

    if not isinstance(fig, Figure) or not hasattr(fig.canvas, "buffer_rgba"):
        raise ValueError(f"fig must be a matplotlib Figure on an Agg canvas, got {type(fig).__name__}")

    buf = io.BytesIO()
    Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).save(buf, format="png", compress_level=1)
    return buf.getvalue()


def _check_grid(xx, yy, grid=None):
    """Coordinates ``xx, yy`` of a grid (2-D, at least 2 x 2, the same shape) and values on it."""
    xx = check_array(xx, "xx", ndim=2)
    yy = check_array(yy, "yy", ndim=2)
    check_same_shape(xx, yy, "xx", "yy")
    if min(xx.shape) < 2:
        raise ValueError(f"xx must be a grid of at least 2 x 2 points, got shape {xx.shape}")
    for coords, name in ((xx, "xx"), (yy, "yy")):
        if not coords.min() < coords.max():
            raise ValueError(f"{name} must span an interval (its values are all {coords.min():g})")
    if grid is not None:
        grid = check_array(grid, "grid", ndim=2)
        check_same_shape(xx, grid, "xx", "grid")
    return xx, yy, grid


@finite_result("xx", "yy", "grid", action="trace the contour")
def boundary_lines(xx, yy, grid, level: float = 0.5) -> list:
    """The ``level`` contour of ``grid`` on ``(xx, yy)`` as a list of ``(n, 2)`` polylines
    (contourpy, the library behind ``ax.contour``)."""
    import contourpy

    if grid is None:  # optional for _check_grid's other callers, not here
        raise ValueError("grid must be a 2-D array of values on (xx, yy), got None")
    xx, yy, grid = _check_grid(xx, yy, grid)
    level = check_scalar(level, "level", min_value=None)
    gen = contourpy.contour_generator(xx, yy, grid, line_type=contourpy.LineType.Separate)
    return list(gen.lines(level))


class EpochExplorer:
    """Watch training unfold: the decision boundary at the epoch chosen on a slider (left) and
    the training and validation loss curves with that epoch marked (right), for the method
    chosen on toggle buttons (e.g. no regularization and a few dropout rates). Notebook 06.

    Arguments: ``epochs`` (E,) increasing, the evaluated epochs; ``proba_grids`` (M, E, ny, nx)
    P(class 1) of method m at epoch e on the grid ``xx, yy`` (ny, nx); ``curve_train``,
    ``curve_val`` (M, E) the data losses; ``X, y`` the training points; ``labels`` M method
    names; ``best`` optional (M,) the epoch of lowest validation loss, drawn as a dashed line.

    As :class:`KerasLambdaExplorer`: precomputed arrays only (no TensorFlow), a plain Agg figure
    shown as PNG frames (or an ipympl ``fig`` with two axes), blitted: a move redraws the image,
    the points, the boundary, both curves, the two epoch markers and the titles. Exposes ``fig``,
    ``slider`` (epoch index), ``buttons`` (method index), ``ui`` and :meth:`update`.
    """

    @finite_result("X", "xx", "yy", "curve_train", "curve_val", "epochs", action="draw", hint="rescale {name}")
    def __init__(self, epochs, proba_grids, xx, yy, curve_train, curve_val, X, y, labels, best=None, fig=None):
        import ipywidgets as widgets
        import matplotlib as mpl
        from matplotlib.collections import LineCollection

        self.epochs = check_array(epochs, "epochs", ndim=1)
        if np.any(np.diff(self.epochs) <= 0):
            raise ValueError("epochs must be strictly increasing")
        self.proba_grids = check_array(proba_grids, "proba_grids", ndim=4)
        self.xx, self.yy, _ = _check_grid(xx, yy)
        n_methods, n_epochs = self.proba_grids.shape[:2]
        if n_epochs != self.epochs.size or self.proba_grids.shape[2:] != self.xx.shape:
            raise ValueError(f"proba_grids must have shape (M, {self.epochs.size}, *xx.shape), got "
                             f"{self.proba_grids.shape}")
        self.curve_train = check_array(curve_train, "curve_train", ndim=2)
        self.curve_val = check_array(curve_val, "curve_val", ndim=2)
        for name, curve in (("curve_train", self.curve_train), ("curve_val", self.curve_val)):
            if curve.shape != (n_methods, n_epochs):
                raise ValueError(f"{name} must have shape ({n_methods}, {n_epochs}), got {curve.shape}")
        X, y = check_array(X, "X", ndim=2), check_array(y, "y", ndim=1)
        if X.shape[1] != 2 or len(X) != len(y):
            raise ValueError(f"X must be points (n, 2) with one label each in y, got {X.shape} and {y.shape}")
        if not isinstance(labels, (list, tuple)) or len(labels) != n_methods or \
                not all(isinstance(label, str) for label in labels):
            raise ValueError(f"labels must be a list of {n_methods} strings, got {labels!r}")
        self.labels = list(labels)
        self.best = None if best is None else check_array(best, "best", ndim=1)
        if self.best is not None and self.best.size != n_methods:
            raise ValueError(f"best must hold one epoch per method ({n_methods}), got {self.best.size}")
        if fig is not None and (not isinstance(fig, Figure) or len(fig.axes) < 2):
            raise ValueError("fig must be a matplotlib Figure with two axes (map, curves)")
        css_width = None
        if fig is None:
            fig = Figure(figsize=FIGSIZE, dpi=mpl.rcParams["figure.dpi"], layout="constrained")
            FigureCanvasAgg(fig)
            fig.subplots(1, 2)
            css_width = round(fig.bbox.width)
        self.fig = fig
        self.ax_map, self.ax_curve = fig.axes[:2]
        extent = (self.xx.min(), self.xx.max(), self.yy.min(), self.yy.max())
        # bilinear: the 60 x 60 grid shaded smoothly, not as blocks (issue 25), for ~1 ms more per move
        self.image = self.ax_map.imshow(self.proba_grids[0, 0], origin="lower", extent=extent, aspect="auto",
                                        cmap="RdBu_r", vmin=0, vmax=1, alpha=0.55, interpolation="bilinear")
        colors = np.where(y == 1, CLASS_COLORS[1], CLASS_COLORS[0])
        self.points = self.ax_map.scatter(X[:, 0], X[:, 1], c=colors, s=14, edgecolor="k", linewidth=0.4)
        self.contour = LineCollection([], colors="k", linewidths=1.5, zorder=2)
        self.ax_map.add_collection(self.contour, autolim=False)
        self.ax_map.set(xlabel="$x_1$", ylabel="$x_2$", xlim=extent[:2], ylim=extent[2:])
        # the curves are one method's: the splits' colours, never a method's (one colour, one model)
        self.line_train, = self.ax_curve.plot(self.epochs, self.curve_train[0], color=COLORS["train"],
                                              label="training loss")
        self.line_val, = self.ax_curve.plot(self.epochs, self.curve_val[0], color=COLORS["val"],
                                            label="validation loss")
        self.marker = self.ax_curve.axvline(self.epochs[0], color="k", lw=1.5, label="this epoch")
        self.best_line = self.ax_curve.axvline(self.epochs[0], color="k", lw=1, ls="--",
                                               visible=self.best is not None, label="lowest validation loss")
        both = np.concatenate([self.curve_train.ravel(), self.curve_val.ravel()])
        span = both.max() - both.min()
        # a margin past the last epoch, so the marker stays visible there (on the edge it hid under the frame)
        self.ax_curve.set(xlim=(0, self.epochs[-1] * 1.04), ylim=(both.min() - 0.05 * span, both.max() + 0.05 * span),
                          xlabel="epoch", ylabel="data loss (cross-entropy)")
        # below the axes: the epoch markers sweep the whole plot, so no place inside stays clear
        handles = [self.line_train, self.line_val, self.marker] + ([self.best_line] if self.best is not None else [])
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize="small")
        self.ax_map.set_title(" ")
        self.ax_curve.set_title(" ")
        self.blitter = Blitter(fig, [self.image, self.points, self.contour, self.line_train, self.line_val,
                                     self.marker, self.best_line],
                               labels=[self.ax_map.title, self.ax_curve.title])
        options = [(f"{e:g}", i) for i, e in enumerate(self.epochs)]
        self.slider = widgets.SelectionSlider(options=options, value=0, description="epoch",
                                              continuous_update=True)
        self.buttons = widgets.ToggleButtons(options=[(label, i) for i, label in enumerate(self.labels)], value=0)
        self.slider.observe(lambda change: self.update(self.buttons.value, change["new"]), names="value")
        self.buttons.observe(lambda change: self.update(change["new"], self.slider.value), names="value")
        canvas = widget_canvas(fig)
        self.frame = None
        if canvas is None:  # at its own size, as KerasLambdaExplorer's frame
            layout = {"layout": widgets.Layout(width=f"{css_width}px", max_width="100%", height="auto")} \
                if css_width else {}
            self.frame = widgets.Image(format="png", **layout)
        self.ui = widgets.VBox([self.slider, self.buttons, canvas if canvas is not None else self.frame])
        self.update(0, 0)

    def update(self, method: int, index: int) -> None:
        """Show method ``method`` at epoch ``epochs[index]``: swap the image, replace the boundary,
        set both curves and the markers, the titles, then blit."""
        for name, value, size in (("method", method, len(self.labels)), ("index", index, self.epochs.size)):
            if not isinstance(value, (int, np.integer)) or not 0 <= value < size:
                raise ValueError(f"{name} must be an integer in [0, {size}), got {value!r}")
        self.method, self.index = int(method), int(index)
        grid = self.proba_grids[method, index]
        epoch = self.epochs[index]
        self.image.set_data(grid)
        self.contour.set_segments(boundary_lines(self.xx, self.yy, grid))
        self.line_train.set_ydata(self.curve_train[method])
        self.line_val.set_ydata(self.curve_val[method])
        self.marker.set_xdata([epoch, epoch])
        if self.best is not None:
            self.best_line.set_xdata([self.best[method]] * 2)
        self.ax_map.set_title(f"{self.labels[method]}: boundary p = 0.5 at epoch {epoch:g}")
        self.ax_curve.set_title(f"validation loss {self.curve_val[method, index]:.3f} at epoch {epoch:g}")
        self.blitter.redraw()
        if self.frame is not None:
            self.frame.value = png_frame(self.fig)
