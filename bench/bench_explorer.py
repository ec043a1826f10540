"""Time the λ explorer of notebook 02: one update = slider change + recompute + redraw.

    .venv/bin/python bench/bench_explorer.py [N]

Runs under Agg, cycling λ over the slider's stops and the kinds (L2, L1, none). Two figures:

* "slider update": what a slider move does: a table look-up, artists updated in place, then a
  blit (saved background + only the changing artists). A kind switch changes the static parts
  (error curves, limits), so that update does a full ``fig.canvas.draw()``; it is included.
* "full redraw": the same updates each followed by a full ``fig.canvas.draw()``, for reference.

Prints median and 95th percentile in ms and the load average (other jobs on a shared machine
slow the draw). Target: slider update median < 50 ms on an idle 2-core CPU.
"""

import os
import sys
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from helpers import load_curve_1d, setup  # noqa: E402
from helpers.penalized_path import PenalizedPath, PenalizedPathExplorer  # noqa: E402


def run(explorer, path, n, full):
    kinds = ["l2"] * 15 + ["l1"] * 15 + ["none"]
    times, switches = [], []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        t0 = time.perf_counter()
        switches.append(explorer.kind.value != kind)
        if switches[-1]:
            explorer.kind.value = kind
        elif kind != "none":
            stops = path.lams[kind]
            explorer.slider.value = float(stops[(7 * i) % stops.size])
        if full:
            explorer.fig.canvas.draw()
        times.append(time.perf_counter() - t0)
    return np.array(times), np.array(switches)


def main(n: int = 200) -> None:
    setup()
    d = load_curve_1d()
    start = time.perf_counter()
    path = PenalizedPath(d.X_train, d.y_train, d.X_test[:100], d.y_test[:100], degree=12)
    explorer = PenalizedPathExplorer(path)
    print(f"construction (all fits over both λ grids + figure): "
          f"{time.perf_counter() - start:.2f} s")
    explorer.fig.canvas.draw()
    for label, full in (("slider update (blit)", False), ("full redraw", True)):
        times, switches = run(explorer, path, n, full)
        for what, ms in (("all", times * 1e3), ("slider moves only", times[~switches] * 1e3),
                         ("kind switches only", times[switches] * 1e3)):
            print(f"{label}, {what} ({ms.size}): median {np.median(ms):.1f} ms, "
                  f"95th percentile {np.percentile(ms, 95):.1f} ms, max {ms.max():.1f} ms")
    print(f"load average (1, 5, 15 min): {os.getloadavg()}, CPUs: {os.cpu_count()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
