"""Check the course's website in a real browser (Debian's Chromium through Playwright), offline.

Used by ``tests/test_site.py`` and ``bench/bench_site.py``. :func:`serve` serves a built site on
127.0.0.1 (a local static host, as any would serve it); :func:`new_context` opens a browser context
in which every request to another origin is blocked and recorded, and every console error, failed
request and HTTP error is recorded too. :func:`page_problems` opens one page and returns what a
reader would see as a defect: a console error, a failed or blocked request, a picture that did not
load or is scaled up (blurred), math MathJax left untypeset, a page wider than the window.
:func:`widget_positions` lists the states a test visits on a static widget (each control at both
ends and in the middle, each button), and :func:`widget_pixels` reads the picture a widget shows,
pixel for pixel, to compare with the file the kernel drew.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import socketserver
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["file_pixels", "move", "new_context", "page_problems", "pixel_digest", "reset_widget", "serve",
           "set_slider", "widget_manifests", "widget_pixels", "widget_positions", "width_problems"]

WIDTHS = (1400, 390)  # a laptop's window and a phone's
TIMEOUT_MS = 30_000


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no log line per request in the test output
        pass


@contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 (a free port) for the duration of the block; yields its URL."""
    folder = Path(folder)
    if not (folder / "index.html").is_file():
        raise ValueError(f"folder must be a built site (with index.html), got {folder}")
    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def new_context(browser, origin: str, width: int = 1400, scale: float = 2.0):
    """A browser context of ``width`` CSS px at ``scale`` device pixels per CSS pixel, in which a
    request to anything but ``origin`` is blocked. Its ``course_log`` collects every blocked or
    failed request, HTTP error and console error (cleared by :func:`page_problems`)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=scale)
    log: list[str] = []

    def route(r):
        if r.request.url.startswith(origin + "/") or r.request.url.startswith("data:"):
            r.continue_()
        else:
            log.append(f"blocked a request to another origin: {r.request.url}")
            r.abort()

    context.route("**/*", route)
    context.course_log = log

    def watch(page):
        page.on("console", lambda m: log.append(f"console {m.type}: {m.text[:300]}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda exc: log.append(f"page error: {exc}"))
        page.on("requestfailed", lambda r: log.append(f"request failed: {r.url} ({r.failure})")
                if not r.url.startswith(origin + "/") or "ERR_ABORTED" not in (r.failure or "") else None)
        page.on("response", lambda r: log.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

    context.on("page", watch)
    return context


PAGE_JS = """async () => {
  // every picture, lazy ones too
  for (const img of document.images) { img.loading = "eager"; }
  await Promise.all([...document.images].map((img) => img.decode().catch(() => null)));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const dpr = window.devicePixelRatio;
  const pictures = [...document.images].filter((img) => img.getClientRects().length).map((img) => ({
    src: img.getAttribute("src"), natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
    complete: img.complete}));
  const math = [...document.querySelectorAll(".math")];
  const untypeset = math.filter((el) => !el.querySelector("mjx-container") && el.tagName !== "MJX-CONTAINER")
    .map((el) => el.textContent.slice(0, 60));
  const raw = [...document.querySelectorAll("article p, article li, article td")].filter(
    (el) => !el.closest(".math, pre, code") && /(^|[^\\\\])\\$[^$\\s][^$]*\\$/.test(el.textContent)
  ).map((el) => el.textContent.slice(0, 80));
  return {dpr, pictures, math: math.length, untypeset, raw,
          scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth,
          widgets: document.querySelectorAll(".course-widget").length,
          ready: document.querySelectorAll(".course-widget.course-widget-ready").length};
}"""


def page_problems(page, url: str) -> tuple[list[str], dict]:
    """Open ``url`` in ``page`` (a page of a :func:`new_context` context) and return what is wrong
    with it, as sentences, and what was measured (pictures, math, widths)."""
    log = page.context.course_log
    log.clear()
    page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
    state = page.evaluate(PAGE_JS)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    problems = list(log)
    for pic in state["pictures"]:
        if not pic["complete"] or pic["natural"] == 0:
            problems.append(f"the picture {pic['src']} did not load")
        elif pic["natural"] + 1 < pic["shown"] * min(state["dpr"], 2):
            problems.append(f"the picture {pic['src']} is scaled up (blurred): {pic['natural']} px wide, shown "
                            f"at {pic['shown']:.0f} CSS px on a {state['dpr']}x screen")
    problems += [f"math left untypeset: {text!r}" for text in state["untypeset"]]
    problems += [f"dollar math shown as text: {text!r}" for text in state["raw"]]
    if state["scrollWidth"] > state["width"]:
        problems.append(f"the page is {state['scrollWidth']} px wide in a {state['width']} px window")
    if state["ready"] != state["widgets"]:
        problems.append(f"{state['widgets'] - state['ready']} of {state['widgets']} widgets did not start")
    return problems, state


WIDTH_JS = """() => ({scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth,
  dpr: devicePixelRatio,
  pictures: [...document.images].filter((img) => img.getClientRects().length).map((img) => ({
    src: img.getAttribute("src"), natural: img.naturalWidth, shown: img.getBoundingClientRect().width}))})"""


def width_problems(page) -> list[str]:
    """After the window changed size: a page wider than the window, a picture scaled up."""
    state = page.evaluate(WIDTH_JS)
    problems = [f"the page is {state['scrollWidth']} px wide in a {state['width']} px window"] \
        if state["scrollWidth"] > state["width"] else []
    problems += [f"the picture {pic['src']} is scaled up (blurred): {pic['natural']} px wide, shown at "
                 f"{pic['shown']:.0f} CSS px" for pic in state["pictures"]
                 if pic["natural"] and pic["natural"] + 1 < pic["shown"] * min(state["dpr"], 2)]
    return problems


def widget_manifests(page) -> list[dict]:
    """The static widgets of the open page: their element id, mode and manifest."""
    return page.evaluate("""() => [...document.querySelectorAll('.course-widget')].map((w) => ({
        id: w.id, mode: w.dataset.mode,
        manifest: JSON.parse(w.querySelector('script.course-widget-manifest').textContent)}))""")


def widget_positions(manifest: dict) -> list[tuple[str, int, int]]:
    """The moves a test makes on a widget: ``("button", group, index)`` for each button of each
    group, ``("slider", s, position)`` for both ends and the middle of each slider (as the starting
    toggles leave it), starting from the widget's starting state each time."""
    moves = []
    for g, toggle in enumerate(manifest["toggles"]):
        moves += [("button", g, k) for k in range(toggle["n"])]
    tkey = ",".join(str(t["initial"]) for t in manifest["toggles"])
    defs = manifest["slider_defs"].get(tkey) or next(iter(manifest["slider_defs"].values()))
    for s, d in enumerate(defs):
        if d["disabled"]:
            continue
        last = len(d["labels"]) - 1
        moves += [("slider", s, k) for k in sorted({0, last // 2, last})]
    return moves


SET_JS = """([id, s, position]) => { const input = document.querySelector(`#${id} input[data-slider='${s}']`);
  if (input.value !== String(position)) { input.value = String(position);
    input.dispatchEvent(new Event('input', {bubbles: true})); } }"""


def reset_widget(page, widget_id: str, manifest: dict) -> None:
    """Put a widget back to its starting state (its buttons clicked, its sliders set as a drag sets
    them: the value, then an input event)."""
    for g, toggle in enumerate(manifest["toggles"]):
        page.locator(f"#{widget_id} [data-toggle='{g}'] button[data-index='{toggle['initial']}']").click()
    tkey = ",".join(str(t["initial"]) for t in manifest["toggles"])
    defs = manifest["slider_defs"].get(tkey) or next(iter(manifest["slider_defs"].values()))
    for s, d in enumerate(defs):
        if not d["disabled"]:
            page.evaluate(SET_JS, [widget_id, s, d["initial"]])


def set_slider(page, widget_id: str, s: int, position: int, last: int) -> None:
    """Move slider ``s`` of a widget to ``position`` as a reader would: its ends with the keyboard
    (focus, then Home or End), a position between them as a drag does (the value, an input event)."""
    handle = page.locator(f"#{widget_id} input[data-slider='{s}']")
    if position in (0, last):
        handle.focus()
        handle.press("Home" if position == 0 else "End")
    else:
        page.evaluate(SET_JS, [widget_id, s, position])


def move(page, widget_id: str, manifest: dict, kind: str, index: int, position: int) -> None:
    """Make one move of :func:`widget_positions` on the widget ``widget_id``."""
    if kind == "button":
        page.locator(f"#{widget_id} [data-toggle='{index}'] button[data-index='{position}']").click()
    else:
        tkey = ",".join(str(t["initial"]) for t in manifest["toggles"])
        defs = manifest["slider_defs"].get(tkey) or next(iter(manifest["slider_defs"].values()))
        set_slider(page, widget_id, index, position, len(defs[index]["labels"]) - 1)


WAIT_JS = """(id) => { const w = document.getElementById(id); const img = w.querySelector('img.course-widget-frame');
  const m = JSON.parse(w.querySelector('script.course-widget-manifest').textContent);
  const want = m.states[w.dataset.state];
  return want !== undefined && w.dataset.frame === String(want) && img.complete && img.naturalWidth > 0
    && img.getAttribute('src') === m.base + m.frames[want]; }"""

DIGEST_JS = """async (id) => { const w = document.getElementById(id);
  const img = w.querySelector('img.course-widget-frame');
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
  const pixels = ctx.getImageData(0, 0, c.width, c.height).data;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', pixels));
  return {state: w.dataset.state, frame: Number(w.dataset.frame), width: c.width, height: c.height,
          sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('')}; }"""


def widget_pixels(page, widget_id: str) -> dict:
    """Once the widget shows the picture its state asks for: the state, the frame's index, the
    picture's size and the SHA-256 of its pixels as the browser decoded them (RGBA, row by row:
    :func:`pixel_digest` of the same picture decoded by Pillow is equal when the pixels are)."""
    page.wait_for_function(WAIT_JS, arg=widget_id, timeout=TIMEOUT_MS)
    return page.evaluate(DIGEST_JS, widget_id)


def pixel_digest(pixels: np.ndarray) -> str:
    """The SHA-256 of an (h, w, 4) uint8 RGBA array, as :func:`widget_pixels` computes it in the page."""
    return hashlib.sha256(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()).hexdigest()


def file_pixels(path: Path) -> np.ndarray:
    """The pixels of a picture file as an (h, w, 4) uint8 array (Pillow's decoder)."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))
