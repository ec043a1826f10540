"""The notebooks the browser test opens, and the private JupyterLab server that serves a copy of the
course to it (see :mod:`coursekit.lab_browser` for the decisions)."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from coursekit.lab_browser.settings import (
    AUTOSAVE_INTERVAL_S,
    CHROMIUM,
    FIXTURES,
    INSTALL_HINT,
    NOTEBOOKS,
    READ_ONLY_DIRS,
    REPO,
    WIDGET_CODE,
)
from coursekit.notebook_files import notebook_code


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
            cmd.append("--ServerApp.contents_manager_class=coursekit.lab_server.CourseContentsManager")
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

    def run_in_kernel(self, code: str, expression: str = "None", timeout: float = 60) -> str:
        """Run ``code`` in this server's only kernel as a second client (``silent``: the notebook
        shows no output and no prompt for it) and return ``expression``'s ``repr`` evaluated after
        it; raises ``RuntimeError`` if it failed or there is not exactly one kernel. Comm messages
        the code causes (an ipympl frame) reach the page as usual."""
        from jupyter_client import BlockingKernelClient

        kernels = self.api("GET", "/api/kernels")
        if len(kernels) != 1:
            raise RuntimeError(f"run_in_kernel needs exactly one kernel, the server has {len(kernels)}")
        client = BlockingKernelClient(connection_file=str(self.tmp / "runtime" / f"kernel-{kernels[0]['id']}.json"))
        client.load_connection_file()
        client.start_channels()
        try:
            msg_id = client.execute(code, silent=True, store_history=False, user_expressions={"out": expression})
            deadline = time.monotonic() + timeout
            while True:
                reply = client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
        finally:
            client.stop_channels()
        content = reply["content"]
        out = content.get("user_expressions", {}).get("out", {})
        if content["status"] != "ok" or out.get("status") != "ok":
            failed = content if content["status"] != "ok" else out
            raise RuntimeError(f"code failed in the kernel: {failed.get('ename')}: {failed.get('evalue')}")
        return out["data"]["text/plain"]

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
