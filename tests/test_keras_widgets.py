"""Tests for helpers.keras_widgets (Agg backend, no browser, no TensorFlow)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers.keras_widgets import KerasLambdaExplorer, boundary_lines


def _inputs(n_lams=3, n=6, n_bins=5):
    lams = np.logspace(-4, -2, n_lams)
    xx, yy = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n))
    grids = np.stack([1 / (1 + np.exp(-(k + 1) * xx)) for k in range(n_lams)])
    edges = np.linspace(-1, 1, n_bins + 1)
    counts = np.arange(n_lams * n_bins, dtype=float).reshape(n_lams, n_bins) + 1
    X = np.array([[0.0, 0.0], [0.5, 0.5]])
    y = np.array([0, 1])
    return dict(lams=lams, proba_grids=grids, xx=xx, yy=yy, edges=edges, counts=counts, X=X, y=y)


def test_slider_updates_image_bars_and_titles():
    args = _inputs()
    ex = KerasLambdaExplorer(**args, labels=["a", "b", "c"])
    np.testing.assert_allclose(ex.image.get_array(), args["proba_grids"][0])
    ex.slider.value = 2
    assert ex.index == 2
    np.testing.assert_allclose(ex.image.get_array(), args["proba_grids"][2])
    np.testing.assert_allclose(ex.bars.get_data().values, args["counts"][2])
    assert "1e-02" in ex.ax_map.get_title() and ex.ax_map.get_title().endswith("c")
    assert f"{int(args['counts'][2, 2])} weights in the zero bin" in ex.ax_hist.get_title()
    assert ex.contour is not None
    assert ex.slider.options[0][0] == "1e-04"
    plt.close(ex.fig)


def test_slider_moves_the_boundary_and_blits():
    args = _inputs()
    # linear in x, so the interpolated p = 0.5 line is exactly x = c
    args["proba_grids"] = np.stack([0.5 + 0.2 * (args["xx"] - c) for c in (-0.5, 0, 0.5)])
    ex = KerasLambdaExplorer(**args)
    full = ex.blitter.n_full_draws
    assert full == 1 and ex.blitter.has_background
    xs0 = np.concatenate(ex.contour.get_segments())[:, 0]
    np.testing.assert_allclose(xs0, -0.5, atol=1e-9)  # p = 0.5 where x = -0.5
    pixels0 = np.asarray(ex.fig.canvas.buffer_rgba()).copy()
    ex.slider.value = 2
    xs2 = np.concatenate(ex.contour.get_segments())[:, 0]
    np.testing.assert_allclose(xs2, 0.5, atol=1e-9)
    assert ex.blitter.n_full_draws == full  # background reused
    assert np.any(np.asarray(ex.fig.canvas.buffer_rgba()) != pixels0)
    for artist in (ex.image, ex.points, ex.contour, ex.bars):
        assert artist.get_animated() and artist in ex.blitter.artists
    assert ex.blitter.labels == [ex.ax_map.title, ex.ax_hist.title]
    ex.slider.value = 0  # seen before: both titles come from the cache
    assert ex.blitter.n_label_hits == 2
    np.testing.assert_array_equal(np.asarray(ex.fig.canvas.buffer_rgba()), pixels0)
    plt.close(ex.fig)


def test_boundary_lines_match_ax_contour():
    args = _inputs(n=15)
    grid = 1 / (1 + np.exp(-3 * (args["xx"] + args["yy"] ** 2 - 0.3)))
    fig, ax = plt.subplots()
    cs = ax.contour(args["xx"], args["yy"], grid, levels=[0.5])
    want = np.concatenate(cs.allsegs[0])
    got = np.concatenate(boundary_lines(args["xx"], args["yy"], grid))
    assert got.shape == want.shape
    np.testing.assert_allclose(np.sort(got, axis=0), np.sort(want, axis=0), atol=1e-9)
    plt.close(fig)
    with pytest.raises(ValueError, match="^grid must be a 2-D array"):  # not contourpy's TypeError
        boundary_lines(args["xx"], args["yy"], None)


def test_contour_is_replaced_not_accumulated():
    ex = KerasLambdaExplorer(**_inputs())
    n_before = len(ex.ax_map.collections)
    for i in (1, 2, 0, 1):
        ex.update(i)
    assert len(ex.ax_map.collections) == n_before
    plt.close(ex.fig)


@pytest.mark.parametrize("key, value, match", [
    ("lams", np.array([1e-3, 1e-4, 1e-2]), "lams"),
    ("proba_grids", np.zeros((2, 6, 6)), "proba_grids"),
    ("counts", np.zeros((3, 4)), "counts"),
    ("yy", np.zeros((5, 6)), "yy"),
    ("y", np.array([0, 1, 1]), "y"),
])
def test_bad_input_names_argument(key, value, match):
    args = _inputs()
    args[key] = value
    with pytest.raises(ValueError, match=match):
        KerasLambdaExplorer(**args)


def test_bad_index_and_labels():
    with pytest.raises(ValueError, match="labels"):
        KerasLambdaExplorer(**_inputs(), labels=["x"])
    with pytest.raises(ValueError, match="penalty"):
        KerasLambdaExplorer(**_inputs(), penalty="nope")
    ex = KerasLambdaExplorer(**_inputs())
    with pytest.raises(ValueError, match="index"):
        ex.update(3)
    plt.close(ex.fig)


def test_default_explorer_sends_png_frames_that_change_with_the_slider():
    ex = KerasLambdaExplorer(**_inputs())
    first = bytes(ex.frame.value)
    assert first.startswith(b"\x89PNG")
    ex.slider.value = 1
    assert bytes(ex.frame.value).startswith(b"\x89PNG") and bytes(ex.frame.value) != first
    assert ex.ui.children[1] is ex.frame


def test_the_frame_is_shown_at_its_natural_size():
    """Issue 18: stretched to the output's width, the 900 px frame was blurred; now one CSS pixel
    per pixel rendered, as an ipympl figure of the same size."""
    ex = KerasLambdaExplorer(**_inputs())
    width, height = ex.fig.canvas.get_width_height()
    assert ex.frame.layout.width == f"{width}px" and ex.frame.layout.height == "auto"
    assert ex.frame.layout.max_width == "100%"
    assert ex.frame.value[:8] == b"\x89PNG\r\n\x1a\n"
    plt.close(ex.fig)
    fig = plt.figure()
    fig.subplots(1, 2)
    given = KerasLambdaExplorer(**_inputs(), fig=fig)  # a figure of the caller's: its own size
    assert given.frame.layout.width is None
    plt.close(fig)
