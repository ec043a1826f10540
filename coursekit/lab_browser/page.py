"""Driving JupyterLab in Chromium: the page's init script, opening a notebook, Run All, waiting
for the widgets, the problems a page shows, and what it wrote (see :mod:`coursekit.lab_browser`)."""

from __future__ import annotations

import re
import time
import urllib.parse
from pathlib import Path

from coursekit.lab_browser.server import JupyterServer, chromium_problem
from coursekit.lab_browser.settings import (
    AUTOSAVE_INTERVAL_S,
    CHROMIUM,
    KERNEL_TIMEOUT_S,
    PANEL,
    RUN_ALL_TIMEOUT_S,
    SETTLE_TIMEOUT_S,
)

# --------------------------------------------------------------------------- the browser
# Runs in every page before JupyterLab: timestamps for keydown and for on-screen plot updates.
INIT_SCRIPT = r"""
(() => {
  const rec = { t0: null, events: [], ws: [] };
  const fnv = (s) => {  // the same fingerprint as PLOTS_JS uses
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return (h >>> 0).toString(16) + ":" + s.length;
  };
  window.__course = rec;
  document.addEventListener("keydown", () => { rec.t0 = performance.now(); }, true);
  // kernel traffic after a key press, to split a move's delay into browser / kernel / drawing
  const size = (d) => d.length || d.byteLength || d.size || 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (rec.t0 !== null) rec.ws.push({ t: performance.now(), dir: "out", n: size(data) });
    return send.call(this, data);
  };
  // listen in the constructor, so we hear a message before JupyterLab's onmessage handles it
  window.WebSocket = class extends WebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (rec.t0 !== null) rec.ws.push({ t: performance.now(), dir: "in", n: size(e.data) });
      });
    }
  };
  const draw = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (...args) {
    const c = this.canvas;
    if (c && c.isConnected && c.closest(".jupyter-matplotlib-canvas-div")) {
      rec.events.push({ t: performance.now(), kind: "canvas" });
    }
    return draw.apply(this, args);
  };
  const watch = () => new MutationObserver((mutations) => {
    const t = performance.now();
    for (const m of mutations) {
      const nodes = m.type === "attributes" ? [m.target] : [...m.addedNodes];
      for (const n of nodes) {
        if (n.nodeType !== 1) continue;
        const imgs = n.tagName === "IMG" ? [n] : [...n.querySelectorAll("img")];
        for (const img of imgs) {  // the hash tells a new image from a re-rendered old one
          if (img.closest(".jp-OutputArea")) rec.events.push({ t, kind: "img", sig: fnv(img.src) });
        }
      }
    }
  }).observe(document.documentElement,
             { subtree: true, childList: true, attributes: true, attributeFilter: ["src"] });
  if (document.documentElement) watch(); else addEventListener("DOMContentLoaded", watch);
})();
"""

# Hash of every plot in the visible notebook, by cell: ipympl canvases and output images.
PLOTS_JS = r"""
(panelSel) => {
  const panel = document.querySelector(panelSel);
  if (!panel) return {};
  const fnv = (s) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return (h >>> 0).toString(16) + ":" + s.length;
  };
  const cells = [...panel.querySelectorAll(".jp-Cell")];
  const out = {};
  cells.forEach((cell, i) => {
    const sigs = [];
    for (const div of cell.querySelectorAll(".jp-OutputArea .jupyter-matplotlib-canvas-div")) {
      const c = div.querySelector("canvas");
      if (c && c.width > 0) sigs.push("canvas:" + fnv(c.toDataURL()));
    }
    for (const img of cell.querySelectorAll(".jp-OutputArea img")) sigs.push("img:" + fnv(img.src));
    if (sigs.length) out[i] = sigs.join(",");
  });
  return out;
}
"""

STATE_JS = r"""
(panelSel) => {
  const panel = document.querySelector(panelSel);
  if (!panel) return null;
  const code = [...panel.querySelectorAll(".jp-CodeCell")].map((c) => {
    const prompt = (c.querySelector(".jp-InputArea-prompt") || {}).textContent || "";
    const src = (c.querySelector(".cm-content") || {}).textContent || "";
    return { prompt: prompt.trim(), empty: src.trim() === "" };
  });
  const sel = (s) => [...panel.querySelectorAll(s)].map((e) => e.innerText.trim().slice(0, 2000));
  const text = panel.innerText;
  const status = [...document.querySelectorAll(".jp-StatusBar-TextItem")].map((e) => e.textContent);
  return {
    prompts: code.filter((c) => !c.empty).map((c) => c.prompt),
    busy: code.some((c) => c.prompt.includes("*")),
    stderr: sel('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'),
    errors: sel('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'),
    loading: text.split("Loading widget...").length - 1,
    widgetErrors: [...panel.querySelectorAll(".jp-OutputArea-output")]
      .map((e) => e.innerText.trim()).filter((t) => t.includes("Error displaying widget")),
    idle: status.some((s) => /\|\s*Idle\b/.test(s)),
    status: status.join(" / "),
    widgets: panel.querySelectorAll(".jp-OutputArea .jupyter-widgets").length,
    // ipympl figures that never received an image keep a 0x0 canvas
    emptyFigures: [...panel.querySelectorAll(".jp-OutputArea .jupyter-matplotlib-canvas-div")]
      .filter((d) => { const c = d.querySelector("canvas"); return !c || !c.width || !c.height; })
      .map((d) => [...panel.querySelectorAll(".jp-Cell")].indexOf(d.closest(".jp-Cell"))),
  };
}
"""

SLIDERS_JS = r"""
(panelSel) => {
  const panel = document.querySelector(panelSel);
  const cells = [...panel.querySelectorAll(".jp-Cell")];
  return [...panel.querySelectorAll(".jp-OutputArea .widget-slider")].map((s, index) => {
    const handle = s.querySelector(".noUi-handle");
    return {
      index,
      cell: cells.indexOf(s.closest(".jp-Cell")),
      label: ((s.querySelector(".widget-label") || {}).innerText || "").trim(),
      readout: ((s.querySelector(".widget-readout") || {}).innerText || "").trim(),
      now: handle ? handle.getAttribute("aria-valuenow") : null,
      max: handle ? handle.getAttribute("aria-valuemax") : null,
      disabled: !!s.querySelector("[disabled]") || s.classList.contains("mod-disabled"),
    };
  });
}
"""


# A redraw after the key press: any ipympl canvas draw, or an output image not there before.
FIRST_REDRAW_JS = """(old) => {
  const r = window.__course;
  return r.t0 !== null && r.events.some((e) => e.t >= r.t0 && !(e.sig && old.includes(e.sig)));
}"""


def launch_browser(playwright):
    """Debian's Chromium, headless, through Playwright."""
    problem = chromium_problem()
    if problem:
        raise RuntimeError(problem)
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=["--disable-dev-shm-usage"]
    )


def new_page(browser):
    """A fresh context and page with the timing init script and collectors for page errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.course_errors = []  # uncaught exceptions and console errors, for failure messages
    page.course_writes = []  # (method, API path) of every request that may write a file
    page.on("request", lambda req: _record_write(page, req))
    page.on("pageerror", lambda exc: page.course_errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: page.course_errors.append(f"console.{msg.type}: {msg.text[:300]}")
        if msg.type == "error"
        else None,
    )
    return page


def _record_write(page, request) -> None:
    path = urllib.parse.urlsplit(request.url).path
    if request.method in ("PUT", "PATCH", "DELETE", "POST") and path.startswith("/api/contents"):
        page.course_writes.append((request.method, urllib.parse.unquote(path[len("/api/contents"):])))


def writes_to(page, rel_path: str) -> list[tuple[str, str]]:
    """The write requests the page sent for ``rel_path`` (relative to the server root), its
    checkpoints included."""
    target = "/" + rel_path.strip("/")
    return [w for w in page.course_writes if w[1] == target or w[1].startswith(target + "/")]


DIRTY_JS = """() => {
  const tab = document.querySelector("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current");
  return tab ? tab.classList.contains("jp-mod-dirty") : null;
}"""


def document_dirty(page) -> bool | None:
    """Whether the current document has unsaved changes (its tab is marked dirty); None: no tab."""
    return page.evaluate(DIRTY_JS)


TABS_JS = """() => [...document.querySelectorAll("#jp-main-dock-panel .lm-TabBar-tab")].map((tab) => ({
  label: tab.innerText.trim(),
  path: ((tab.title || "").match(/^Path: (.*)$/m) || [])[1] || null,
  dirty: tab.classList.contains("jp-mod-dirty"),
}))"""


def open_tabs(page) -> list[dict]:
    """The main area's tabs, in order: ``label``, ``path`` (relative to the server root; None for a tab
    that is not a document, or whose tooltip JupyterLab has not written yet) and ``dirty``."""
    return page.evaluate(TABS_JS)


def save_notebook_as(page, path: str) -> None:
    """*File → Save Notebook As…* on the current notebook, typing ``path`` (relative to the server
    root) into JupyterLab's dialog, then *Save*."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Save Notebook As")).click()
    page.locator(".jp-Dialog input").fill(path)
    page.locator(".jp-Dialog button", has_text=re.compile(r"^Save$")).click()


def wait_past_autosave(page, since: float) -> float:
    """Keep the page open until two autosave intervals (plus a margin, for timers delayed on a busy
    page) have passed since ``since`` (a ``time.monotonic()``), so that a document dirty since then
    was due for autosave at least twice. Returns the seconds waited here (0 when already past)."""
    remaining = since + 2 * AUTOSAVE_INTERVAL_S + 1 - time.monotonic()
    if remaining > 0:
        page.wait_for_timeout(remaining * 1000)
    return max(remaining, 0.0)


def page_state(page) -> dict:
    return page.evaluate(STATE_JS, PANEL)


def _poll(page, predicate, timeout_s: float, interval_s: float = 0.25):
    """Poll ``predicate(state)`` on the notebook state until true; return (ok, last state)."""
    deadline = time.monotonic() + timeout_s
    state = page_state(page)
    while not predicate(state):
        if time.monotonic() > deadline:
            return False, state
        page.wait_for_timeout(interval_s * 1000)
        state = page_state(page)
    return True, state


def open_notebook(page, server: JupyterServer, rel_path: str) -> dict:
    """Open ``rel_path`` (relative to the server root) and wait until its kernel reads Idle."""
    page.goto(server.lab_url(rel_path), wait_until="domcontentloaded")
    page.locator(PANEL).wait_for(state="visible", timeout=KERNEL_TIMEOUT_S * 1000)
    # the toolbar says idle before a kernel exists; the status bar names the kernel and its state
    ok, state = _poll(page, lambda s: s and s["idle"], KERNEL_TIMEOUT_S)
    if not ok:
        raise AssertionError(
            f"kernel not idle after {KERNEL_TIMEOUT_S:.0f} s; status bar: {state and state['status']}"
        )
    return state


def run_all_cells(page, timeout_s: float = RUN_ALL_TIMEOUT_S) -> dict:
    """Run -> Run All Cells, then wait until every non-empty code cell ran (or one failed)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    seen_busy = False

    def done(s):
        # Finished: nothing queued ("[*]") and the kernel idle, after every cell ran, or after the
        # run was seen going and stopped early (an exception clears the queue; problems() reports).
        nonlocal seen_busy
        if not s or s["busy"]:
            seen_busy = seen_busy or bool(s)
            return False
        ran = all(re.fullmatch(r"\[\d+\]:", p) for p in s["prompts"])
        return (ran or seen_busy) and s["idle"]

    ok, state = _poll(page, done, timeout_s, interval_s=0.5)
    if not ok:
        raise AssertionError(
            f"Run All did not finish within {timeout_s:.0f} s; prompts {state['prompts']}, "
            f"status bar {state['status']!r}"
        )
    return state


def wait_widgets_settled(page, timeout_s: float = SETTLE_TIMEOUT_S) -> dict:
    """Wait until no widget still says "Loading widget..." and the plots stopped changing."""
    _poll(page, lambda s: s["loading"] == 0, timeout_s)
    # ipympl figures get their first images (a busy kernel may take a while)
    _poll(page, lambda s: not s["emptyFigures"], min(timeout_s, 30))
    wait_plots_quiet(page, 1.0, timeout_s)
    return page_state(page)


def problems(state: dict) -> list[str]:
    """What the issue counts as a failure, seen in a notebook state."""
    found = []
    if state["loading"]:
        found.append(f'{state["loading"]} widget(s) still show "Loading widget..."')
    found += [f"widget error: {t}" for t in state["widgetErrors"]]
    found += [f"ipympl figure in cell {c} shows nothing (0x0 canvas: it never received an "
              "image; see the console errors)" for c in state["emptyFigures"]]
    found += [f"stderr output: {t}" for t in state["stderr"]]
    found += [f"error output: {t}" for t in state["errors"]]
    unrun = [p for p in state["prompts"] if not re.fullmatch(r"\[\d+\]:", p)]
    if unrun:
        found.append(f"{len(unrun)} code cell(s) did not run (prompts {state['prompts']})")
    return found


def wait_kernel_idle(page, timeout_s: float = 30) -> None:
    _poll(page, lambda s: s["idle"] and not s["busy"], timeout_s)


def screenshot_cell(page, cell_index: int, path: Path) -> None:
    """Screenshot one cell (its input and output) into ``path`` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cell = page.locator(f"{PANEL} .jp-Cell").nth(cell_index)
    cell.scroll_into_view_if_needed()
    cell.screenshot(path=str(path))


def plot_signatures(page) -> dict[str, str]:
    return page.evaluate(PLOTS_JS, PANEL)


def wait_plots_quiet(page, quiet_s: float = 1.0, timeout_s: float = SETTLE_TIMEOUT_S) -> bool:
    """Wait until no plot was redrawn and no plot signature changed for ``quiet_s`` seconds (after
    Run All, ipympl figures keep receiving their first images for a few seconds)."""
    deadline = time.monotonic() + timeout_s
    count = "() => window.__course.events.length"
    sig, n = plot_signatures(page), page.evaluate(count)
    while time.monotonic() < deadline:
        page.wait_for_timeout(quiet_s * 1000)
        sig2, n2 = plot_signatures(page), page.evaluate(count)
        if sig2 == sig and n2 == n:
            return True
        sig, n = sig2, n2
    return False
