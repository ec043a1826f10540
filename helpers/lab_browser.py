"""Drive the course's widgets in a real JupyterLab + Chromium (used by tests/test_browser.py,
tests/test_lab_server.py and bench/bench_browser.py; the server side is :mod:`helpers.lab_server`).

Importing this module starts nothing and does not import Playwright (the functions that drive a page
receive Playwright's objects, or import it when called); :mod:`helpers` does not import it at all.

Decisions (issue #8):

* **Which notebooks.** :func:`notebook_has_widgets` is the one rule: a notebook "has widgets" when
  its code mentions ``%matplotlib widget`` (or ``ipympl``), ``ipywidgets`` or ``interact``.
* **Never modify the course notebooks.** The server's root is a temporary *copy* of the course:
  ``notebooks/`` and ``tests/browser_fixture/`` are copied, ``my_work/`` is a new empty folder,
  every other top-level folder (``data/``, ``assignments/``, ...) is symlinked so relative paths
  still resolve. So neither the page nor the kernel's working folder can write a course notebook.
* **Autosave is on, as for a learner** (every :data:`AUTOSAVE_INTERVAL_S` s instead of 120 s, user
  settings in the temporary config folder), and the server's contents manager is the course's
  :class:`helpers.lab_server.CourseContentsManager` with ``course_root`` = the served copy (and
  ``tests/browser_fixture/`` read-only too). So the test proves what protects a learner's lessons:
  JupyterLab never even asks to save them (``writable: false``), while a notebook in ``my_work/``
  is autosaved. :func:`new_page` records every write request to ``/api/contents``; the tests compare
  the SHA-256 of the real notebook *and* of its served copy before and after.
* **Server.** ``python -m jupyterlab`` from the course environment (``sys.executable``; the native
  ``python3`` kernel then runs the same interpreter) on ``127.0.0.1``, a free port, a random token,
  ``--allow-root``, with ``JUPYTER_CONFIG_DIR``, ``JUPYTER_DATA_DIR``, ``JUPYTER_RUNTIME_DIR``,
  ``IPYTHONDIR`` and ``MPLCONFIGDIR`` in a temporary folder. The ipywidgets / ipympl lab extensions
  and the kernel spec are found under ``sys.prefix`` regardless. News, update checks and notebook
  windowing are off (windowing would keep off-screen cells out of the DOM).
* **Stop.** :meth:`JupyterServer.stop` deletes the server's kernels through the REST API, then
  terminates the server by its PID (kill after a grace period) and reaps its process group.
* **Failures.** "Error displaying widget", "Loading widget..." (once settled), stderr and error
  outputs (JupyterLab renders tracebacks as stderr), cells that did not run, and ipympl figures
  whose canvas stays 0x0 (the view never got an image; the browser console says why).
* **Slider moves.** Wait until the plots are quiet, press one arrow key on the ``.noUi-handle``,
  wait for a redraw, wait for quiet again, and compare every plot's fingerprint (canvas pixels via
  ``toDataURL``, ``img.src``) with before the move.
* **Timing.** An init script in the page records when a key goes down, when a plot is redrawn on
  screen (``drawImage`` on an ipympl canvas in the document, or a new ``<img>`` in an output area)
  and the kernel WebSocket traffic in between; :func:`move_slider` reports the delays.

The browser is Debian's Chromium (``/usr/bin/chromium``, or ``$COURSE_CHROMIUM``), installed by
``tools/install_browser.sh``; ``playwright install`` cannot download browsers on these machines.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from helpers.notebook_files import notebook_code

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
FIXTURES = REPO / "tests" / "browser_fixture"
SCREENSHOTS = REPO / "artifacts" / "screenshots"  # artifacts/ is git-ignored
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = "bash tools/install_browser.sh  (as root it runs: apt-get install -y chromium)"

# Generous: 2-core machines, cold kernels, and the Keras lesson trains models in "Run All".
KERNEL_TIMEOUT_S = float(os.environ.get("BROWSER_KERNEL_TIMEOUT", 180))
RUN_ALL_TIMEOUT_S = float(os.environ.get("BROWSER_RUN_TIMEOUT", 900))
SETTLE_TIMEOUT_S = float(os.environ.get("BROWSER_SETTLE_TIMEOUT", 60))
PLOT_TIMEOUT_S = float(os.environ.get("BROWSER_PLOT_TIMEOUT", 30))
# JupyterLab's autosave interval in the test (a learner's default is 120 s)
AUTOSAVE_INTERVAL_S = 2
# Read-only for the served course: the lessons, the assignments and the test's own fixtures
READ_ONLY_DIRS = ("notebooks", "assignments", "tests/browser_fixture")

WIDGET_CODE = re.compile(r"%matplotlib\s+(widget|ipympl)\b|\bipympl\b|\bipywidgets\b|\binteract")
LAMBDA_LABEL = re.compile(r"λ|lambda|\blam\b", re.IGNORECASE)
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"


# --------------------------------------------------------------------------- notebooks, hashes
def notebook_has_widgets(path: Path) -> bool:
    """The rule for "a notebook with widgets": its code uses ``%matplotlib widget`` / ipympl,
    ``ipywidgets`` or ``interact`` (``interact``, ``interactive``, ``interact_manual``)."""
    return bool(WIDGET_CODE.search(notebook_code(path)))


def widget_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The notebooks directly in ``folder`` that have widgets, sorted by name."""
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.glob("*.ipynb")) if notebook_has_widgets(p)]


def fixture_notebooks() -> list[Path]:
    """The browser test's own notebooks (tests/browser_fixture/*.ipynb)."""
    return sorted(FIXTURES.glob("*.ipynb"))


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def chromium_problem() -> str | None:
    """None when the browser is usable, else a message saying how to install it."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return f"Chromium not found at {CHROMIUM}; install it with: {INSTALL_HINT}"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# --------------------------------------------------------------------------- the server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


USER_SETTINGS = {
    # autosave on, as for a learner, but every few seconds instead of every 120 s
    "@jupyterlab/docmanager-extension/plugin": {"autosave": True, "autosaveInterval": AUTOSAVE_INTERVAL_S},
    # the news / update notification covers screenshots
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # keep every cell in the DOM so locators see all outputs
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def stage_course(root: Path) -> None:
    """Make ``root`` a servable copy of the course: notebooks/ and tests/browser_fixture/ copied,
    an empty my_work/, the other top-level folders and files symlinked (so ``../data`` etc. resolve
    as in the repo)."""
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    root.mkdir(parents=True)
    if NOTEBOOKS.is_dir():
        shutil.copytree(NOTEBOOKS, root / "notebooks", ignore=ignore)
    shutil.copytree(FIXTURES, root / "tests" / "browser_fixture", ignore=ignore)
    (root / "my_work").mkdir()
    skip = {"notebooks", "tests", "artifacts", "build", "my_work"}
    for entry in REPO.iterdir():
        if entry.name.startswith(".") or entry.name in skip:
            continue
        (root / entry.name).symlink_to(entry)


class JupyterServer:
    """A private JupyterLab server; use as a context manager or call start() / stop().

    ``installed_config_only``: do not name the contents manager on the command line, so the one in
    use is whatever the environment's installed Jupyter config makes it (tests/test_lab_server.py
    checks that this is the course's). ``course_root`` (the served copy) and ``read_only_dirs`` are
    passed either way."""

    def __init__(self, installed_config_only: bool = False) -> None:
        self.installed_config_only = installed_config_only
        self.tmp = Path(tempfile.mkdtemp(prefix="course-browser-"))
        self.root = self.tmp / "root"
        self.port = _free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.tmp / "server.log"
        self.proc: subprocess.Popen | None = None

    # -- life cycle
    def env(self) -> dict:
        env = dict(os.environ)
        dirs = {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "IPYTHONDIR": "ipython",
            "MPLCONFIGDIR": "matplotlib",
            "JUPYTERLAB_SETTINGS_DIR": "config/lab/user-settings",
            "JUPYTERLAB_WORKSPACES_DIR": "config/lab/workspaces",
        }
        for var, sub in dirs.items():
            (self.tmp / sub).mkdir(parents=True, exist_ok=True)
            env[var] = str(self.tmp / sub)
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_CONFIG_PATH", None)
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as `course.py lab` does
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self, timeout: float = 90) -> JupyterServer:
        stage_course(self.root)
        env = self.env()
        for plugin, values in USER_SETTINGS.items():
            _write_json(
                Path(env["JUPYTERLAB_SETTINGS_DIR"]) / f"{plugin}.jupyterlab-settings", values
            )
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.terminals_enabled=False",
            "--LabApp.news_url=",
            f"--CourseContentsManager.course_root={self.root}",
            *(f"--CourseContentsManager.read_only_dirs={d}" for d in READ_ONLY_DIRS),
        ]  # fmt: skip
        if not self.installed_config_only:
            cmd.append("--ServerApp.contents_manager_class=helpers.lab_server.CourseContentsManager")
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            cmd, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> list[str]:
        """Delete our kernels (REST), stop our server (by PID), remove the temp folder.
        Returns notes on anything that needed force."""
        notes: list[str] = []
        if self.proc is not None and self.proc.poll() is None:
            problem = self.delete_kernels()
            if problem:
                notes.append(problem)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                notes.append("server ignored SIGTERM for 30 s; killed")
                self.proc.kill()
                self.proc.wait(timeout=30)
        if self.proc is not None:
            # anything left in the process group we created (e.g. an orphaned kernel)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
                notes.append("killed leftover processes of the server's process group")
            except (ProcessLookupError, PermissionError):
                pass
            self.proc = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.tmp, ignore_errors=True)
        return notes

    def delete_kernels(self) -> str | None:
        """Shut down every kernel of this server through the REST API (closing a page does not).
        Returns None, or what went wrong."""
        try:
            for kernel in self.api("GET", "/api/kernels"):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
        except (OSError, urllib.error.URLError, ValueError) as exc:
            return f"could not delete kernels through the API: {exc}"
        return None

    def __enter__(self) -> JupyterServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- helpers
    def api(self, method: str, path: str, body: dict | None = None):
        """Call the REST API; raises urllib.error.HTTPError for an error status."""
        headers = {"Authorization": f"token {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=10) as resp:
            reply = resp.read()
        return json.loads(reply) if reply else None

    def lab_url(self, rel_path: str) -> str:
        return f"{self.url}/lab/tree/{rel_path}?reset&token={self.token}"

    def served_path(self, notebook: Path) -> Path:
        """Where the server's copy of a repo notebook lives."""
        return self.root / Path(notebook).resolve().relative_to(REPO)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"


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


@dataclass
class Slider:
    index: int
    cell: int
    label: str
    readout: str
    now: str | None
    max: str | None
    disabled: bool

    @property
    def is_lambda(self) -> bool:
        return bool(LAMBDA_LABEL.search(self.label))


def sliders(page) -> list[Slider]:
    return [Slider(**s) for s in page.evaluate(SLIDERS_JS, PANEL)]


def sliders_to_move(found: list[Slider]) -> list[Slider]:
    """Every λ slider, plus the first slider of every widget output (cell)."""
    chosen, cells_seen = [], set()
    for s in found:
        if s.is_lambda or s.cell not in cells_seen:
            chosen.append(s)
        cells_seen.add(s.cell)
    return chosen


def plot_signatures(page) -> dict[str, str]:
    return page.evaluate(PLOTS_JS, PANEL)


@dataclass
class Move:
    slider: Slider
    key: str
    readout_after: str = ""
    changed_cells: list[int] = field(default_factory=list)
    latency_ms: float | None = None  # keydown -> first on-screen plot redraw
    sent_ms: float | None = None  # keydown -> first message to the kernel
    received_ms: float | None = None  # keydown -> last message from the kernel before the redraw
    error: str | None = None


def slider_locator(page, index: int):
    return page.locator(f"{PANEL} .jp-OutputArea .widget-slider").nth(index)


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


def move_slider(page, slider: Slider, timeout_s: float = PLOT_TIMEOUT_S, quiet_s: float = 1.0) -> Move:
    """Press one arrow key on the slider's handle (Left when at its maximum) and check that a plot
    in the notebook changed: pixels of an ipympl canvas or the source of an output image.

    The plots must be quiet before the key press (so a late first draw is not taken for the
    update); after it, wait for the first redraw, then for quiet again, and compare the final plots
    with those before the move."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    at_max = slider.now is not None and slider.max is not None and float(slider.now) >= float(
        slider.max
    )
    key = "ArrowLeft" if at_max else "ArrowRight"
    move = Move(slider=slider, key=key)
    wait_plots_quiet(page, quiet_s)
    before = plot_signatures(page)
    old_images = [p[4:] for sigs in before.values() for p in sigs.split(",") if p.startswith("img:")]
    page.evaluate("() => { const r = window.__course; r.t0 = null; r.events = []; r.ws = []; }")
    slider_locator(page, slider.index).locator(".noUi-handle").press(key)
    pixel_timeout_s = timeout_s
    try:  # cheap wait first (checked every animation frame): the first on-screen redraw
        page.wait_for_function(
            FIRST_REDRAW_JS, arg=old_images, polling="raf", timeout=timeout_s * 1000
        )
    except PlaywrightTimeout:  # nothing redrawn: give the pixel check below a short last chance
        pixel_timeout_s = 2
    try:  # then the real criterion: some plot's pixels (canvas) or source (img) differ
        page.wait_for_function(
            "([sel, before]) => JSON.stringify((" + PLOTS_JS + ")(sel)) !== JSON.stringify(before)",
            arg=[PANEL, before],
            timeout=pixel_timeout_s * 1000,
            polling=100,
        )
    except PlaywrightTimeout:  # reported; the caller asserts
        move.error = f"no plot changed within {timeout_s:.0f} s"
    rec = page.evaluate("() => window.__course")
    if rec["t0"] is not None:
        later = [
            e["t"]
            for e in rec["events"]
            if e["t"] >= rec["t0"] and e.get("sig") not in old_images
        ]
        if later:
            move.latency_ms = min(later) - rec["t0"]
            out = [w["t"] for w in rec["ws"] if w["dir"] == "out" and w["t"] >= rec["t0"]]
            into = [w["t"] for w in rec["ws"] if w["dir"] == "in" and w["t"] <= min(later)]
            move.sent_ms = min(out) - rec["t0"] if out else None
            move.received_ms = max(into) - rec["t0"] if into else None
    if move.error is None:
        wait_kernel_idle(page)
        wait_plots_quiet(page, quiet_s)
    after = plot_signatures(page)
    move.changed_cells = sorted(
        int(c) for c in set(before) | set(after) if before.get(c) != after.get(c)
    )
    if move.error is None and not move.changed_cells:
        move.error = "a plot changed, then returned to what it was before the move"
    move.readout_after = sliders(page)[slider.index].readout
    return move


def wait_kernel_idle(page, timeout_s: float = 30) -> None:
    _poll(page, lambda s: s["idle"] and not s["busy"], timeout_s)


def screenshot_cell(page, cell_index: int, path: Path) -> None:
    """Screenshot one cell (its input and output) into ``path`` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cell = page.locator(f"{PANEL} .jp-Cell").nth(cell_index)
    cell.scroll_into_view_if_needed()
    cell.screenshot(path=str(path))


def percentile(values: list[float], q: int) -> float:
    """The ``q``-th percentile (``q`` a whole number from 1 to 99) of a non-empty list, interpolated
    linearly between the two nearest ranks: ``numpy.percentile``'s default, so that p95 here means
    what it means in bench/bench_widgets.py and bench/bench_explorer.py."""
    if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= 99:
        raise ValueError(f"q must be a whole number from 1 to 99, got {q!r}")
    if not values:
        raise ValueError("values must not be empty")
    if len(values) == 1:  # statistics.quantiles wants two on Python 3.11 and 3.12
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


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
