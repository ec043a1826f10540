"""How figures are shown in JupyterLab (issue 18): every ipympl canvas and output image, where it
is, its pixel size, what ipympl shows around it; hovering them, and screenshots of every widget at
both ends of each slider in each toggle state (see :mod:`coursekit.lab_browser`)."""

from __future__ import annotations

import re
from pathlib import Path

from coursekit.lab_browser.page import screenshot_cell, wait_kernel_idle, wait_plots_quiet
from coursekit.lab_browser.settings import PANEL
from coursekit.lab_browser.sliders import Slider, slider_locator, sliders

# --------------------------------------------------------------------------- how figures are shown
# Every figure in the notebook's outputs (issue 18): ipympl canvases and output images, with where
# they are on the page, their pixel size and what ipympl shows around or over them.
FIGURES_JS = r"""
(panelSel) => {
  const panel = document.querySelector(panelSel);
  if (!panel) return [];
  const cells = [...panel.querySelectorAll(".jp-Cell")];
  const dpr = window.devicePixelRatio || 1;
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
  // the width of the element the page lets you see: cut by every ancestor that clips horizontally
  const visibleWidth = (e) => {
    const r = e.getBoundingClientRect();
    let left = r.left, right = r.right;
    for (let p = e.parentElement; p && p !== document.documentElement; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") {
        const q = p.getBoundingClientRect();
        left = Math.max(left, q.left); right = Math.min(right, q.right);
      }
    }
    return Math.max(0, right - left);
  };
  const shown = (e) => {
    if (!e) return false;
    const s = getComputedStyle(e), r = e.getBoundingClientRect();
    return s.display !== "none" && s.visibility !== "hidden" && parseFloat(s.opacity) > 0.05
      && r.width > 0 && r.height > 0;
  };
  const figures = [];
  panel.querySelectorAll(".jp-OutputArea .jupyter-matplotlib").forEach((fig, index) => {
    const canvas = fig.querySelector(".jupyter-matplotlib-canvas-div canvas");
    if (!canvas) return;
    const header = fig.querySelector(".jupyter-matplotlib-header");
    const toolbar = fig.querySelector(".jupyter-matplotlib-toolbar");
    figures.push({ kind: "canvas", index, cell: cells.indexOf(fig.closest(".jp-Cell")), dpr,
                   box: box(canvas), pixels: [canvas.width, canvas.height], visible: visibleWidth(canvas),
                   header: shown(header) ? header.innerText.trim() || "(empty)" : null,
                   toolbar: shown(toolbar) ? box(toolbar) : null });
  });
  panel.querySelectorAll(".jp-OutputArea img").forEach((img, index) => {
    if (!img.naturalWidth) return;
    figures.push({ kind: "img", index, cell: cells.indexOf(img.closest(".jp-Cell")), dpr,
                   box: box(img), pixels: [img.naturalWidth, img.naturalHeight], visible: visibleWidth(img),
                   header: null, toolbar: null });
  });
  return figures;
}
"""


def figures(page) -> list[dict]:
    """Every figure in the visible notebook's outputs: ``kind`` ("canvas" for ipympl, "img"), its
    ``index`` among those of its kind, ``cell``, on-page ``box`` [left, top, width, height] in CSS
    pixels, the ``visible`` width (what the page does not cut off), its ``pixels`` (the image's
    own size), the device pixel ratio ``dpr``, the text of an
    ipympl ``header`` shown above it and the ``toolbar`` box if one is shown (else None)."""
    return page.evaluate(FIGURES_JS, PANEL)


def _overlap(a, b) -> bool:
    return min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]) > 0.5 and \
        min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]) > 0.5


def figure_problems(found: list[dict], tolerance_px: float = 2.0) -> list[str]:
    """What a learner would see wrong in how figures are shown (issue 18): an ipympl "Figure N"
    header; a toolbar over the figure (it hid the y-axis labels); a figure scaled by the page
    (its pixels are not its on-screen size times the device pixel ratio), which blurs its text;
    a figure wider than the space the page gives it (its right part cut off)."""
    out = []
    for f in found:
        where = f"the {'figure' if f['kind'] == 'canvas' else 'image'} in cell {f['cell']}"
        if f["header"]:
            out.append(f"{where} shows ipympl's header {f['header']!r}")
        if f["toolbar"] and _overlap(f["toolbar"], f["box"]):
            out.append(f"{where}: ipympl's toolbar covers part of it (toolbar at {_fmt_box(f['toolbar'])}, "
                       f"figure at {_fmt_box(f['box'])})")
        cut = f["box"][2] - f.get("visible", f["box"][2])
        if cut > tolerance_px:
            out.append(f"{where} is wider than the page shows: {cut:.0f} of its {f['box'][2]:.0f} CSS px "
                       "are cut off")
        want = f["box"][2] * f["dpr"]
        if abs(f["pixels"][0] - want) > tolerance_px:
            out.append(f"{where} is scaled by the page, so it looks blurred: {f['pixels'][0]} px wide, "
                       f"shown at {f['box'][2]:.0f} CSS px x device pixel ratio {f['dpr']:g}")
    return out


def _fmt_box(b) -> str:
    return f"x {b[0]:.0f}-{b[0] + b[2]:.0f}, y {b[1]:.0f}-{b[1] + b[3]:.0f}"


def figure_locator(page, figure: dict):
    """The element of ``figure`` (an entry of :func:`figures`) on the page."""
    if figure["kind"] == "canvas":
        # the div, not the canvas: ipympl lays a second canvas (for the zoom rectangle) over it
        return page.locator(f"{PANEL} .jp-OutputArea .jupyter-matplotlib").nth(figure["index"]).locator(
            ".jupyter-matplotlib-canvas-div").first
    return page.locator(f"{PANEL} .jp-OutputArea img").nth(figure["index"])


def hover_figures(page, cells=None, settle_ms: int = 800) -> list[str]:
    """Move the mouse over each figure (of ``cells``, default all) and check how it is shown while
    the mouse is there (ipympl fades its toolbar in then, in half a second): the problems of
    :func:`figure_problems`, each saying which figure was hovered."""
    out = []
    for fig in figures(page):
        if cells is not None and fig["cell"] not in cells:
            continue
        figure_locator(page, fig).hover()
        page.wait_for_timeout(settle_ms)
        now = [f for f in figures(page) if (f["kind"], f["index"]) == (fig["kind"], fig["index"])]
        out += [f"mouse over it: {p}" for p in figure_problems(now)]
    page.mouse.move(0, 0)
    return out


def toggle_buttons(page, cell: int) -> list:
    """The buttons of every ToggleButtons widget in output cell ``cell`` (locators)."""
    buttons = page.locator(f"{PANEL} .jp-Cell").nth(cell).locator(".widget-toggle-buttons button")
    return [buttons.nth(i) for i in range(buttons.count())]


def set_slider_end(page, slider: Slider, end: str, quiet_s: float = 1.0) -> str:
    """Press Home (``end="min"``) or End (``"max"``) on the slider's handle, as a learner's keyboard
    would, wait until the kernel is idle and the plots are quiet; return the slider's readout."""
    if end not in ("min", "max"):
        raise ValueError(f"end must be 'min' or 'max', got {end!r}")
    slider_locator(page, slider.index).locator(".noUi-handle").press("Home" if end == "min" else "End")
    page.wait_for_timeout(200)
    wait_kernel_idle(page)
    wait_plots_quiet(page, quiet_s)
    return sliders(page)[slider.index].readout


def slug(text: str) -> str:
    """``text`` as a file-name part: letters, digits and dashes (λ becomes "lambda")."""
    text = text.replace("λ", "lambda").replace("σ", "sigma")
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


def screenshot_extremes(page, stem: str, folder: Path) -> list[Path]:
    """For every widget cell: in each state of its toggle buttons (if any), each enabled slider at
    its minimum, then at its maximum (Home / End keys), one screenshot of the cell each, saved as
    ``folder/<stem>__cell<NN>[_<toggle>]_<slider>_<min|max>.png`` (a toggle state whose sliders
    are all disabled gets one screenshot, ``..._<toggle>.png``). A slider stays at its maximum
    while the next one moves (the file name says only which slider is at which end). Returns the
    paths."""
    saved = []
    cells = sorted({s.cell for s in sliders(page)})
    for cell in cells:
        toggles = toggle_buttons(page, cell) or [None]
        for button in toggles:
            state = ""
            if button is not None:
                state = "_" + slug(button.inner_text())
                button.click()
                page.wait_for_timeout(200)
                wait_kernel_idle(page)
                wait_plots_quiet(page)
            enabled = [s for s in sliders(page) if s.cell == cell and not s.disabled]
            if not enabled:  # e.g. lesson 02 at λ = 0: the state itself
                path = folder / f"{stem}__cell{cell:02d}{state}.png"
                screenshot_cell(page, cell, path)
                saved.append(path)
            for slider in enabled:
                for end in ("min", "max"):
                    set_slider_end(page, slider, end)
                    path = folder / f"{stem}__cell{cell:02d}{state}_{slug(slider.label)}_{end}.png"
                    screenshot_cell(page, cell, path)
                    saved.append(path)
    return saved


# --------------------------------------------------------------------------- the picture is the kernel's
# A figure the page shows must be the one the kernel holds. ipympl sends each update as a diff
# against the previous frame; a frame the page drops leaves a picture that later diffs cannot
# repair (issue 25: lesson 02's explorer lost tick labels after a toggle). The check: read every
# ipympl canvas's pixels, have the kernel send each figure's current pixels whole (not a diff, and
# without rendering again: a second render of a figure with constrained layout can move a title
# by a pixel, which is not the page's fault), read them again; a figure that changed was stale.
# Whether the kernel's own pixels are right after blitting is tests/test_blit.py's business.
CANVAS_PIXELS_JS = r"""
(panelSel) => {
  const panel = document.querySelector(panelSel);
  if (!panel) return [];
  const cells = [...panel.querySelectorAll(".jp-Cell")];
  return [...panel.querySelectorAll(".jp-OutputArea .jupyter-matplotlib-canvas-div")].map((div, index) => {
    const c = div.querySelector("canvas");
    return { index, cell: cells.indexOf(div.closest(".jp-Cell")),
             png: c && c.width > 0 ? c.toDataURL("image/png") : null };
  });
}
"""

FULL_REDRAW_CODE = """
def _course_full_redraw():
    from matplotlib._pylab_helpers import Gcf

    from helpers.blit import send_whole_picture

    return sum(send_whole_picture(manager.canvas) for manager in Gcf.get_all_fig_managers()
               if getattr(manager.canvas, "comm", None) is not None)


_course_redrawn = _course_full_redraw()
del _course_full_redraw
"""


def canvas_pixels(page) -> list[tuple[int, object]]:
    """``(cell, RGBA array)`` of every ipympl canvas in the notebook, in page order (``None`` for
    a canvas that shows nothing)."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    out = []
    for found in page.evaluate(CANVAS_PIXELS_JS, PANEL):
        png = found["png"]
        pixels = None
        if png:
            raw = base64.b64decode(png.split(",", 1)[1])
            pixels = np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA"))
        out.append((found["cell"], pixels))
    return out


def stale_figures(page, server, folder: Path | None = None, stem: str = "figure") -> list[str]:
    """Every ipympl figure whose picture on the page differs from the kernel's current picture of
    it, sent whole (see above); returns one line per stale figure, with how many pixels
    differ, and saves both pictures in ``folder`` (``<stem>__stale_cellNN_{page,kernel}.png``)."""
    import numpy as np
    from PIL import Image

    before = canvas_pixels(page)
    redrawn = int(server.run_in_kernel(FULL_REDRAW_CODE, "_course_redrawn"))
    page.wait_for_timeout(300)
    wait_kernel_idle(page)
    wait_plots_quiet(page, 1.0)
    after = canvas_pixels(page)
    found = []
    if len(after) != len(before):
        return [f"{len(before)} figures before the full redraw, {len(after)} after"]
    for (cell, old), (_, new) in zip(before, after, strict=True):
        if old is None or new is None or old.shape != new.shape:
            if not (old is None and new is None):
                found.append(f"figure in cell {cell}: its picture changed size on a full redraw")
            continue
        differ = int(np.any(old != new, axis=2).sum())
        if differ:
            found.append(f"figure in cell {cell} was stale: {differ} of {old.shape[0] * old.shape[1]} pixels "
                         f"change when the kernel sends its picture whole ({redrawn} figures sent)")
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(old).save(folder / f"{stem}__stale_cell{cell:02d}_page.png")
                Image.fromarray(new).save(folder / f"{stem}__stale_cell{cell:02d}_kernel.png")
    return found
