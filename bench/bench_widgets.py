"""Time a slider move of each course widget: blitted update against a full redraw, same run.

    .venv/bin/python bench/bench_widgets.py [N] [--backend agg|ipympl|both] [--only TEXT]

Widgets: the overfitting explorer (notebook 01; degree slider, and noise slider separately),
the λ explorer of notebook 02, the geometry view (notebook 04), the Keras λ explorer
(notebook 05, on synthetic arrays of the notebook's shapes: 6 λ, a 100 × 100 probability grid
from ``grid_points(n=100)``, 81 histogram bins from ``hist_edges(0.4, 81)``, the 100 training
points of ``load_moons_2d``; no Keras model is trained) and the double-descent explorer of
notebook 07 (p slider and λ slider separately). ``--only 07`` times only the widgets whose
name contains "07".

One "update" = setting the slider's value (ipywidgets observer, the widget's recompute, the
redraw). Two ways per widget, on the same figure, the same slider values, interleaved in the
same run (so both see the same machine load):

* "blit": what the widgets do now (:class:`helpers.blit.Blitter`): paste the saved background,
  draw the animated artists, ``canvas.blit``.
* "full": the previous behaviour: no animated artists, a full ``fig.canvas.draw()`` per update
  (what ``draw_idle`` leads to: on Agg it draws at once; under ipympl the browser asks for it).

Backends: ``agg`` renders to memory (``canvas.blit`` is a no-op there, so the time is the
compute plus the pixel work); ``ipympl`` uses the notebook backend without a browser (a dummy
comm): each frame is also diffed against the previous one and PNG-encoded, the kernel-side
cost of sending it. Prints the median and 95th percentile per widget and way, how many full
draws the blitted run needed, how many title draws were pasted from the Blitter's label cache
(values seen before; a first visit renders the text), and the load average. Target: blit
median well under 50 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402


@contextlib.contextmanager
def full_redraws(blitter):
    """Within the block the widget redraws as before blitting: nothing animated, full draws."""
    artists = list(blitter.artists)
    for a in artists:
        a.set_animated(False)
    blitter.disconnect()
    blitter.redraw = blitter.fig.canvas.draw
    try:
        yield
    finally:
        del blitter.redraw  # back to the class's method
        for a in artists:
            a.set_animated(True)
        blitter.invalidate()


def _overfitting(slider: str):
    from helpers.overfitting import OverfitExplorer

    ov = OverfitExplorer(degree=9, n_train=30, noise=0.3)
    if slider == "degree":
        return ov, ov.blitter, lambda v: setattr(ov.degree, "value", v), list(range(1, 13)) + list(range(11, 1, -1))
    noises = [round(0.05 * k, 2) for k in range(2, 13)]
    return ov, ov.blitter, lambda v: setattr(ov.noise, "value", v), noises + noises[-2:0:-1]


def _lambda_explorer():
    from helpers import load_curve_1d
    from helpers.penalized_path import PenalizedPath
    from helpers.penalized_path import PenalizedPathExplorer as PathExplorer

    d = load_curve_1d()
    path = PenalizedPath(d.X_train, d.y_train, d.X_test[:100], d.y_test[:100], degree=12)
    ex = PathExplorer(path, kind="l2")
    stops = [float(v) for v in path.lams["l2"]]
    return ex, ex.blitter, lambda v: setattr(ex.slider, "value", v), stops + stops[-2:0:-1]


def _geometry():
    from helpers.geometry import GeometryView

    geo = GeometryView(t=1.0)
    ts = [round(0.1 + 0.05 * k, 2) for k in range(59)]
    return geo, geo.blitter, lambda v: setattr(geo.slider, "value", v), ts + ts[-2:0:-1]


def _keras_explorer():
    from helpers import load_moons_2d
    from helpers.keras_tools import grid_points, hist_edges
    from helpers.keras_widgets import KerasLambdaExplorer

    m = load_moons_2d()
    lams = np.array([1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2])
    xx, yy, _ = grid_points(n=100)
    rng = np.random.default_rng(0)
    grids = np.stack([1 / (1 + np.exp(-(3 + k) * (xx - 0.5 * yy - 0.3 * np.sin(2 * xx))))
                      for k in range(lams.size)])
    edges = hist_edges(0.4, 81)
    counts = rng.integers(0, 800, (lams.size, edges.size - 1)).astype(float)
    labels = [f"(test acc {0.8 + 0.01 * k:.2f})" for k in range(lams.size)]
    kx = KerasLambdaExplorer(lams, grids, xx, yy, edges, counts, m.X_train, m.y_train, labels=labels)
    return kx, kx.blitter, lambda v: setattr(kx.slider, "value", v), [0, 1, 2, 3, 4, 5, 4, 3, 2, 1]


def _double_descent(slider: str):
    """Notebook 07's explorer as the notebook builds it (shipped data, seed 42, 37 p, 12 λ)."""
    from helpers import load_curve_1d
    from helpers.double_descent import DoubleDescentExplorer, DoubleDescentPath, feature_counts

    d = load_curve_1d()
    lams = np.r_[0.0, 10.0 ** np.arange(-8, 3)]
    path = DoubleDescentPath(d.X_train, d.y_train, d.X_test, d.y_test, feature_counts(30), lams, seed=42)
    dd = DoubleDescentExplorer(path, p=30, lam=0.0)
    if slider == "p":
        ps = [int(p) for p in path.ps]
        return dd, dd.blitter, lambda v: setattr(dd.p, "value", v), ps + ps[-2:0:-1]
    stops = [float(v) for v in lams]
    return dd, dd.blitter, lambda v: setattr(dd.lam, "value", v), stops + stops[-2:0:-1]


BUILDERS = {
    "01 overfitting: degree": lambda: _overfitting("degree"),
    "01 overfitting: noise": lambda: _overfitting("noise"),
    "02 λ explorer": _lambda_explorer,
    "04 geometry": _geometry,
    "05 Keras λ explorer": _keras_explorer,
    "07 double descent: p": lambda: _double_descent("p"),
    "07 double descent: λ": lambda: _double_descent("λ"),
}


def build_widgets(only: str | None = None):
    """``{name: (widget, blitter, set_value, values)}`` for each widget and slider whose name
    contains ``only`` (all by default)."""
    return {name: build() for name, build in BUILDERS.items() if only is None or only in name}


def time_moves(set_value, values, n, start):
    """Set the slider ``n`` times, cycling through ``values`` from ``start``; seconds each."""
    times = []
    for i in range(start, start + n):
        v = values[i % len(values)]
        t0 = time.perf_counter()
        set_value(v)
        times.append(time.perf_counter() - t0)
    return times


def bench(n: int, rounds: int = 5, only: str | None = None) -> None:
    widgets = build_widgets(only)
    print(f"{'widget':26s} {'way':5s} {'median':>8s} {'p95':>8s}  full draws  cached titles")
    for name, (w, blitter, set_value, values) in widgets.items():
        if hasattr(w.fig.canvas, "syncing_data_url"):
            w.fig.canvas.syncing_data_url = False  # as once a browser has shown the figure
        w.fig.canvas.draw()  # as when the notebook first shows the figure
        blit, full, n_full, hits0 = [], [], 0, blitter.n_label_hits
        per = max(1, n // rounds)
        for r in range(rounds):  # interleave the two ways so both see the same load
            before = blitter.n_full_draws
            blit += time_moves(set_value, values, per, start=2 * r * per)
            n_full += blitter.n_full_draws - before
            with full_redraws(blitter):
                full += time_moves(set_value, values, per, start=(2 * r + 1) * per)
            blitter.redraw()  # take the background again (not timed)
        hits = blitter.n_label_hits - hits0
        for way, ts in (("blit", blit), ("full", full)):
            ms = np.array(ts) * 1e3
            extra = f"  {n_full}/{len(ts)}{'':8s}{hits}/{len(ts) * len(blitter.labels)}" \
                if way == "blit" else ""
            print(f"{name:26s} {way:5s} {np.median(ms):7.1f}  {np.percentile(ms, 95):7.1f}{extra}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100, help="updates per widget and way")
    parser.add_argument("--backend", choices=("agg", "ipympl", "both"), default="both")
    parser.add_argument("--only", help="time only the widgets whose name contains this text, e.g. 07")
    args = parser.parse_args()
    import matplotlib.pyplot as plt

    from helpers import setup

    setup()
    backends = ["agg", "ipympl"] if args.backend == "both" else [args.backend]
    for backend in backends:
        plt.close("all")
        plt.switch_backend("Agg" if backend == "agg" else "module://ipympl.backend_nbagg")
        print(f"\nbackend {backend}, {args.n} updates per widget and way, times in ms")
        bench(args.n, only=args.only)
    print(f"\nload average (1, 5, 15 min): {os.getloadavg()}, CPUs: {os.cpu_count()}")


if __name__ == "__main__":
    main()
