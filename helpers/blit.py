"""Blitting for the course's widgets: redraw only what a slider changes.

A full ``fig.canvas.draw()`` redraws everything (ticks, tick labels, legends, static points);
on a 2-core machine that is 100-400 ms per frame, mostly text. Blitting draws the static parts
once, keeps that image as a *background*, and on each slider move pastes the background back and
draws only the artists that change (marked ``animated=True``, which makes a full draw skip them).

:class:`Blitter` is shared by the widgets of notebooks 01, 02, 04, 05, 06 and 07. How it works with
the backends the course uses:

* **Agg** (tests, benchmarks): ``canvas.draw()`` renders to memory and fires ``draw_event``;
  ``restore_region`` / ``draw_artist`` work on the same buffer; ``canvas.blit`` does nothing.
* **ipympl** (``%matplotlib widget``): the canvas is matplotlib's WebAgg core. Until a browser
  view has initialized the canvas (``canvas.syncing_data_url`` is then True) nothing is
  rendered: :meth:`Blitter.redraw` only calls ``draw_idle`` (see there why). ``canvas.blit``
  marks the buffer as new and sends the browser a *diff* image (only the changed pixels, PNG);
  ``canvas.draw_idle()`` instead asks the browser to request a full draw, which comes back as
  ``canvas.draw()`` (a full render, then ``draw_event``). The browser also asks for a full draw
  when the figure is first shown, on a resize (after a ``resize_event``) and on a change of the
  device pixel ratio; each of those fires ``draw_event`` and the background is taken again.
  The fast path below never calls ``draw_idle``. Every canvas a Blitter uses sends its frames
  as PNG, also before a view exists (:func:`helpers.plots.send_frames_as_png`, an ipympl 0.10 bug).

Text is slow to draw (matplotlib renders it glyph by glyph: a two-line title costs more than
all the lines and points of a widget). Texts passed as ``labels`` (titles and readouts that no
other animated artist overlaps) are drawn first on the background and their pixels are kept
per string, so showing a value seen before (dragging a slider back) pastes the saved pixels.

**Key frames** (issue 25). ipympl sends each update as a *diff* against the previous frame, and the
browser pastes it over what it shows. The browser keeps one image loader per figure: when two
frames arrive before the first has loaded (a busy page, a toggle that re-renders the controls, a
fast drag, a high pixel ratio), the first is dropped, and every later diff lands on a picture the
kernel no longer knows about: tick labels vanish, grid lines break, old glyphs stay (matplotlib
issue 19116). Diffs cannot repair it, since they only carry what changed in the kernel. So after
every draw, once the figure has been quiet for :data:`KEYFRAME_DELAY_S`, :meth:`Blitter.send_keyframe`
sends the current pixels once as a *full* image (a few tens of ms of PNG encoding, off the path of
a move); a full draw (a toggle) is sent as a full image at once too. Under Agg nothing is sent.

The background is invalid (and the next :meth:`Blitter.redraw` does a full draw) before the
first draw, after a ``resize_event``, when the figure's pixel size no longer matches, after a
draw made for ``savefig`` (it includes the animated artists), and after :meth:`invalidate`
(call it when a static part changed, e.g. axis limits).
"""

from __future__ import annotations

import asyncio

from matplotlib.transforms import Bbox

from helpers.plots import send_frames_as_png

__all__ = ["KEYFRAME_DELAY_S", "Blitter", "send_whole_picture"]

KEYFRAME_DELAY_S = 0.25  # quiet time after a draw before the full picture is sent again (ipympl)


def _is_web(canvas) -> bool:
    """A canvas that sends its pictures to a browser as diffs (ipympl, WebAgg)."""
    return hasattr(canvas, "get_diff_image") and hasattr(canvas, "_force_full")


def send_whole_picture(canvas) -> bool:
    """Send a web canvas's current pixels to the browser as one full image (not a diff), without
    rendering again; returns True if one was sent. Used by :meth:`Blitter.send_keyframe` and by the
    course's browser check that the page shows the kernel's picture (``coursekit.lab_browser``)."""
    manager = getattr(canvas, "manager", None)
    if not _is_web(canvas) or manager is None:
        return False
    try:
        canvas._force_full = True
        canvas._png_is_old = True
        manager.refresh_all()
    except Exception:  # a figure closed meanwhile: nothing to repair, and never a traceback
        return False
    return True


def _sequence(items, name: str, kind: type) -> list:
    """``items`` as a list, after checking each is a ``kind`` (an Artist, a Text)."""
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, kind) for item in items):
        raise ValueError(f"{name} must be a list of matplotlib {kind.__name__} objects, got {items!r}")
    return list(items)


class Blitter:
    """Keep a figure's static background and redraw only ``artists`` on :meth:`redraw`.

    ``Blitter(fig, artists)`` marks every artist ``animated=True`` (so full draws leave them
    out), listens to the canvas's ``draw_event`` (to save the background and draw the animated
    artists on top) and ``resize_event`` (to drop the background). Artists are drawn in list
    order, so put an image before the points that lie on it. Artists may be added or removed
    later (:meth:`add`, :meth:`remove`), e.g. a contour set recreated on each update.

    ``labels``: animated texts (e.g. ``ax.title`` whose text changes) that lie where no other
    animated artist and no other label draws. They are drawn before the other artists, and
    the pixels of each (string, position, colour, size) are cached until the next full draw.

    ``n_full_draws`` counts the full draws seen (any ``draw_event``), for tests and benchmarks;
    ``n_label_hits`` the labels pasted from the cache. Used by the widgets of notebooks 01, 02,
    04, 05, 06 and 07.
    """

    MAX_CACHED_LABELS = 256

    def __init__(self, fig, artists=(), labels=()):
        from matplotlib.artist import Artist
        from matplotlib.figure import Figure
        from matplotlib.text import Text

        if not isinstance(fig, Figure):
            raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
        artists, labels = _sequence(artists, "artists", Artist), _sequence(labels, "labels", Text)
        self.fig = fig
        self.artists = []
        self.labels = []
        self.add(*artists)
        for label in labels:
            label.set_animated(True)
            self.labels.append(label)
        self._label_cache = {}
        self.n_label_hits = 0
        self._background = None
        self._background_size = None
        self.n_full_draws = 0
        self.n_keyframes = 0
        self._keyframe = None  # the pending timer of send_keyframe, if any
        self._canvas = None
        self._cids = []
        self._connect()

    def _connect(self):
        """(Re)connect to the figure's current canvas (pyplot may swap it for another backend)."""
        canvas = self.fig.canvas
        if canvas is self._canvas:
            return
        for cid in self._cids:
            self._canvas.mpl_disconnect(cid)
        self._canvas = canvas
        self._cids = [canvas.mpl_connect("draw_event", self._on_draw),
                      canvas.mpl_connect("resize_event", self._on_resize)]
        self._background = None
        send_frames_as_png(canvas)  # ipympl: frames sent before a browser view must load

    def add(self, *artists) -> None:
        """Mark ``artists`` animated and draw them (after the others) on each redraw."""
        for artist in artists:
            if artist not in self.artists:
                artist.set_animated(True)
                self.artists.append(artist)

    def invalidate(self) -> None:
        """Drop the background: the next :meth:`redraw` does a full draw (static parts changed)."""
        self._background = None
        self._label_cache.clear()

    @property
    def has_background(self) -> bool:
        """True when the saved background matches the figure's current pixel size."""
        return (self._background is not None
                and self._background_size == self._size())

    def _size(self):
        return tuple(round(v) for v in self.fig.bbox.size)

    def _on_draw(self, event=None):
        """After a full draw (static parts only): save it as the background, add the rest."""
        canvas = self.fig.canvas
        if event is not None and (event.canvas is not canvas or canvas.is_saving()):
            self.invalidate()  # a savefig draw: other resolution, animated artists in it
            return
        self.n_full_draws += 1
        self._background = canvas.copy_from_bbox(self.fig.bbox)
        self._background_size = self._size()
        self._label_cache.clear()
        self._draw_artists()
        self._keyframe_soon()

    def _on_resize(self, _event=None):
        self.invalidate()

    def _draw_label(self, text, canvas, renderer):
        if not text.get_visible() or not text.get_text():
            return
        bbox = text.get_window_extent(renderer)
        key = (id(text), text.get_text(), tuple(round(v, 2) for v in bbox.bounds),
               text.get_color(), text.get_alpha(), text.get_fontsize(), text.get_rotation())
        region = self._label_cache.get(key)
        if region is not None:
            canvas.restore_region(region)
            self.n_label_hits += 1
            return
        self._draw_one(text)
        region = Bbox.intersection(bbox.padded(2), self.fig.bbox)
        if region is not None and region.width >= 1 and region.height >= 1:
            if len(self._label_cache) >= self.MAX_CACHED_LABELS:
                self._label_cache.clear()
            self._label_cache[key] = canvas.copy_from_bbox(region)

    def _draw_one(self, artist):
        if artist.axes is not None:
            artist.axes.draw_artist(artist)
        else:
            self.fig.draw_artist(artist)

    def _draw_artists(self):
        canvas = self.fig.canvas
        if self.labels:
            renderer = canvas.get_renderer()
            for text in self.labels:
                self._draw_label(text, canvas, renderer)
        for artist in self.artists:
            self._draw_one(artist)

    def redraw(self) -> bool:
        """Show the animated artists' current state; returns True when a full draw was needed.

        Fast path: paste the background, draw the animated artists, ``canvas.blit`` (under
        ipympl: send the changed pixels). Full path, when there is no valid background:
        ``canvas.draw()``, whose ``draw_event`` saves the background and draws the animated
        artists (ipympl sends the frame as part of ``draw``).
        """
        self._connect()
        canvas = self.fig.canvas
        if not self.has_background:
            if getattr(canvas, "syncing_data_url", False):
                # ipympl before a browser view has initialized (or with none, e.g. nbconvert):
                # rendering now would store the frame as an invalid data URL (ipympl 0.10's
                # send_binary omits the "data:image/png;base64," prefix), which the view then
                # fails to load. Ask for a draw instead; the view's first full draw fires
                # draw_event, which saves the background.
                canvas.draw_idle()
                return True
            if _is_web(canvas):
                canvas._force_full = True  # static parts changed: send the whole picture, not a diff
            canvas.draw()
            return True
        canvas.restore_region(self._background)
        self._draw_artists()
        canvas.blit(self.fig.bbox)
        self._keyframe_soon()
        return False

    def _keyframe_soon(self) -> None:
        """(Re)start the timer of :meth:`send_keyframe`: web canvases with a browser view only, and
        only inside a running event loop (a kernel); otherwise nothing."""
        canvas = self.fig.canvas
        if not _is_web(canvas) or getattr(canvas, "syncing_data_url", False):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script, a test): nobody to send to later
            return
        if self._keyframe is not None:
            self._keyframe.cancel()
        self._keyframe = loop.call_later(KEYFRAME_DELAY_S, self.send_keyframe)

    def send_keyframe(self) -> bool:
        """Send the canvas's current pixels to the browser as one full image (not a diff), so a
        frame the browser dropped cannot leave a stale picture; returns True if one was sent.
        Called by a timer :data:`KEYFRAME_DELAY_S` after the last draw; nothing is re-rendered."""
        self._keyframe = None
        if self._background is None or not send_whole_picture(self.fig.canvas):
            return False
        self.n_keyframes += 1
        return True

    def disconnect(self) -> None:
        """Stop listening to the canvas (the artists stay animated)."""
        if self._keyframe is not None:
            self._keyframe.cancel()
            self._keyframe = None
        for cid in self._cids:
            self._canvas.mpl_disconnect(cid)
        self._cids, self._canvas, self._background = [], None, None
