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
    # the methods without a penalty (notebook 06): one colour each, never another method's
    "early_stopping": "#661100",
    "dropout": "#999933",
    "noise": "#44AA99",      # Gaussian input noise
    "jitter": "#AA4499",     # jittered copies (data augmentation)
    "max_norm": "#DDCC77",
    "train": "#E69F00",
    "val": "#56B4E9",
    "test": "#009E73",
    "truth": "#000000",
    # the parts of the expected test error (notebook 07); the total is "test", the noise "truth"
    "bias": "#882255",
    "variance": "#332288",
}
CLASS_COLORS = ("#0072B2", "#E69F00")  # class 0, class 1


def setup(seed: int = 42) -> int:
    """Apply the course's matplotlib defaults and return ``seed`` for the caller's RNG.

    Call once per notebook, in the Setup cell. Seeds stay visible in the notebook itself
    (``rng = np.random.default_rng(seed)``); this only returns the number so every notebook
    uses the same one. ``seed`` is a whole number in [0, 2**32 - 1]. Under ``%matplotlib widget``
    every pyplot figure is then shown as a picture alone, without ipympl's header, toolbar and
    resize handle (``figure.hooks``; see ``_style_canvas``).
    """
    import matplotlib as mpl

    from helpers._counts import check_seed

    seed = check_seed(seed)

    hooks = [h for h in mpl.rcParams["figure.hooks"] if h != FIGURE_HOOK]
    mpl.rcParams.update({
        "figure.hooks": [*hooks, FIGURE_HOOK],  # every pyplot figure: _style_canvas
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


FIGURE_HOOK = "helpers.plots:_style_canvas"  # matplotlib's figure.hooks entry, set by setup()


def _style_canvas(fig):
    """Show an ipympl figure as a picture, nothing around or over it (issue 18): no "Figure N"
    header (it means nothing to a learner), no toolbar (in ipympl 0.10 it floats over the figure
    whenever the mouse is on it, wherever it is placed, and hid the y-axis labels), no resize
    handle (the layout check verifies each figure at the size it was drawn). The footer, which
    shows the mouse's coordinates under the figure, stays. Returns the canvas, or None when it
    is not an ipympl canvas (Agg, inline). Every pyplot figure gets it through ``figure.hooks``
    (:func:`setup`), every widget through :func:`widget_canvas`."""
    try:
        import ipywidgets
    except ImportError:  # pragma: no cover - ipywidgets is pinned
        return None
    canvas = fig.canvas
    if not isinstance(canvas, ipywidgets.DOMWidget):
        return None
    send_frames_as_png(canvas)
    canvas.header_visible = False
    canvas.toolbar_visible = False
    canvas.resizable = False
    return canvas


PNG_DATA_URL = "data:image/png;base64,"


def send_frames_as_png(canvas) -> None:
    """Make an ipympl canvas send every frame as a PNG, also before a browser view initialized it.

    ipympl 0.10's ``Canvas.send_binary``, while ``syncing_data_url`` is True (from the canvas's
    creation until its first view says "initialized"), replaces the PNG it was given by the raw
    RGBA pixels and sends *those* as the frame, and stores the picture in ``_data_url`` as bare
    base64 without its ``data:`` prefix. The browser loads the frame as a PNG, fails, and keeps a
    *broken* image; the view's first resize then draws that image, which throws ("drawImage ...
    in the 'broken' state"), and the figure stays empty (a 0x0 canvas) for good. It happens when
    a figure is drawn before its view is ready, e.g. during Run All while the page is busy. Here
    the instance's ``send_binary`` sends the PNG it is given and stores a loadable data URL.
    Idempotent; a canvas that is not ipympl's is left alone. Applied to every figure of the
    course by :func:`_style_canvas` and :class:`helpers.blit.Blitter`.
    """
    if getattr(canvas, "_course_png_frames", False) or not hasattr(canvas, "syncing_data_url"):
        return

    def send_binary(data):
        if canvas.syncing_data_url:  # no view yet: keep the whole picture for the first one
            import io
            from base64 import b64encode

            from PIL import Image

            pixels = canvas._last_buff.view(dtype="uint8").reshape((*canvas._last_buff.shape, 4))
            with io.BytesIO() as png:
                Image.fromarray(pixels).save(png, format="png")
                canvas._data_url = PNG_DATA_URL + b64encode(png.getvalue()).decode("ascii")
        canvas.send({"data": '{"type": "binary"}'}, buffers=[data])

    canvas.send_binary = send_binary
    canvas._course_png_frames = True


def widget_canvas(fig):
    """The figure's ipympl canvas, ready to place in a widget layout, or ``None``.

    Under ``%matplotlib widget`` (ipympl) the canvas is itself a widget: it is returned as every
    figure of the course is shown, with nothing around or over the picture (no "Figure N" header,
    no toolbar, no resize handle; see ``_style_canvas``). With any other backend (Agg in the
    tests, inline) there is no canvas widget and the caller shows the figure its own way. Every
    widget of the course builds its layout through this function.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    return _style_canvas(fig)


OUTSIDE_OK = "_course_outside_ok"  # the attribute allow_outside sets (read by the course's layout check)


def allow_outside(artist, reason: str):
    """Declare that ``artist`` (a line, a set of markers, a bar container, a step patch) may have
    data outside its axes' view limits, and why (e.g. "the fit swings beyond the fixed y range at
    high degree"). Returns ``artist``. Used by the widgets of ``helpers``; the course's layout check
    (:mod:`coursekit.layout.checks`) skips the artist's points when it looks for data outside the axes."""
    from matplotlib.artist import Artist
    from matplotlib.container import Container

    if not isinstance(artist, (Artist, Container)):
        raise ValueError(f"artist must be a matplotlib Artist or Container, got {type(artist).__name__}")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"reason must say why the data may fall outside the axes, got {reason!r}")
    setattr(artist, OUTSIDE_OK, reason)
    return artist
