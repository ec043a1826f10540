#!/usr/bin/env python3
"""Set up, open and test the regularization course. Standard library only.

    python3 course.py lab        set up, copy the assignments into my_work/, then open the course
                                 in JupyterLab at notebooks/00_start_here.ipynb (127.0.0.1, token on)
    python3 course.py test       set up, then run every test (what CI runs)
    python3 course.py my-work    copy the assignment notebooks into my_work/ (never overwrites)
    python3 course.py data       regenerate the shipped datasets in data/
    python3 course.py site       build the course as a static website into site/ (every notebook
                                 executed once; open site/index.html, or serve the folder anywhere)
    python3 course.py nbgrader   for teachers: write an nbgrader course folder from the solution
                                 notebooks, in the teacher's environment .venv-teacher/
    python3 course.py setup      only set up (what the others do first)

Options after a command go to the program it runs: `lab` passes them to JupyterLab (e.g.
`--port 9999`, `--no-browser`), `test` to pytest (e.g. `-k stats`, `-m "not browser"`), `site` to the
website's build (`--out DIR`, `--no-execute`, `--jobs N`). `python3 course.py COMMAND --help` says
more about one command; help never installs anything.

"Set up" makes sure .venv/ is a working virtual environment with the pinned requirements.txt and
the course's packages installed (editable: `helpers`, what the lessons import, and `coursekit`,
its machinery). It creates .venv/ when it is missing and rebuilds it when it cannot work (no pip,
a Python the course does not support, an interpreter that is gone); it reinstalls when
requirements.txt, pyproject.toml or the environment's Python changed since the last install, or
when a key package has gone missing. Otherwise it takes a second, so the commands are quick the
second time.

The teacher's environment .venv-teacher/ (for `nbgrader` and the teacher's part of `test`: a real
JupyterHub, nbgrader) holds only the teacher's extras, pinned in requirements-teacher.txt, and
reads every other package from .venv/ through a .pth file: the learner's .venv/ never holds them,
the packages the two share are the same files, and it costs about 190 MB, not another 2.3 GB.

This script is one file of about 800 lines on purpose: it runs before anything is installed (the
standard library only, on the learner's own Python), so it cannot import the course's packages,
and a learner downloads and runs it as it is.

The course needs Python 3.11, 3.12 or 3.13 (SUPPORTED below). This script itself runs on any
Python 3.8 or later: on another version it builds .venv/ with a supported python3.X from the PATH,
or says which versions to install.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP_NAME = ".course-installed"
IS_WINDOWS = os.name == "nt"

# The Pythons the course supports: those for which every pin in requirements.txt has a wheel
# (tests/test_python_versions.py resolves them). pyproject.toml's requires-python says the same,
# and a test checks that the two agree; this copy exists because nothing is installed yet when
# this script starts.
SUPPORTED = ((3, 11), (3, 12), (3, 13))
PREFERRED = (3, 11)  # the version CI tests: picked first when several are on the PATH
REQUIRES_PYTHON = ">={}.{},<{}.{}".format(*SUPPORTED[0], SUPPORTED[-1][0], SUPPORTED[-1][1] + 1)

# Importable in a working course environment; probed with importlib.util.find_spec (nothing is
# imported, so TensorFlow's slow start is not paid).
KEY_MODULES = ("jupyterlab", "ipywidgets", "ipympl", "numpy", "matplotlib", "sklearn", "keras",
               "tensorflow", "nbval", "helpers", "coursekit")
# Older pips (the 23.2 that Python 3.11 and 3.12 bring) resolve requirements.txt about 3x slower.
PIP_REQUIREMENT = "pip>=25"

START_NOTEBOOK = "notebooks/00_start_here.ipynb"
# Written by `python -m coursekit.lab_server enable` (a test checks the path): it makes the course's
# notebooks read-only in every JupyterLab of the environment, so autosave never rewrites them.
LAB_CONFIG = "etc/jupyter/jupyter_server_config.d/regularization-course.json"
LAB_EXTENSION = "coursekit.lab_server"  # the module that LAB_CONFIG enables
GRACE_S = 20  # how long JupyterLab may take to shut down its kernels before it is killed


def say(msg: str) -> None:
    """Print one line of the launcher's own output (never fails, e.g. once the terminal is gone)."""
    try:
        print(f"[course] {msg}", flush=True)
    except OSError:
        pass


def version_text(version) -> str:
    """``(3, 11)`` -> ``"3.11"``."""
    return ".".join(str(part) for part in version)


def supported_text() -> str:
    """``"3.11, 3.12 or 3.13"``."""
    names = [version_text(v) for v in SUPPORTED]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def parse_version(text: str) -> tuple[int, ...] | None:
    """``"3.11.7"`` -> ``(3, 11, 7)``; None for anything else."""
    try:
        return tuple(int(part) for part in text.strip().split("."))
    except ValueError:
        return None


def is_supported(version) -> bool:
    """Whether a Python ``(major, minor, ...)`` is one the course supports."""
    return tuple(version[:2]) in SUPPORTED


# --- choosing a Python ---------------------------------------------------------------------------

_WHO_ARE_YOU = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)"


def interpreter(cmd: list[str]) -> tuple[tuple[int, ...], str] | None:
    """Run ``cmd`` (a Python) and return its ``(version, sys.executable)``, or None if it does not run.

    Asking the interpreter itself sees through pyenv's shims, which exist on the PATH for every
    installed version but fail for those that are not selected.
    """
    try:
        done = subprocess.run([*cmd, "-c", _WHO_ARE_YOU], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.split("\n")
    version = parse_version(lines[0]) if done.returncode == 0 and len(lines) > 1 else None
    return None if version is None else (version, lines[1].strip())


def candidate_commands() -> list[list[str]]:
    """Commands that may start a supported Python, PREFERRED first: ``python3.X`` (``py -3.X`` on Windows)."""
    ordered = sorted(SUPPORTED, key=lambda v: v != PREFERRED)
    if IS_WINDOWS:
        return [["py", f"-{version_text(v)}"] for v in ordered]
    found = (shutil.which(f"python{version_text(v)}") for v in ordered)
    return [[path] for path in found if path]


def find_python() -> str | None:
    """A supported Python to build .venv with: this one if supported, else the first on the PATH."""
    if is_supported(sys.version_info):
        # the interpreter a venv was made from, when this script runs inside one (maybe .venv itself)
        return getattr(sys, "_base_executable", None) or sys.executable
    for cmd in candidate_commands():
        found = interpreter(cmd)
        if found and is_supported(found[0]):
            return found[1]
    return None


def python_or_exit() -> str:
    """find_python(), or exit with a message that names the supported versions."""
    python = find_python()
    if python is None:
        names = " or ".join(f"python{version_text(v)}" for v in SUPPORTED)
        sys.exit(f"The course needs Python {supported_text()}; this is Python {version_text(sys.version_info[:3])} "
                 f"and there is no {names} on the PATH. Install one of them and run this command again.")
    return python


# --- the environment's health ------------------------------------------------------------------

CREATE, REBUILD, INSTALL, REPAIR, OK = "create", "rebuild", "install", "repair", "ok"


class Verdict(NamedTuple):
    """What setup() must do with a venv (one of CREATE .. OK) and why, in words for the learner."""

    action: str
    reason: str


class VenvState(NamedTuple):
    """What a venv's own Python says about itself."""

    version: tuple[int, ...]
    missing: list[str]  # modules that importlib.util.find_spec does not find


_PROBE = ("import importlib.util, sys; print('%d.%d.%d' % sys.version_info[:3]); "
          "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))")


def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment ``venv``."""
    return venv / ("Scripts/python.exe" if IS_WINDOWS else "bin/python")


def inspect_venv(venv: Path, modules=KEY_MODULES) -> VenvState | None:
    """Ask ``venv``'s Python for its version and which of pip and ``modules`` it cannot find.

    Runs isolated (``-I``): neither the current folder nor PYTHONPATH can make a module look
    installed. None if the interpreter does not run.
    """
    try:
        done = subprocess.run([str(venv_python(venv)), "-I", "-c", _PROBE, "pip", *modules],
                              capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.split("\n")
    version = parse_version(lines[0]) if done.returncode == 0 and len(lines) > 1 else None
    return None if version is None else VenvState(version, lines[1].split())


def fingerprint() -> str:
    """SHA-256 of requirements.txt and pyproject.toml: what an install put into the venv."""
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def stamp_text(version) -> str:
    """The install stamp for a venv whose Python is ``version``: the fingerprint and that version."""
    return f"requirements {fingerprint()}\npython {version_text(version)}\n"


def stamp_path(venv: Path) -> Path:
    """Where setup() records a finished install in ``venv``."""
    return venv / STAMP_NAME


def stamp_is_current(venv: Path, version) -> bool:
    """Whether ``venv``'s stamp matches today's requirements and the venv's Python ``version``."""
    try:
        return stamp_path(venv).read_text() == stamp_text(version)
    except OSError:
        return False


def diagnose(venv: Path, modules=KEY_MODULES) -> Verdict:
    """Decide whether ``venv`` is usable as it is, needs an install, or must be built (again).

    REBUILD: not a venv, its interpreter is gone or does not run, its Python is one the course does
    not support, or it has no pip (what an interrupted ``python -m venv`` leaves). INSTALL: no
    stamp, or a stamp from other requirements or another Python. REPAIR: a current stamp but some
    of ``modules`` cannot be found.
    """
    name = venv.name
    if not venv.exists():
        return Verdict(CREATE, f"there is no {name} yet")
    if not (venv / "pyvenv.cfg").is_file():
        return Verdict(REBUILD, f"{name} is not a virtual environment (it has no pyvenv.cfg)")
    python = venv_python(venv)
    if not python.exists():
        if python.is_symlink():
            return Verdict(REBUILD, f"the Python {name} was built with is gone ({python} is a broken link)")
        return Verdict(REBUILD, f"{name} has no {python.relative_to(venv)}")
    state = inspect_venv(venv, modules)
    if state is None:
        return Verdict(REBUILD, f"the Python in {name} does not start")
    if not is_supported(state.version):
        return Verdict(REBUILD, f"{name} was built with Python {version_text(state.version)}, "
                                f"and the course needs {supported_text()}")
    if "pip" in state.missing:
        return Verdict(REBUILD, f"{name} has no pip (what an interrupted set-up leaves)")
    if not stamp_is_current(venv, state.version):
        if stamp_path(venv).exists():
            return Verdict(INSTALL, "requirements.txt, pyproject.toml or the Python of "
                                    f"{name} changed since the last install")
        return Verdict(INSTALL, f"no set-up of {name} has finished yet (none, or one interrupted)")
    if state.missing:
        return Verdict(REPAIR, f"{name} lacks {', '.join(state.missing)} although it was set up")
    return Verdict(OK, f"{name} is up to date")


# --- building and installing -------------------------------------------------------------------

def run(cmd, **kw) -> None:
    """Run ``cmd`` (paths allowed), raising CalledProcessError if it fails."""
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def create_venv(venv: Path, python: str) -> None:
    """Make ``venv`` with ``python``, with pip in it (bootstrapped where ensurepip is missing)."""
    try:
        run([python, "-m", "venv", venv])
        return
    except subprocess.CalledProcessError:
        shutil.rmtree(venv, ignore_errors=True)
    # Debian without python3-venv has no ensurepip: make the venv bare, then let pip fill it.
    say("venv without ensurepip; bootstrapping pip into it")
    try:
        run([python, "-m", "venv", "--without-pip", venv])
        run([python, "-m", "pip", "--python", venv_python(venv), "install", "--quiet", PIP_REQUIREMENT])
    except subprocess.CalledProcessError:
        shutil.rmtree(venv, ignore_errors=True)
        found = interpreter([python])
        package = f"python{version_text(found[0][:2])}-venv" if found else "python3-venv"
        sys.exit(f"Could not create a virtual environment. On Debian/Ubuntu: apt-get install {package}, "
                 "then run this command again.")


def rebuild(venv: Path) -> None:
    """Delete ``venv`` (if any) and create it again with a supported Python."""
    python = python_or_exit()
    shutil.rmtree(venv, ignore_errors=True)
    say(f"creating the course environment in {venv} with {python}")
    create_venv(venv, python)


def install(venv: Path) -> None:
    """Install a recent pip, then the pinned requirements and the course's packages (editable) into
    ``venv``. Nothing here proves they work: setup() imports them before it trusts the install."""
    python = venv_python(venv)
    quiet = ["--quiet", "--disable-pip-version-check"]
    run([python, "-m", "pip", "install", *quiet, PIP_REQUIREMENT])
    # PYTHONWARNINGS: setuptools' editable build warns about a folder named like the package in
    # the working directory, which is exactly how this course is laid out (helpers/ at the top).
    run([python, "-m", "pip", "install", *quiet, "-r", ROOT / "requirements.txt", "-e", ROOT],
        env={**os.environ, "PYTHONWARNINGS": "ignore"})


def enable_lab_protection(venv: Path) -> None:
    """Enable the server extension coursekit.lab_server for ``venv``'s JupyterLab (writes LAB_CONFIG)."""
    run([venv_python(venv), "-m", "coursekit.lab_server", "enable"], stdout=subprocess.DEVNULL)


def lab_protection_current(venv: Path) -> bool:
    """Whether ``venv``'s JupyterLab config enables today's extension (it moved from helpers to coursekit)."""
    try:
        return LAB_EXTENSION in (venv / LAB_CONFIG).read_text()
    except OSError:
        return False


# What the lessons need, imported (not only found) in a child process before the stamp is written:
# an install that was interrupted can leave a package that pip counts as installed (its dist-info
# is there) but that does not import (e.g. TensorFlow without tensorflow/python/).
IMPORTED = KEY_MODULES
_IMPORTS = ("import importlib, json, sys\n"
            "bad = {}\n"
            "for name in sys.argv[1:]:\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except BaseException as exc:\n"
            "        bad[name] = (type(exc).__name__ + ': ' + str(exc)).splitlines()[0][:200]\n"
            "print(json.dumps(bad))")
_OWNERS = ("import importlib.metadata as md, json, sys\n"
           "owners = md.packages_distributions()\n"
           "found = {}\n"
           "for name in sys.argv[1:]:\n"
           "    found[name] = []\n"
           "    for dist in owners.get(name, []):\n"
           "        try:\n"
           "            found[name].append([dist, md.version(dist)])\n"
           "        except md.PackageNotFoundError:\n"
           "            pass\n"
           "print(json.dumps(found))")
COURSE_DISTRIBUTION = "regularization-course"  # pyproject.toml's name: helpers and coursekit, editable


def _ask_venv(venv: Path, code: str, names, timeout: float = 600) -> dict | None:
    """Run ``code`` (which prints JSON) with ``names`` in ``venv``'s Python, isolated (-I); None if it
    does not run or print JSON."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}  # TensorFlow's start-up notices are not news here
    try:
        done = subprocess.run([str(venv_python(venv)), "-I", "-c", code, *names], capture_output=True, text=True,
                              timeout=timeout, env=env)
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def import_problems(venv: Path, modules=IMPORTED) -> dict:
    """``{module: "Error: message"}`` for each of ``modules`` that ``venv``'s Python cannot import
    (all of them when the interpreter does not run)."""
    found = _ask_venv(venv, _IMPORTS, modules)
    return {m: "the environment's Python does not run" for m in modules} if found is None else found


def owners(venv: Path, modules) -> dict:
    """``{module: [(distribution, version), ...]}``: which installed distributions provide each of
    ``modules`` in ``venv`` (from their metadata, which an interrupted install leaves behind)."""
    return _ask_venv(venv, _OWNERS, modules, timeout=120) or {m: [] for m in modules}


def force_reinstall(venv: Path, distributions: list, course: bool, everything: bool = False) -> None:
    """Reinstall ``distributions`` (``name==version``, without their dependencies), the course's own
    packages when ``course``, and with ``everything`` the whole pinned set, over whatever is left."""
    python = venv_python(venv)
    quiet = ["--quiet", "--disable-pip-version-check", "--force-reinstall"]
    if everything:
        run([python, "-m", "pip", "install", *quiet, "-r", ROOT / "requirements.txt"])
    if distributions:
        run([python, "-m", "pip", "install", *quiet, "--no-deps", *distributions])
    if course:
        run([python, "-m", "pip", "install", *quiet, "--no-deps", "-e", ROOT],
            env={**os.environ, "PYTHONWARNINGS": "ignore"})


COURSE_MODULES = ("helpers", "coursekit")


def root_causes(broken: dict) -> dict:
    """Of the ``broken`` modules (``{module: error}``), those whose own files are missing or broken
    (their error names the module itself: ``No module named 'numpy'``, ``... 'tensorflow.python'``);
    the others may fail only for importing one of those (matplotlib without numpy), and need no
    reinstall of their own. All of them when none names itself."""
    own = {m: e for m, e in broken.items() if f"No module named '{m}'" in e or f"No module named '{m}." in e}
    return own or broken


def repair(venv: Path, broken: dict) -> None:
    """Reinstall what provides the ``broken`` modules (``{module: error}``), saying which and why:
    the distributions their metadata names (at the version installed), the course's packages for
    ``helpers``/``coursekit``, and the whole pinned set for a module nothing claims."""
    found = owners(venv, list(broken))
    pins, course, unknown = [], False, []
    for module in broken:
        dists = found.get(module) or []
        course = course or module in COURSE_MODULES or any(d == COURSE_DISTRIBUTION for d, _ in dists)
        pins += [f"{d}=={v}" for d, v in dists if d != COURSE_DISTRIBUTION and f"{d}=={v}" not in pins]
        if not dists and module not in COURSE_MODULES:
            unknown.append(module)
    what = pins + ([f"the course's packages ({COURSE_DISTRIBUTION})"] if course else [])
    what += ["every pinned requirement (nothing says which one brings " + ", ".join(unknown) + ")"] if unknown else []
    module, error = next(iter(broken.items()))
    say(f"{', '.join(broken)} cannot be imported ({module}: {error}): reinstalling {', '.join(what)}")
    force_reinstall(venv, pins, course, everything=bool(unknown))


FIRST_INSTALL = "installing the pinned requirements (about 2.2 GB; the first time takes a few minutes)"


def install_until_importable(venv: Path, verdict: Verdict) -> dict:
    """Install into ``venv`` as ``verdict`` asks, then import what the lessons need; repair what does
    not import, and rebuild from scratch when that does not help. Returns what still fails ({} when
    all is well)."""
    if verdict.action != REPAIR:
        install(venv)
    broken = import_problems(venv)
    for _ in range(3):  # the root causes first; what failed only for importing them then imports
        if not broken:
            break
        try:
            repair(venv, root_causes(broken))
        except subprocess.CalledProcessError as exc:
            say(f"the repair failed (exit status {exc.returncode})")
            break
        still = import_problems(venv)
        if set(still) >= set(broken):  # no progress: rebuild instead
            broken = still
            break
        broken = still
    if broken and verdict.action not in (CREATE, REBUILD):
        module, error = next(iter(broken.items()))
        say(f"{', '.join(broken)} still cannot be imported ({module}: {error}): rebuilding {venv.name} from scratch")
        rebuild(venv)
        say(FIRST_INSTALL)
        install(venv)
        broken = import_problems(venv)
    return broken


def setup(venv: Path = VENV) -> Path:
    """Make ``venv`` a working course environment (see diagnose()); return its Python.

    The stamp that lets later runs start in a second is written only once every module of
    :data:`IMPORTED` imports in a child process; until then each run repairs (a reinstall of what
    does not import) or rebuilds, and says which and why in one line."""
    verdict = diagnose(venv)
    if verdict.action == OK:
        if not lab_protection_current(venv):
            enable_lab_protection(venv)
        say(f"environment up to date ({venv.name})")
        return venv_python(venv)
    if verdict.action == REBUILD:
        say(f"{verdict.reason}: deleting and rebuilding it ({venv.name} is the course's own "
            "environment; nothing else lives there)")
    if verdict.action in (CREATE, REBUILD):
        rebuild(venv)
        say(FIRST_INSTALL)
    elif verdict.action == REPAIR:
        say(f"{verdict.reason}: reinstalling what is missing")
        stamp_path(venv).unlink(missing_ok=True)  # not ready until it imports again
    else:
        say(f"{verdict.reason}: installing the pinned requirements")
    broken = install_until_importable(venv, verdict)
    if broken:
        module, error = next(iter(broken.items()))
        sys.exit(f"The install finished, yet {', '.join(broken)} cannot be imported from {venv} "
                 f"({module}: {error}); see pip's messages above.")
    enable_lab_protection(venv)
    state = inspect_venv(venv)
    stamp_path(venv).write_text(stamp_text(state.version))
    say("environment ready")
    return venv_python(venv)


# --- the teacher's environment ----------------------------------------------------------------------

TEACHER_VENV = ROOT / ".venv-teacher"
TEACHER_REQUIREMENTS = "requirements-teacher.txt"
TEACHER_MODULES = ("jupyterhub", "nbgrader", "nbgitpuller", "helpers", "coursekit", "numpy")
LEARNER_PTH = "learner-environment.pth"  # in .venv-teacher's site-packages: adds .venv's


def python_says(python, expression: str) -> str:
    """What the interpreter ``python`` prints for ``expression`` (``sys`` and ``sysconfig`` imported)."""
    done = subprocess.run([str(python), "-I", "-c", f"import sys, sysconfig; print({expression})"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def site_packages(python) -> str:
    """The site-packages folder (purelib) of the environment whose interpreter is ``python``."""
    return python_says(python, "sysconfig.get_paths()['purelib']")


def teacher_stamp(learner_site: str) -> str:
    """What a finished .venv-teacher records: both requirements files and the .venv it reads."""
    digest = hashlib.sha256()
    for name in ("requirements.txt", TEACHER_REQUIREMENTS, "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return f"requirements {digest.hexdigest()}\nlearner {learner_site}\n"


def link_missing(source: Path, dest: Path) -> None:
    """Symlink into ``dest`` every entry of ``source`` that ``dest`` lacks, going down into folders
    that both have, so that nothing is ever written through a link into ``source``: Jupyter's data
    and config of .venv seen from .venv-teacher, whose own come first."""
    if not source.is_dir():
        return
    dest.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        target = dest / item.name
        if target.is_dir() and not target.is_symlink() and item.is_dir():
            link_missing(item, target)
        elif not target.exists() and not target.is_symlink():
            target.symlink_to(item)


def teacher_setup(learner: Path | None = None) -> Path:
    """Set up .venv/ (setup()), then .venv-teacher/: a venv of the same Python with a .pth file
    that puts .venv's site-packages on its path and only the teacher's extras installed in it
    (``-c requirements.txt``: pip may not change a version the learner's environment pins).
    Rebuilt from scratch (about 20 s) whenever its stamp is not today's or
    one of TEACHER_MODULES does not import; returns its Python. ``learner``: .venv's Python when
    setup() has just run."""
    learner = learner or setup()
    learner_site = site_packages(learner)
    venv = TEACHER_VENV
    if stamp_path(venv).is_file() and stamp_path(venv).read_text() == teacher_stamp(learner_site):
        if not import_problems(venv, TEACHER_MODULES):
            return venv_python(venv)
        say(f"{venv.name} cannot import everything it needs: rebuilding it")
    else:
        say(f"setting up the teacher's environment {venv.name} (the extras of {TEACHER_REQUIREMENTS} "
            "on top of .venv)")
    base = python_says(learner, "sys._base_executable")
    shutil.rmtree(venv, ignore_errors=True)
    create_venv(venv, base)
    python = venv_python(venv)
    # An "import" line of a .pth file runs at start-up: addsitedir also runs .venv's own .pth files
    # (the editable install of helpers and coursekit); a plain path line would not.
    Path(site_packages(python), LEARNER_PTH).write_text(f"import site; site.addsitedir({learner_site!r})\n")
    quiet = ["--quiet", "--disable-pip-version-check"]
    run([python, "-m", "pip", "install", *quiet, PIP_REQUIREMENT])
    run([python, "-m", "pip", "install", *quiet, "-r", ROOT / TEACHER_REQUIREMENTS, "-c", ROOT / "requirements.txt"])
    for data in ("share/jupyter", "etc/jupyter"):  # nbconvert's templates, JupyterLab, server extensions
        link_missing(Path(python_says(learner, "sys.prefix"), data), venv / data)
    broken = import_problems(venv, TEACHER_MODULES)
    if broken:
        module, error = next(iter(broken.items()))
        sys.exit(f"The teacher's environment {venv} cannot import {', '.join(broken)} ({module}: {error}).")
    stamp_path(venv).write_text(teacher_stamp(learner_site))
    say(f"teacher's environment ready ({venv.name})")
    return python


# --- JupyterLab ------------------------------------------------------------------------------------

def copy_assignments(python: Path) -> None:
    """Copy missing assignment notebooks into my_work/ (never overwriting); say so in one line."""
    done = subprocess.run([str(python), "-m", "coursekit.assignments", "copy"], cwd=ROOT,
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        problem = (done.stderr.strip() or done.stdout.strip() or f"exit status {done.returncode}").splitlines()[-1]
        say(f"could not copy the assignments into my_work/ ({problem}); starting JupyterLab anyway")
        return
    say(f"your copies of the assignments: {lines[-1]}")  # "N copied, M kept; open them from .../my_work/"


def lab_command(python: Path, args: list[str]) -> list[str]:
    """The JupyterLab command: 127.0.0.1 only, token on, opening START_NOTEBOOK; ``args`` go to jupyter."""
    cmd = [str(python), "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={ROOT}",
           # LabApp's own default_url ("/lab") wins over ServerApp.default_url: set LabApp's
           f"--LabApp.default_url=/lab/tree/{START_NOTEBOOK}", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def stop_signals() -> list[signal.Signals]:
    """The signals that mean "stop": Ctrl+C, ``kill`` and a closed terminal (those this OS has)."""
    return [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies (Linux)


def die_with_parent(parent: int):
    """A ``preexec_fn`` for a child of process ``parent`` (Linux): before the child runs its program,
    ask the kernel to send it SIGTERM when ``parent`` dies, whatever kills it; if ``parent`` is
    already gone by then, exit at once."""
    def arrange() -> None:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl here: the launcher's own signal handling remains
            return
        if os.getppid() != parent:
            os._exit(1)
    return arrange


def run_server(cmd: list[str], **popen_kwargs) -> int:
    """Run the JupyterLab server ``cmd`` until it exits; on a stop signal, let it shut down cleanly.

    The server runs in its own session (POSIX), so a Ctrl+C in the terminal reaches only this
    launcher. On SIGINT, SIGTERM or SIGHUP the launcher sends the server SIGTERM, on which
    jupyter_server shuts down its kernels and extensions and exits (a SIGINT would instead ask
    "Shut down this Jupyter server (y/[n])?" on a terminal, and elsewhere end it without shutting
    its kernels down). A server still running GRACE_S seconds later, or at a second stop signal, is
    killed. On Linux the server is also told to stop (SIGTERM) when the launcher itself dies, even
    of a ``kill -9`` that leaves it no time to pass anything on (:func:`die_with_parent`). Returns
    the server's exit status (128 + N when it died of signal N).
    """
    proc: subprocess.Popen | None = None
    stops: list[int] = []  # the stop signals received
    killer = threading.Timer(GRACE_S, lambda: proc.kill())
    killer.daemon = True

    def stop(signum, _frame):
        stops.append(signum)
        if proc is None:
            return  # a signal during the start: handled right after it
        if len(stops) == 1:  # on Windows terminate() is TerminateProcess: no clean shutdown there
            say(f"stopping JupyterLab (it shuts down its kernels first; at most {GRACE_S} s)")
            proc.terminate()
            killer.start()
        else:
            say("stopping JupyterLab now")
            proc.kill()

    previous = {sig: signal.signal(sig, stop) for sig in stop_signals()}
    if sys.platform.startswith("linux"):
        popen_kwargs.setdefault("preexec_fn", die_with_parent(os.getpid()))
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=not IS_WINDOWS, **popen_kwargs)
        if stops:
            stop(stops.pop(), None)
        code = proc.wait()
    finally:
        killer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stops:
        say("JupyterLab stopped")
    return code if code >= 0 else 128 - code


def cmd_lab(args: list[str]) -> int:
    """``course.py lab``: set up, copy the assignments, run JupyterLab until stopped."""
    python = setup()
    copy_assignments(python)
    say("starting JupyterLab on 127.0.0.1 with token authentication: open the "
        f"http://127.0.0.1:.../lab/tree/{START_NOTEBOOK}?token=... link it prints; stop it with Ctrl+C")
    return run_server(lab_command(python, args), cwd=ROOT)


# Run beside the rest by ``course.py test``: the browser test (mostly waiting on Chromium and the
# kernels) and the Keras notebooks rerun with another floating-point order. One pytest alone
# keeps about one of the two cores busy (20 minutes); two side by side, about 14.
SIDE_TESTS = ("tests/test_browser.py", "tests/test_portability.py")


def run_tests_in_two_parts(pytest: list[str]) -> int:
    """Every test, as two pytest runs side by side: :data:`SIDE_TESTS` with its output kept in a
    temporary file and printed after the rest, whose output streams as usual. Nonzero if either
    part fails."""
    import tempfile

    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        side = subprocess.Popen([*pytest, *SIDE_TESTS], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            rest = subprocess.call([*pytest, *(f"--ignore={path}" for path in SIDE_TESTS)], cwd=ROOT)
        finally:
            side_code = side.wait()
        log.seek(0)
        say(f"the tests run beside the others ({', '.join(SIDE_TESTS)}):")
        sys.stdout.write(log.read())
    say(f"pytest exit codes: {rest} for the rest, {side_code} for {', '.join(SIDE_TESTS)}")
    return rest or side_code


INSTALLERS = ("install_browser.sh", "install_fuse.sh", "install_hub_proxy.sh")


def cmd_test(args: list[str]) -> int:
    """``course.py test``: set up, install the browser the browser test needs, run pytest (with no
    arguments: every test, in two parts side by side; with arguments: one pytest with them)."""
    python = setup()
    teacher_setup(python)  # the teacher's part: nbgrader, a real JupyterHub (tests marked "teacher")
    for name in INSTALLERS:  # what the tests need from the system: Chromium, libfuse, JupyterHub's proxy
        installer = ROOT / "tools" / name
        if sys.platform.startswith("linux") and installer.exists():
            run(["bash", installer])
    pytest = [str(python), "-m", "pytest"]
    if args:
        return subprocess.call([*pytest, *args], cwd=ROOT)
    return run_tests_in_two_parts(pytest)


def cmd_my_work(args: list[str]) -> int:
    """``course.py my-work``: copy the assignment notebooks into my_work/."""
    python = setup()
    return subprocess.call([str(python), "-m", "coursekit.assignments", "copy", *args], cwd=ROOT)


def cmd_data(args: list[str]) -> int:
    """``course.py data``: regenerate the shipped datasets."""
    python = setup()
    return subprocess.call([str(python), "-m", "coursekit.make_data", "--write", *args], cwd=ROOT)


def cmd_site(args: list[str]) -> int:
    """``course.py site``: set up, then build the website into site/ (coursekit.site.build; its
    options, e.g. ``--out DIR`` or ``--no-execute``, pass through)."""
    python = setup()
    return subprocess.call([str(python), "-m", "coursekit.site.build", *args], cwd=ROOT)


def cmd_nbgrader(args: list[str]) -> int:
    """``course.py nbgrader``: set up the teacher's environment, then write an nbgrader course
    folder from the solution notebooks (coursekit.nbgrader_course; its options pass through)."""
    python = teacher_setup()
    return subprocess.call([str(python), "-m", "coursekit.nbgrader_course", *args], cwd=ROOT)


def cmd_setup(args: list[str]) -> int:
    """``course.py setup``: only set up."""
    setup()
    return 0


COMMANDS = {"setup": cmd_setup, "lab": cmd_lab, "test": cmd_test, "my-work": cmd_my_work, "data": cmd_data,
            "site": cmd_site, "nbgrader": cmd_nbgrader}


HELP_FLAGS = ("-h", "--help", "--help-all")
COMMAND_HELP = {
    "lab": ("python3 course.py lab [JupyterLab options]\n\n"
            "Sets up .venv/ (the first time: about 2.2 GB, a few minutes), copies any assignment you do not\n"
            "have yet into my_work/ (never overwriting yours), then opens the course in JupyterLab at\n"
            f"{START_NOTEBOOK}, on 127.0.0.1 with token authentication. Ctrl+C stops it.\n\n"
            "Every option goes to JupyterLab as it is, for example:\n"
            "    --port 9999          another port than 8888\n"
            "    --no-browser         print the link instead of opening a browser\n"
            "JupyterLab's own options, once set up: .venv/bin/jupyter lab --help"),
    "test": ("python3 course.py test [pytest options]\n\n"
             "Sets up .venv/ and the teacher's .venv-teacher/ (the tests marked \"teacher\" run nbgrader and a\n"
             "real JupyterHub), then runs every test (what CI runs): without options in two pytest processes\n"
             "side by side; with options, one pytest with them, e.g. -k stats, -m \"not browser\",\n"
             "tests/test_stats.py."),
    "my-work": ("python3 course.py my-work\n\n"
                "Sets up .venv/, then copies the assignment notebooks you do not have yet into my_work/\n"
                "(never overwriting a file that is there)."),
    "data": ("python3 course.py data\n\n"
             "Sets up .venv/, then regenerates the shipped datasets in data/ from their fixed seeds (byte\n"
             "for byte the files the course ships) and their checksums."),
    "site": ("python3 course.py site [--out DIR] [--no-execute] [--jobs N]\n\n"
             "Sets up .venv/, then builds the course as a static website into site/ (or DIR): every\n"
             "notebook executed once (--no-execute: as committed, a quick preview), N at a time (2)."),
    "nbgrader": ("python3 course.py nbgrader [--out DIR]\n\n"
                 "For teachers. Sets up .venv/ and the teacher's environment .venv-teacher/ (nbgrader, JupyterHub\n"
                 "and nbgitpuller, pinned in requirements-teacher.txt, on top of .venv/), then writes an nbgrader\n"
                 "course folder from the solution notebooks (README, \"Teaching a class\"); nbgrader's own commands\n"
                 "take over from there: .venv-teacher/bin/nbgrader generate_assignment ..."),
    "setup": ("python3 course.py setup\n\n"
              "Only sets up .venv/: creates, repairs or rebuilds it until every package the lessons need\n"
              "imports, and says in one line what it does and why."),
}


def main(argv: list[str]) -> int:
    """Run the command named by ``argv[0]``; print the usage for anything else. ``--help`` after a
    command prints that command's help and installs nothing."""
    if argv and argv[0] in HELP_FLAGS:
        print(__doc__)
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    if any(arg in HELP_FLAGS for arg in argv[1:]):
        print(COMMAND_HELP[argv[0]])
        return 0
    try:
        return COMMANDS[argv[0]](argv[1:])
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except subprocess.CalledProcessError as exc:
        say(f"failed (exit status {exc.returncode}): {' '.join(str(c) for c in exc.cmd)}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
