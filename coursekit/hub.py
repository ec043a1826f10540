"""A real JupyterHub on this machine, with students as system users, for the teacher's hub test
(``tests/test_hub.py``) and bench (``bench/bench_hub.py``).

:class:`Hub` runs ``jupyterhub`` (from the teacher's environment ``.venv-teacher/``, pinned in
requirements-teacher.txt) with configurable-http-proxy (npm, ``tools/install_hub_proxy.sh``) on
127.0.0.1: the DummyAuthenticator (a shared password), the LocalProcessSpawner (each student's
server runs as that student, from the shared environment of :mod:`coursekit.hub_install`) and
``binder/start`` before each server, as README's hub configuration does. :class:`StudentServer`
is a student's Jupyter server seen through the proxy with the student's own API token, and
:class:`Kernel` runs code in one of its kernels over the kernel websocket, as JupyterLab does.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from coursekit.hub_install import PROXY, TEACHER_PYTHON, Student

SERVICE = "course-test"  # the hub service whose token the harness uses (an admin, as a teacher is)
START_TIMEOUT_S = 180  # a student's server start, on a loaded 2-core machine


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------------------------
# The hub
# ------------------------------------------------------------------------------------------------

CONFIG = """# JupyterHub for the course's hub test (coursekit/hub.py): the one-machine layout of README's
# "Teaching a class", on 127.0.0.1.
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.db_url = "sqlite:///{workdir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{workdir}/jupyterhub_cookie_secret"
c.ConfigurableHTTPProxy.command = ["{proxy}"]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = "{workdir}/proxy.pid"
c.ConfigurableHTTPProxy.check_running_interval = 2  # restart a proxy that died within 2 s
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = set({students!r})
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = ["{course}/binder/start", "{env}/bin/python", "-m", "jupyterhub.singleuser"]
c.Spawner.environment = {{"PATH": "{env}/bin:/usr/local/bin:/usr/bin:/bin"}}
c.Spawner.default_url = "/lab/tree/notebooks/00_start_here.ipynb"
c.Spawner.start_timeout = {start_timeout}
c.Spawner.http_timeout = {start_timeout}
c.JupyterHub.services = [{{"name": "{service}", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "{service}", "services": ["{service}"],
                            "scopes": ["read:hub", "admin:users", "admin:servers", "tokens",
                                       "access:servers"]}}]
"""


def proxies_on(api_port: int) -> list:
    """The configurable-http-proxy processes (psutil) whose API port is ``api_port``."""
    import psutil

    return [proc for proc in psutil.process_iter(["cmdline"])
            if any("configurable-http-proxy" in arg for arg in (proc.info["cmdline"] or [])[:2])
            and str(api_port) in proc.info["cmdline"]]


class HubError(RuntimeError):
    """The hub or a student's server did not do what was asked (the message says what and when)."""


class Hub:
    """``jupyterhub`` on 127.0.0.1 for ``students`` (see the module docstring); use as a context
    manager, or :meth:`start` and :meth:`stop`. Its files live in ``workdir`` (mode 700)."""

    def __init__(self, workdir: Path, course: Path, env: Path, students: list[Student]):
        self.workdir, self.course, self.env = Path(workdir), Path(course), Path(env)
        self.students = {s.name: s for s in students}
        self.port, self.hub_port, self.proxy_api_port = free_port(), free_port(), free_port()
        self.token = secrets.token_hex(24)
        self.password = secrets.token_hex(8)
        self.process: subprocess.Popen | None = None
        self.log_path = self.workdir / "jupyterhub.log"

    @property
    def url(self) -> str:
        """The hub's public URL (through the proxy)."""
        return f"http://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        """The jupyterhub_config.py this hub runs with."""
        return CONFIG.format(port=self.port, hub_port=self.hub_port, workdir=self.workdir, proxy=PROXY,
                             proxy_api_port=self.proxy_api_port, password=self.password,
                             students=sorted(self.students), course=self.course, env=self.env,
                             start_timeout=START_TIMEOUT_S, service=SERVICE, token=self.token)

    def start(self, timeout: float = 60) -> Hub:
        """Write the configuration and start the hub; return once its API answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o700)
        config = self.workdir / "jupyterhub_config.py"
        config.write_text(self.config_text())
        config.chmod(0o600)
        log = open(self.log_path, "ab")  # noqa: SIM115 -- kept open for the hub's life
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHON"))}
        self.process = subprocess.Popen([str(TEACHER_PYTHON), "-m", "jupyterhub", "-f", str(config)],
                                        cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        log.close()
        self.wait_until(lambda: self.api("GET", "/", check=False).status_code == 200, timeout, "the hub's API")
        for student in self.students.values():
            if self.api("GET", f"/users/{student.name}", check=False).status_code == 404:
                self.api("POST", f"/users/{student.name}")
            student.token = self.api("POST", f"/users/{student.name}/tokens",
                                     json={"note": "course test", "expires_in": 3600}).json()["token"]
        return self

    def stop(self) -> None:
        """Stop the hub (which stops the students' servers and the proxy), then any proxy it left
        running (it starts one while it shuts down if it ever restarted a proxy that had died)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        # JupyterHub 6.1.1 keeps polling a proxy it has restarted with a second timer that its
        # shutdown does not stop: that timer starts one more proxy while the hub shuts down.
        import psutil

        leftover = proxies_on(self.proxy_api_port)
        for proc in leftover:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
        for proc in psutil.wait_procs(leftover, timeout=10)[1]:  # still alive after 10 s
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()

    def __enter__(self) -> Hub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        """The end of the hub's log (the proxy's and the servers' output are in it too)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_until(self, ready, timeout: float, what: str) -> float:
        """Wait until ``ready()`` is true; return the seconds it took (HubError naming ``what`` after ``timeout``)."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if self.process is not None and self.process.poll() is not None:
                raise HubError(f"the hub exited ({self.process.returncode}) waiting for {what}:\n{self.log_tail()}")
            try:
                if ready():
                    return time.monotonic() - began
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise HubError(f"{what} not ready after {timeout:g} s:\n{self.log_tail()}")

    # --------------------------------------------------------------------------- the REST API
    def api(self, method: str, path: str, *, check: bool = True, **kw) -> requests.Response:
        """Call the hub's REST API (``/hub/api`` + ``path``) as the teacher's service."""
        response = requests.request(method, f"{self.url}/hub/api{path}", timeout=30,
                                    headers={"Authorization": f"token {self.token}"}, **kw)
        if check and response.status_code >= 400:
            raise HubError(f"{method} /hub/api{path}: {response.status_code} {response.text[:300]}")
        return response

    def server_state(self, name: str) -> dict | None:
        """The hub's model of ``name``'s default server, or None when it has none."""
        return self.api("GET", f"/users/{name}").json().get("servers", {}).get("")

    def start_server(self, name: str, timeout: float = START_TIMEOUT_S) -> float:
        """Ask the hub for ``name``'s server and wait until it is ready; return the seconds it took."""
        began = time.monotonic()
        self.api("POST", f"/users/{name}/server")
        self.wait_until(lambda: (self.server_state(name) or {}).get("ready"), timeout, f"{name}'s server")
        return time.monotonic() - began

    def stop_server(self, name: str, timeout: float = 60) -> None:
        """Stop ``name``'s server and wait until the hub has no server for them."""
        self.api("DELETE", f"/users/{name}/server")
        self.wait_until(lambda: self.server_state(name) is None, timeout, f"{name}'s server to stop")

    def proxy_pid(self) -> int:
        """The process id of the configurable-http-proxy the hub started."""
        return int((self.workdir / "proxy.pid").read_text().strip())

    def student(self, name: str) -> StudentServer:
        """``name``'s server, through the proxy, as ``name`` (their token)."""
        return StudentServer(self, self.students[name])


class StudentServer:
    """A student's Jupyter server seen through the hub's proxy with the student's own token."""

    def __init__(self, hub: Hub, student: Student):
        self.hub, self.student = hub, student
        self.base = f"{hub.url}/user/{student.name}"
        self.headers = {"Authorization": f"token {student.token}"}

    def request(self, method: str, path: str, **kw) -> requests.Response:
        """Call the server's REST API (``/api`` + ``path``); the response as it comes (no raise)."""
        return requests.request(method, f"{self.base}/api{path}", headers=self.headers, timeout=60, **kw)

    def page(self, path: str) -> requests.Response:
        """GET the server's page ``path`` (e.g. ``/lab``) through the proxy, as the student."""
        return requests.get(f"{self.base}{path}", headers=self.headers, timeout=60)

    def alive(self) -> bool:
        """Whether the server answers its status API through the proxy."""
        try:
            return self.request("GET", "/status").status_code == 200
        except requests.RequestException:
            return False

    def read(self, path: str) -> dict:
        """The contents model of ``path`` (a notebook: its JSON as ``content``)."""
        response = self.request("GET", f"/contents/{path}", params={"content": 1})
        if response.status_code != 200:
            raise HubError(f"GET {path} as {self.student.name}: {response.status_code} {response.text[:200]}")
        return response.json()

    def save_notebook(self, path: str, nb: dict) -> requests.Response:
        """Save notebook JSON ``nb`` at ``path`` as JupyterLab does (PUT contents); the response."""
        return self.request("PUT", f"/contents/{path}", json={"type": "notebook", "format": "json", "content": nb})

    def kernel(self, notebook_path: str) -> Kernel:
        """The kernel of ``notebook_path``'s session, as JupyterLab opening the notebook gets it: a new
        one (its folder the kernel's working folder), or the one the notebook's session already has."""
        response = self.request("POST", "/sessions", json={"path": notebook_path, "type": "notebook",
                                                           "name": Path(notebook_path).name,
                                                           "kernel": {"name": "python3"}})
        if response.status_code not in (200, 201):
            raise HubError(f"starting a kernel for {notebook_path} as {self.student.name}: "
                           f"{response.status_code} {response.text[:200]}")
        return Kernel(self, response.json()["kernel"]["id"])

    def new_kernel(self) -> Kernel:
        """A new kernel of no notebook (as JupyterLab's Console launcher starts one)."""
        response = self.request("POST", "/kernels", json={"name": "python3"})
        if response.status_code not in (200, 201):
            raise HubError(f"starting a kernel as {self.student.name}: {response.status_code} {response.text[:200]}")
        return Kernel(self, response.json()["id"])


@dataclass
class Reply:
    """What one ``execute_request`` gave: ``status`` ("ok", "error" or "aborted"), the stdout
    text, and the error's name and value when it failed."""

    status: str
    stdout: str = ""
    ename: str = ""
    evalue: str = ""


class Kernel:
    """A kernel of a student's server, driven over its websocket through the proxy (the Jupyter
    messaging protocol, as JupyterLab speaks it)."""

    def __init__(self, server: StudentServer, kernel_id: str):
        self.server, self.id = server, kernel_id
        self.session = uuid.uuid4().hex
        self.ws = None

    def connect(self) -> Kernel:
        """Open (or reopen, e.g. after the proxy restarted) the kernel's websocket."""
        import websocket

        self.close()
        base = self.server.base.replace("http://", "ws://")
        url = f"{base}/api/kernels/{self.id}/channels?session_id={self.session}"
        self.ws = websocket.create_connection(url, header=[f"Authorization: token {self.server.student.token}"],
                                              timeout=60)
        return self

    def close(self) -> None:
        """Close the websocket (the kernel keeps running)."""
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:  # already gone
                pass
            self.ws = None

    def send(self, code: str) -> str:
        """Send ``code`` for execution without waiting (e.g. code that kills its kernel); its message id."""
        if self.ws is None:
            self.connect()
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": self.server.student.name, "session": self.session,
                       "msg_type": "execute_request", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        return msg_id

    def execute(self, code: str, timeout: float = 600) -> Reply:
        """Run ``code`` and wait for its reply and the kernel's return to idle (HubError after
        ``timeout`` seconds, or if the server closes the websocket)."""
        import websocket

        msg_id = self.send(code)
        reply, idle, out = None, False, []
        deadline = time.monotonic() + timeout
        while reply is None or not idle:
            if time.monotonic() > deadline:
                raise HubError(f"a cell ran past {timeout:g} s in {self.server.student.name}'s kernel")
            self.ws.settimeout(max(1.0, deadline - time.monotonic()))
            try:
                # control_frame=True: the server's pings come back here, so the deadline is checked
                # between them (recv() alone would wait through pings forever).
                opcode, frame = self.ws.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                continue
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                raise HubError(f"{self.server.student.name}'s server closed the kernel's websocket")
            if opcode != websocket.ABNF.OPCODE_TEXT:  # pings, and messages with buffers (widgets)
                continue
            msg = json.loads(frame)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "execute_reply":
                reply = msg["content"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
            elif kind == "stream" and msg["content"]["name"] == "stdout":
                out.append(msg["content"]["text"])
        return Reply(reply["status"], "".join(out), reply.get("ename", ""), reply.get("evalue", ""))

    def run_notebook(self, nb: dict, timeout: float = 600) -> list[Reply]:
        """Run the code cells of notebook JSON ``nb`` in order, up to the first that fails; their replies."""
        replies = []
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            replies.append(self.execute(source, timeout))
            if replies[-1].status != "ok":
                break
        return replies

    def shutdown(self) -> None:
        """Close the websocket and shut the kernel down."""
        self.close()
        self.server.request("DELETE", f"/kernels/{self.id}")
