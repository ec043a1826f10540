"""Time the article's Keras pair trained the straightforward way and the fast way (notebook 05).

    python bench/bench_keras.py [--epochs 300] [--seeds 3]

Both ways train the same networks (model 1: no regularization; model 2: l1(0.001) on both hidden
kernels) from the same initial weights, for the same number of epochs, batch size 32, on the
100 training points of ``load_moons_2d``, in one process:

* straightforward: ``model.fit(X, y, epochs=E, batch_size=32, validation_data=(X_val, y_val))``
  on a model compiled with ``steps_per_execution=1`` (what the article's code does);
* fast: :func:`helpers.keras_tools.fit_fast`, a repeated ``tf.data`` pipeline in one ``fit`` call
  with a large ``steps_per_execution`` and no per-epoch validation.

Each timing includes building the training graph (a fresh model per run, both ways). Prints the
time of each pair, the ratio, and the test accuracies of both ways over the seeds (the fast way
should match within the seed spread). Also times a slider update of the λ explorer (Agg).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from helpers import load_moons_2d
from helpers.keras_tools import (
    accuracy,
    build_mlp,
    fit_fast,
    fit_plain,
    predict_proba,
    reset_model,
)


def train_pair(data, epochs: int, seed: int, fast: bool) -> tuple[float, dict]:
    seconds, acc = 0.0, {}
    for penalty in ("none", "l1"):
        model = build_mlp(penalty, 0.001, steps_per_execution=1000000 if fast else 1)
        reset_model(model, seed)
        start = time.perf_counter()
        if fast:
            fit_fast(model, data.X_train, data.y_train, epochs, seed=seed)
        else:
            fit_plain(model, data.X_train, data.y_train, epochs, data.X_val, data.y_val)
        seconds += time.perf_counter() - start
        acc[penalty] = accuracy(data.y_test, predict_proba(model, data.X_test))
    return seconds, acc


def widget_update_ms(repeats: int = 20) -> dict[str, float]:
    """Median milliseconds of: the explorer's update path alone (artists changed, no render),
    one slider move with a full Agg render, and a full render of an empty 2-axes figure of the
    same size (the floor any matplotlib redraw pays on this machine)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers import setup
    from helpers.keras_widgets import KerasLambdaExplorer

    setup()
    lams = np.logspace(-5, -2, 6)
    xx, yy = np.meshgrid(np.linspace(-2, 3, 100), np.linspace(-1.75, 2.25, 100))
    grids = np.stack([1 / (1 + np.exp(-(k + 1) * (xx - 0.5 * yy))) for k in range(lams.size)])
    edges = np.linspace(-0.4, 0.4, 82)
    counts = np.random.default_rng(0).integers(0, 5000, (lams.size, 81)).astype(float)
    X = np.random.default_rng(1).normal(size=(100, 2))
    y = (X[:, 0] > 0).astype(float)
    ex = KerasLambdaExplorer(lams, grids, xx, yy, edges, counts, X, y)
    empty, _ = plt.subplots(1, 2, figsize=(10, 4))

    def median_ms(action) -> float:
        action(0)
        times = []
        for i in range(repeats):
            start = time.perf_counter()
            action(i)
            times.append(time.perf_counter() - start)
        return 1000 * float(np.median(times))

    def slider_and_render(i):
        ex.slider.value = (i + 1) % lams.size  # under Agg, draw_idle renders right away

    out = {"slider + full render": median_ms(slider_and_render),
           "empty 2-axes figure render": median_ms(lambda i: empty.canvas.draw())}
    ex.fig.canvas.draw_idle = lambda: None  # measure our update path alone
    out["update path alone"] = median_ms(lambda i: ex.update((i + 1) % lams.size))
    plt.close("all")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    import tensorflow as tf  # after helpers.keras_tools has set TF_CPP_MIN_LOG_LEVEL

    tf.get_logger().setLevel("ERROR")  # a fresh model per timed run retraces on purpose
    data = load_moons_2d()
    slow_t, fast_t = [], []
    slow_acc = {"none": [], "l1": []}
    fast_acc = {"none": [], "l1": []}
    for seed in range(args.seeds):
        t, acc = train_pair(data, args.epochs, seed, fast=False)
        slow_t.append(t)
        for k, v in acc.items():
            slow_acc[k].append(v)
        t2, acc2 = train_pair(data, args.epochs, seed, fast=True)
        fast_t.append(t2)
        for k, v in acc2.items():
            fast_acc[k].append(v)
        print(f"seed {seed}: straightforward {t:7.1f} s, fast {t2:5.1f} s, ratio {t / t2:5.1f}x | "
              f"test acc none {acc['none']:.3f} / {acc2['none']:.3f}, "
              f"l1 {acc['l1']:.3f} / {acc2['l1']:.3f}", flush=True)
    ratio = sum(slow_t) / sum(fast_t)
    print(f"\npair of models, {args.epochs} epochs, batch 32, mean over {args.seeds} seeds:")
    print(f"  straightforward fit: {np.mean(slow_t):7.1f} s")
    print(f"  fit_fast:            {np.mean(fast_t):7.1f} s")
    print(f"  ratio:               {ratio:7.1f}x")
    for k in ("none", "l1"):
        s, f = np.array(slow_acc[k]), np.array(fast_acc[k])
        print(f"  test acc {k:>4}: straightforward {s.mean():.3f} ± {s.std(ddof=1) if s.size > 1 else 0:.3f}"
              f", fast {f.mean():.3f} ± {f.std(ddof=1) if f.size > 1 else 0:.3f}")
    print("\nλ explorer, median of 20 (Agg):")
    for name, ms in widget_update_ms().items():
        print(f"  {name:>27}: {ms:6.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
