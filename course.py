#!/usr/bin/env python3
"""Set up, open and test the regularization course. Standard library only; run with Python 3.11.

    python3 course.py lab        set up, then open the course in JupyterLab (127.0.0.1, token on)
    python3 course.py test       set up, then run every test (what CI runs)
    python3 course.py my-work    copy the assignment notebooks into my_work/ (never overwrites)
    python3 course.py data       regenerate the shipped datasets in data/
    python3 course.py setup      only set up (what the others do first)

"Set up" creates a virtual environment in .venv/ if it is missing and installs the pinned
requirements.txt plus the course's `helpers` package (editable). It is skipped when nothing
changed since the last install, so the commands are quick the second time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".course-installed"
WANTED = (3, 11)
IS_WINDOWS = os.name == "nt"


def say(msg: str) -> None:
    print(f"[course] {msg}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if IS_WINDOWS else "bin/python")


def run(cmd, **kw) -> None:
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def base_python() -> str:
    """A Python 3.11 to build the environment with: this one, or python3.11 on the PATH."""
    if sys.version_info[:2] == WANTED:
        return sys.executable
    other = shutil.which("python3.11") or shutil.which("py")
    if other:
        return other
    sys.exit(f"The course needs Python 3.11 (this is {sys.version.split()[0]}); install python3.11.")


def create_venv() -> None:
    say(f"creating the course environment in {VENV}")
    python = base_python()
    try:
        run([python, "-m", "venv", VENV])
        return
    except subprocess.CalledProcessError:
        shutil.rmtree(VENV, ignore_errors=True)
    # Debian without python3-venv has no ensurepip: make the venv bare, then let pip fill it.
    say("venv without ensurepip; bootstrapping pip into it")
    try:
        run([python, "-m", "venv", "--without-pip", VENV])
        run([python, "-m", "pip", "--python", venv_python(), "install", "--quiet", "pip"])
    except subprocess.CalledProcessError:
        shutil.rmtree(VENV, ignore_errors=True)
        sys.exit("Could not create a virtual environment. On Debian/Ubuntu: "
                 "apt-get install python3.11-venv, then run this command again.")


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def setup() -> Path:
    """Create .venv if missing and install the pinned requirements and `helpers` into it."""
    if not venv_python().exists():
        create_venv()
    if STAMP.exists() and STAMP.read_text() == fingerprint():
        say("environment up to date (.venv)")
        return venv_python()
    say("installing the pinned requirements (the first time takes a few minutes)")
    py = venv_python()
    run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", ROOT / "requirements.txt", "-e", ROOT])
    STAMP.write_text(fingerprint())
    say("environment ready")
    return py


def jupyter_env() -> dict:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no TensorFlow start-up noise in the notebooks
    return env


def cmd_lab(args: list[str]) -> int:
    py = setup()
    cmd = [py, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={ROOT}",
           "notebooks/00_start_here.ipynb", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    say("opening JupyterLab on 127.0.0.1 (token authentication on); stop it with Ctrl+C")
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=jupyter_env())


def cmd_test(args: list[str]) -> int:
    py = setup()
    installer = ROOT / "tools" / "install_browser.sh"
    if sys.platform.startswith("linux") and installer.exists():
        run(["bash", installer])
    return subprocess.call([str(py), "-m", "pytest", *args], cwd=ROOT, env=jupyter_env())


def cmd_my_work(args: list[str]) -> int:
    py = setup()
    return subprocess.call([str(py), "-m", "helpers.assignments", "copy", *args], cwd=ROOT)


def cmd_data(args: list[str]) -> int:
    py = setup()
    return subprocess.call([str(py), "-m", "helpers.make_data", "--write", *args], cwd=ROOT)


def cmd_setup(args: list[str]) -> int:
    setup()
    return 0


COMMANDS = {"setup": cmd_setup, "lab": cmd_lab, "test": cmd_test, "my-work": cmd_my_work, "data": cmd_data}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
