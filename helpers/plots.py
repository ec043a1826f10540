"""Shared plotting conventions: one colour-blind-safe palette, opt-in plot defaults, and the
one place a widget decides how its figure is shown.

Nothing here runs on import; notebooks call :func:`setup` once in their Setup cell.
"""

from __future__ import annotations

# Okabe-Ito palette. The same colour means the same model in every notebook.
COLORS = {
    "none": "#555555",   # no regularization
    "l2": "#0072B2",     # L2 / ridge / weight decay
    "l1": "#D55E00",     # L1 / lasso
    "prox": "#CC79A7",   # L1 with proximal (soft-thresholding) steps
    "train": "#E69F00",
    "val": "#56B4E9",
    "test": "#009E73",
    "truth": "#000000",
}
CLASS_COLORS = ("#0072B2", "#E69F00")  # class 0, class 1


def setup(seed: int = 42) -> int:
    """Apply the course's matplotlib defaults and return ``seed`` for the caller's RNG.

    Call once per notebook, in the Setup cell. Seeds stay visible in the notebook itself
    (``rng = np.random.default_rng(seed)``); this only returns the number so every notebook
    uses the same one. ``seed`` is a whole number in [0, 2**32 - 1].
    """
    import matplotlib as mpl

    from helpers._counts import check_seed

    seed = check_seed(seed)

    mpl.rcParams.update({
        "figure.figsize": (6.4, 3.6),
        "figure.dpi": 90,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
        "legend.frameon": False,
    })
    return seed


def widget_canvas(fig):
    """The figure's ipympl canvas, ready to place in a widget layout, or ``None``.

    Under ``%matplotlib widget`` (ipympl) the canvas is itself a widget: it is returned with its
    "Figure N" header hidden (it means nothing to a learner). With any other backend (Agg in the
    tests, inline) there is no canvas widget and the caller shows the figure its own way. Every
    widget of the course builds its layout through this function.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    try:
        import ipywidgets
    except ImportError:  # pragma: no cover - ipywidgets is pinned
        return None
    canvas = fig.canvas
    if not isinstance(canvas, ipywidgets.DOMWidget):
        return None
    canvas.header_visible = False
    return canvas
