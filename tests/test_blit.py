"""Tests for helpers.blit (Agg backend): background reuse, pixels of the animated artists, resets."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backend_bases import ResizeEvent

from helpers.blit import Blitter


@pytest.fixture
def scene():
    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.plot([0, 1], [0, 1], color="k")  # static
    ax.set(xlim=(0, 1), ylim=(0, 1))
    (line,) = ax.plot([0.0, 1.0], [0.2, 0.2], color="r", lw=4)
    text = ax.text(0.05, 0.9, "a", transform=ax.transAxes)
    draws = []
    fig.canvas.mpl_connect("draw_event", lambda _e: draws.append(1))
    blitter = Blitter(fig, [line, text])
    yield fig, ax, line, text, blitter, draws
    plt.close(fig)


def _pixels(fig):
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def _red_rows(fig):
    """Rows of the canvas holding pure-ish red pixels (the animated line)."""
    px = _pixels(fig).astype(int)
    red = (px[..., 0] > 200) & (px[..., 1] < 80) & (px[..., 2] < 80)
    return np.flatnonzero(red.any(axis=1))


def test_artists_are_animated_and_left_out_of_full_draws(scene):
    fig, ax, line, text, blitter, draws = scene
    assert line.get_animated() and text.get_animated()
    assert blitter.redraw() is True  # no background yet: one full draw
    assert len(draws) == 1 and blitter.n_full_draws == 1 and blitter.has_background
    rows0 = _red_rows(fig)
    assert rows0.size  # drawn on top of the background by the draw_event handler
    background = np.asarray(blitter._background)
    assert not (background[..., 0] > 200).all()
    red = (background[..., 0] > 200) & (background[..., 1] < 80) & (background[..., 2] < 80)
    assert not red.any()  # the background holds only the static parts


def test_redraw_reuses_the_background_and_moves_the_pixels(scene):
    fig, ax, line, text, blitter, draws = scene
    blitter.redraw()
    rows0 = _red_rows(fig)
    static0 = _pixels(fig)
    line.set_ydata([0.8, 0.8])
    text.set_text("b")
    assert blitter.redraw() is False
    assert len(draws) == 1  # no second full draw
    rows1 = _red_rows(fig)
    assert rows1.size and rows1.mean() < rows0.mean() - 5  # moved up (row 0 is the top)
    assert not set(rows0) & set(rows1)  # the old line was erased by the background
    changed = np.any(_pixels(fig) != static0, axis=-1)
    assert changed.any() and changed.mean() < 0.2  # only the animated region changed


def test_resize_and_invalidate_force_a_full_draw(scene):
    fig, ax, line, text, blitter, draws = scene
    blitter.redraw()
    blitter.invalidate()
    assert blitter.redraw() is True and len(draws) == 2
    fig.set_size_inches(4, 2)  # pixel size changes: the background is stale
    assert not blitter.has_background
    assert blitter.redraw() is True and len(draws) == 3
    ResizeEvent("resize_event", fig.canvas)._process()
    assert not blitter.has_background
    blitter.redraw()
    assert len(draws) == 4
    assert blitter.redraw() is False and len(draws) == 4


def test_savefig_does_not_leave_a_background_with_the_animated_artists(scene):
    fig, ax, line, text, blitter, draws = scene
    blitter.redraw()
    fig.savefig(io.BytesIO(), format="png", dpi=fig.dpi)
    assert not blitter.has_background  # that draw included the animated artists
    assert blitter.redraw() is True
    line.set_ydata([0.8, 0.8])
    blitter.redraw()
    assert _red_rows(fig).mean() < fig.canvas.get_width_height()[1] / 2  # only the new line


def test_add_and_disconnect(scene):
    fig, ax, line, text, blitter, draws = scene
    (other,) = ax.plot([0, 1], [0.5, 0.5], color="b")
    blitter.add(other, other)
    assert other.get_animated() and blitter.artists.count(other) == 1
    blitter.disconnect()
    fig.canvas.draw()
    assert blitter.n_full_draws == 0
    assert blitter.redraw() is True  # reconnects to the canvas, then draws in full
    assert blitter.n_full_draws == 1


def test_labels_are_cached_per_string_and_match_a_fresh_draw():
    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.set_title("start")
    (line,) = ax.plot([0, 1], [0.5, 0.5], color="r")
    blitter = Blitter(fig, [line], labels=[ax.title])
    assert ax.title.get_animated() and ax.title in blitter.labels
    blitter.redraw()
    frames = {}
    for s in ("λ = 1e-03: 12 weights", "λ = 1e-02: 40 weights"):
        ax.set_title(s)
        blitter.redraw()
        frames[s] = _pixels(fig)
    assert blitter.n_label_hits == 0 and not np.array_equal(*frames.values())
    ax.set_title("λ = 1e-03: 12 weights")  # seen before: pasted from the cache
    blitter.redraw()
    assert blitter.n_label_hits == 1
    np.testing.assert_array_equal(_pixels(fig), frames["λ = 1e-03: 12 weights"])
    blitter.invalidate()  # a new background empties the cache
    blitter.redraw()
    assert blitter.n_label_hits == 1
    np.testing.assert_array_equal(_pixels(fig), frames["λ = 1e-03: 12 weights"])
    plt.close(fig)


def _ipympl_figure():
    """A figure on an ipympl canvas with no browser view (pyplot's backend left as it was)."""
    from matplotlib.figure import Figure

    backend = plt.get_backend()
    try:
        from ipympl.backend_nbagg import Canvas, FigureManager  # importing it selects ipympl
    finally:
        plt.switch_backend(backend)
    fig = Figure(figsize=(3, 2), dpi=50)
    canvas = Canvas(fig)
    FigureManager(canvas, 1)  # its web socket is the canvas itself (a dummy comm here)
    return fig, canvas


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ipympl's Toolbar, not ours
def test_ipympl_canvas_no_frame_before_a_view_then_blit_without_draw_idle():
    fig, canvas = _ipympl_figure()
    ax = fig.add_subplot()
    (line,) = ax.plot([0, 1], [0.2, 0.2])
    blitter = Blitter(fig, [line])
    idle = []
    canvas.draw_idle = lambda: idle.append(1)
    assert canvas.syncing_data_url  # no browser view yet
    blitter.redraw()
    assert idle == [1] and blitter.n_full_draws == 0 and canvas._data_url is None
    canvas.syncing_data_url = False  # what the view's "initialized" message does
    canvas.draw()  # the view's first draw request
    assert blitter.n_full_draws == 1 and blitter.has_background
    line.set_ydata([0.8, 0.8])
    assert blitter.redraw() is False
    assert idle == [1] and blitter.n_full_draws == 1  # no draw_idle on the fast path
    assert canvas._png_is_old is False  # blit sent the frame (a diff image)
    assert canvas._current_image_mode == "diff"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ipympl's Toolbar, not ours
def test_ipympl_frame_sent_before_a_view_gets_a_loadable_data_url():
    fig, canvas = _ipympl_figure()
    (line,) = fig.add_subplot().plot([0, 1], [0.2, 0.8])
    Blitter(fig, [line])
    sent = []
    canvas.send = lambda content, buffers=None: sent.append(buffers)
    assert canvas.syncing_data_url
    canvas.draw()  # any early render: ipympl 0.10 stores bare base64 and sends raw pixels here
    assert canvas._data_url.startswith("data:image/png;base64,iVBOR")
    frames = [bytes(memoryview(b[0])) for b in sent if b]
    assert frames and all(f.startswith(b"\x89PNG") for f in frames)  # a PNG the browser can load


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ipympl's Toolbar, not ours
@pytest.mark.parametrize("synced", [True, False], ids=["before a view", "after"])
def test_every_styled_ipympl_figure_sends_png_frames(synced):
    """Not only the blitted ones: every figure of the course goes through _style_canvas."""
    from helpers.plots import _style_canvas

    fig, canvas = _ipympl_figure()
    fig.add_subplot().plot([0, 1], [0.2, 0.8])
    assert _style_canvas(fig) is canvas
    _style_canvas(fig)  # twice: still one wrapper
    canvas.syncing_data_url = synced
    sent = []
    canvas.send = lambda content, buffers=None: sent.append(buffers)
    canvas.draw()
    frames = [bytes(memoryview(b[0])) for b in sent if b]
    assert len(frames) == 1 and frames[0].startswith(b"\x89PNG")
    assert (canvas._data_url or "").startswith("data:image/png;base64,") is synced




def _browser_image(canvas):
    """What ipympl's page would show: each frame the kernel sends, pasted as the page pastes it (a
    "full" frame replaces the picture, a "diff" frame is drawn over it: its 0 pixels are transparent);
    ``drop`` frames (by number) never reach the page, as when two arrive before the first loads."""
    from PIL import Image

    shown = {"pixels": None, "frames": 0, "drop": set()}

    def receive(png):
        frame = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
        shown["frames"] += 1
        if shown["frames"] in shown["drop"]:
            return
        if canvas._current_image_mode == "full" or shown["pixels"] is None:
            shown["pixels"] = frame.copy()
        else:
            keep = frame[..., 3] > 0
            shown["pixels"][keep] = frame[keep]

    canvas.send_binary = receive
    return shown


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ipympl's Toolbar, not ours
def test_a_keyframe_repairs_a_frame_the_page_dropped():
    """Issue 25: lesson 02's explorer lost its tick labels after a toggle in Chromium. The page
    dropped a diff frame; later diffs cannot repair what they do not carry. The key frame does."""
    import asyncio

    from helpers.blit import KEYFRAME_DELAY_S

    fig, canvas = _ipympl_figure()
    ax = fig.add_subplot()
    ax.set(xlim=(0, 1), ylim=(0, 1))
    (line,) = ax.plot([0, 1], [0.2, 0.2], color="r", lw=3)
    blitter = Blitter(fig, [line])
    canvas.syncing_data_url = False  # a browser view is there
    shown = _browser_image(canvas)
    kernel = lambda: np.asarray(canvas.get_renderer().buffer_rgba())  # noqa: E731

    async def moves(drop):
        shown["drop"] = {shown["frames"] + d for d in drop}
        for y in (0.4, 0.6, 0.8):
            line.set_ydata([y, y])
            blitter.redraw()
        same_before = np.array_equal(shown["pixels"], kernel())
        await asyncio.sleep(KEYFRAME_DELAY_S + 0.1)  # quiet: the timer sends the key frame
        return same_before

    canvas.draw()  # the view's first draw request
    assert asyncio.run(moves(drop=[])) and blitter.n_keyframes == 1  # nothing lost: nothing to repair
    assert asyncio.run(moves(drop=[2])) is False  # the second move's diff never arrived: a stale line
    assert np.array_equal(shown["pixels"], kernel()) and blitter.n_keyframes == 2  # repaired
    ax.set_title("static part changed")
    blitter.invalidate()
    assert blitter.redraw() is True and canvas._current_image_mode == "full"  # a full draw: a full frame
    blitter.disconnect()
    assert blitter._keyframe is None


def test_no_keyframe_without_a_browser(scene):
    fig, ax, line, text, blitter, draws = scene
    blitter.redraw()
    line.set_ydata([0.8, 0.8])
    blitter.redraw()
    assert blitter._keyframe is None and blitter.send_keyframe() is False and blitter.n_keyframes == 0
