"""Draw the README's figure: the article's two Keras networks, decision boundaries and weight histograms.

    python tools/make_readme_figure.py      # writes docs/keras_experiment.png (about 20 s)

Trains the unregularized and the ``l1(0.001)`` network exactly as notebook 05 does (seed 42,
300 epochs, batches of 32, Adam) and draws one row per model: its decision boundary over the
training and test points, and a histogram of its hidden weights (log count axis, zero bin visible).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "keras_experiment.png"
SEED, EPOCHS = 42, 300


def main() -> int:
    import keras

    from helpers import COLORS, load_moons_2d, setup
    from helpers.keras_tools import (
        accuracy,
        build_mlp,
        decision_grid,
        fit_fast,
        hidden_kernels,
        hist_edges,
        predict_proba,
        sparsity_counts,
        weight_hist,
    )
    from helpers.plots import CLASS_COLORS

    setup()
    data = load_moons_2d()
    fig, axes = plt.subplots(2, 2, figsize=(8.0, 6.0), dpi=80, layout="constrained")
    edges = hist_edges()
    for row, (kind, label) in enumerate([("none", "no regularization"), ("l1", "L1, λ = 0.001")]):
        keras.utils.set_random_seed(SEED)
        model = build_mlp(kind)
        fit_fast(model, data.X_train, data.y_train, EPOCHS, seed=SEED)
        train_acc = accuracy(data.y_train, predict_proba(model, data.X_train))
        test_acc = accuracy(data.y_test, predict_proba(model, data.X_test))
        xx, yy, proba = decision_grid(model)
        ax = axes[row, 0]
        ax.contourf(xx, yy, proba, levels=[0, 0.5, 1], colors=CLASS_COLORS, alpha=0.15)
        ax.contour(xx, yy, proba, levels=[0.5], colors=COLORS[kind])
        for cls in (0, 1):
            pts = data.X_train[data.y_train == cls]
            ax.scatter(pts[:, 0], pts[:, 1], s=14, color=CLASS_COLORS[cls], edgecolor="k", lw=0.4)
        ax.set(title=f"{label}: train {train_acc:.2f}, test {test_acc:.2f}", xlabel="$x_1$", ylabel="$x_2$")
        kernels = hidden_kernels(model)
        frac = sum(c["small"] for c in sparsity_counts(kernels)) / sum(k.size for k in kernels)
        ax = axes[row, 1]
        ax.stairs(np.maximum(weight_hist(kernels, edges), 0.8), edges, fill=True, color=COLORS[kind])
        ax.set(yscale="log", ylim=(0.8, None), xlabel="hidden weight $w$", ylabel="count (log)",
               title=f"{frac:.0%} of hidden weights have |w| < 0.001")
    fig.suptitle("The article's experiment in Keras 3: one run (seed 42); lesson 05 measures 20 sets")
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT, dpi=80)
    print(f"wrote {OUT.relative_to(OUT.parent.parent)} ({OUT.stat().st_size // 1000} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
