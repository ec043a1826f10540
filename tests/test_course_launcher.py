"""course.py, the launcher: choosing a Python, healing a broken .venv, and stopping JupyterLab.

The health checks run on small virtual environments made here (``python -m venv``, ``--without-pip``,
a pyenv Python 3.10, a deleted interpreter, empty stand-in packages), never on the 2 GB course
environment. The JupyterLab tests start ``course.py lab`` for real (on a free port, with Jupyter's
folders in a temporary directory), start a kernel through the REST API, stop the launcher as
``kill`` and Ctrl+C would, and check that the server and its kernel are gone.
"""

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course.py"
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
# the process tests follow parent links in /proc and signal process groups
needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")


def _load_course():
    spec = importlib.util.spec_from_file_location("course_launcher", COURSE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


course = _load_course()


# --- helpers: interpreters and small venvs ---------------------------------------------------------

def python_binary(minor: str) -> str | None:
    """A working ``python3.<minor>`` executable (from the PATH or pyenv), or None."""
    candidates = [shutil.which(f"python{minor}")]
    candidates += [str(p) for p in sorted(PYENV_VERSIONS.glob(f"{minor}.*/bin/python{minor}"))]
    for path in filter(None, candidates):
        done = subprocess.run([path, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.strip()
    return None


def make_venv(path: Path, *options: str, python: str = sys.executable) -> Path:
    """``python -m venv [options] path``."""
    subprocess.run([python, "-m", "venv", *options, str(path)], check=True)
    return path


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3.*/site-packages"))


def add_stand_ins(venv: Path, modules) -> None:
    """Empty packages named ``modules`` in ``venv``, so find_spec finds them (nothing real is installed)."""
    for name in modules:
        package = site_packages(venv) / name
        package.mkdir()
        (package / "__init__.py").write_text("")


def stamp_as_installed(venv: Path) -> None:
    """Write the stamp setup() writes after a finished install."""
    course.stamp_path(venv).write_text(course.stamp_text(course.inspect_venv(venv).version))


def complete_venv(path: Path, missing=()) -> Path:
    """A venv (no real packages) that looks fully set up, except for the modules ``missing``."""
    venv = make_venv(path, "--without-pip")
    add_stand_ins(venv, [m for m in ("pip", *course.KEY_MODULES) if m not in missing])
    stamp_as_installed(venv)
    return venv


# --- the environment's health ----------------------------------------------------------------------

def test_no_venv_is_created(tmp_path):
    assert course.diagnose(tmp_path / ".venv").action == course.CREATE


def test_a_fresh_venv_gets_the_install(tmp_path):
    verdict = course.diagnose(make_venv(tmp_path / ".venv"))
    assert verdict == (course.INSTALL, "no set-up of .venv has finished yet (none, or one interrupted)")


def test_a_venv_without_pip_is_rebuilt(tmp_path):
    verdict = course.diagnose(make_venv(tmp_path / ".venv", "--without-pip"))
    assert verdict.action == course.REBUILD and "no pip" in verdict.reason


def test_a_venv_of_an_unsupported_python_is_rebuilt(tmp_path):
    python310 = python_binary("3.10")
    if python310 is None:
        pytest.skip("no Python 3.10 here")
    verdict = course.diagnose(make_venv(tmp_path / ".venv", "--without-pip", python=python310))
    assert verdict.action == course.REBUILD
    assert "Python 3.10" in verdict.reason and "3.11, 3.12 or 3.13" in verdict.reason


def test_a_venv_whose_python_is_gone_is_rebuilt(tmp_path):
    venv = complete_venv(tmp_path / ".venv")
    interpreter = venv / "bin" / "python"
    while interpreter.is_symlink():  # python -> python3 -> /the/base/python3.X: cut the last link
        target = Path(os.readlink(interpreter))
        link, interpreter = interpreter, target if target.is_absolute() else interpreter.parent / target
    link.unlink()
    link.symlink_to(tmp_path / "deleted" / "python3.11")
    verdict = course.diagnose(venv)
    assert verdict.action == course.REBUILD and "broken link" in verdict.reason


def test_a_folder_that_is_no_venv_is_rebuilt(tmp_path):
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "notes.txt").write_text("not a venv")
    verdict = course.diagnose(tmp_path / ".venv")
    assert verdict.action == course.REBUILD and "pyvenv.cfg" in verdict.reason


def test_a_complete_venv_with_a_current_stamp_is_used_as_it_is(tmp_path):
    assert course.diagnose(complete_venv(tmp_path / ".venv")).action == course.OK


def test_a_current_stamp_with_missing_packages_means_repair(tmp_path):
    verdict = course.diagnose(complete_venv(tmp_path / ".venv", missing=("keras", "tensorflow")))
    assert verdict == (course.REPAIR, ".venv lacks keras, tensorflow although it was set up")


@pytest.mark.parametrize("stale", ["old format", "other python", "other requirements"])
def test_a_stamp_from_other_requirements_or_another_python_means_install(tmp_path, stale):
    venv = complete_venv(tmp_path / ".venv")
    version = course.version_text(course.inspect_venv(venv).version)
    stamp = {"old format": course.fingerprint(),
             "other python": f"requirements {course.fingerprint()}\npython 3.11.0-not-this-one\n",
             "other requirements": f"requirements {'0' * 64}\npython {version}\n"}[stale]
    course.stamp_path(venv).write_text(stamp)
    verdict = course.diagnose(venv)
    assert verdict.action == course.INSTALL and "changed since the last install" in verdict.reason


def test_the_stamp_names_the_interpreter_version(tmp_path):
    venv = complete_venv(tmp_path / ".venv")
    version = course.version_text(sys.version_info[:3])
    assert course.stamp_path(venv).read_text() == f"requirements {course.fingerprint()}\npython {version}\n"


def test_the_probe_does_not_find_modules_in_the_current_folder(tmp_path, monkeypatch):
    venv = make_venv(tmp_path / ".venv", "--without-pip")
    monkeypatch.chdir(ROOT)  # helpers/ is here, but not installed in this venv
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    assert "helpers" in course.inspect_venv(venv).missing


def fake_install(venv: Path) -> None:
    """Stand-in for course.install(): 'installs' the key modules that are missing."""
    add_stand_ins(venv, course.inspect_venv(venv).missing)


def add_distribution(venv: Path, name: str, version: str, modules) -> None:
    """The metadata pip leaves for distribution ``name`` (its dist-info, which names its ``modules``),
    whether or not the modules themselves are there."""
    info = site_packages(venv) / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "top_level.txt").write_text("".join(f"{m}\n" for m in modules))


@pytest.fixture
def quiet_setup(monkeypatch):
    """setup() with a stand-in install and no JupyterLab config written (the venvs here hold no
    real packages); returns the list of enable_lab_protection calls."""
    enabled = []
    monkeypatch.setattr(course, "install", fake_install)
    monkeypatch.setattr(course, "enable_lab_protection", enabled.append)
    return enabled


def test_setup_rebuilds_a_venv_without_pip_and_says_why_in_one_line(tmp_path, quiet_setup, capsys):
    venv = make_venv(tmp_path / ".venv", "--without-pip")
    (venv / "leftover").write_text("")
    assert course.setup(venv) == course.venv_python(venv)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("[course] .venv has no pip (what an interrupted set-up leaves): deleting and rebuilding "
                        "it (.venv is the course's own environment; nothing else lives there)")
    assert not (venv / "leftover").exists()
    assert course.inspect_venv(venv).missing == []  # pip is the real one now, the rest stand-ins
    assert course.diagnose(venv).action == course.OK


def test_import_problems_imports_each_module_in_the_venv(tmp_path):
    venv = complete_venv(tmp_path / ".venv")
    (site_packages(venv) / "keras" / "__init__.py").write_text("raise ImportError('half a package')\n")
    assert course.import_problems(venv) == {"keras": "ImportError: half a package"}
    assert course.import_problems(venv, ["numpy", "nothing_of_that_name"]) == {
        "nothing_of_that_name": "ModuleNotFoundError: No module named 'nothing_of_that_name'"}


def test_owners_read_what_an_interrupted_install_leaves(tmp_path):
    venv = complete_venv(tmp_path / ".venv", missing=("numpy",))
    add_distribution(venv, "numpy", "2.4.6", ["numpy"])
    assert course.owners(venv, ["numpy", "keras"]) == {"numpy": [["numpy", "2.4.6"]], "keras": []}


def repairs(venv: Path, fix) -> list:
    """A stand-in for course.force_reinstall that records its calls and then ``fix(venv)``es; it
    also checks that the stamp is not there while something does not import."""
    calls = []

    def force_reinstall(target, distributions, course_packages, everything=False):
        assert not course.stamp_path(target).exists(), "the stamp is written before everything imports"
        calls.append((list(distributions), course_packages, everything))
        fix(target)

    return calls, force_reinstall


def test_an_install_interrupted_inside_tensorflow_is_repaired_not_trusted(tmp_path, quiet_setup, monkeypatch,
                                                                          capsys):
    """Issue 26's first reproduction: Ctrl+C while pip unpacks TensorFlow leaves its dist-info (so pip
    counts it as installed and the next install skips it) but not tensorflow/python/. The next set-up
    imports it, sees it fail, reinstalls that distribution at the version installed, and only then
    writes the stamp."""
    venv = complete_venv(tmp_path / ".venv")
    course.stamp_path(venv).unlink()  # the interrupted run never wrote it
    tf = site_packages(venv) / "tensorflow"
    (tf / "__init__.py").write_text("from tensorflow.python import pywrap_tensorflow\n")
    add_distribution(venv, "tensorflow-cpu", "2.21.0", ["tensorflow"])
    calls, fake = repairs(venv, lambda v: (tf / "__init__.py").write_text(""))
    monkeypatch.setattr(course, "force_reinstall", fake)
    course.setup(venv)
    out = capsys.readouterr().out
    assert ("[course] tensorflow cannot be imported (tensorflow: ModuleNotFoundError: No module named "
            "'tensorflow.python'): reinstalling tensorflow-cpu==2.21.0") in out, out
    assert calls == [(["tensorflow-cpu==2.21.0"], False, False)]
    assert out.rstrip().endswith("[course] environment ready") and quiet_setup == [venv]
    assert course.diagnose(venv).action == course.OK


def test_a_deleted_package_folder_is_reinstalled_before_anything_imports_the_course(tmp_path, quiet_setup,
                                                                                      monkeypatch, capsys):
    """Issue 26's second reproduction: ``rm -rf .venv/lib/python3.X/site-packages/numpy`` after a
    finished set-up. find_spec sees it; the repair reinstalls numpy at its version (pip alone would
    skip it: its dist-info is still there) before JupyterLab's protection, which imports the course's
    packages, is enabled."""
    venv = complete_venv(tmp_path / ".venv")
    add_distribution(venv, "numpy", "2.4.6", ["numpy"])
    shutil.rmtree(site_packages(venv) / "numpy")
    assert course.diagnose(venv) == (course.REPAIR, ".venv lacks numpy although it was set up")
    calls, fake = repairs(venv, lambda v: add_stand_ins(v, ["numpy"]))
    monkeypatch.setattr(course, "force_reinstall", fake)
    monkeypatch.setattr(course, "enable_lab_protection",
                        lambda v: quiet_setup.append(course.import_problems(v, ["numpy"])))
    course.setup(venv)
    out = capsys.readouterr().out
    assert "[course] .venv lacks numpy although it was set up: reinstalling what is missing" in out
    assert ("numpy cannot be imported (numpy: ModuleNotFoundError: No module named 'numpy'): reinstalling "
            "numpy==2.4.6") in out
    assert calls == [(["numpy==2.4.6"], False, False)] and quiet_setup == [{}]  # enabled once numpy imports
    assert course.diagnose(venv).action == course.OK


def test_an_interrupted_install_of_the_course_packages_is_repaired(tmp_path, quiet_setup, monkeypatch, capsys):
    """A third fault: stopped during the last step, the editable install of the course's own packages
    (the pinned ones are all there): helpers and coursekit do not import; they are reinstalled."""
    venv = complete_venv(tmp_path / ".venv", missing=COURSE_MODULES)
    course.stamp_path(venv).unlink()
    monkeypatch.setattr(course, "install", lambda v: None)  # pip found nothing to do
    calls, fake = repairs(venv, lambda v: add_stand_ins(v, COURSE_MODULES))
    monkeypatch.setattr(course, "force_reinstall", fake)
    course.setup(venv)
    out = capsys.readouterr().out
    assert ("helpers, coursekit cannot be imported (helpers: ModuleNotFoundError: No module named 'helpers'): "
            "reinstalling the course's packages (regularization-course)") in out, out
    assert calls == [([], True, False)]
    assert course.diagnose(venv).action == course.OK


COURSE_MODULES = ("helpers", "coursekit")


def test_only_the_root_causes_are_reinstalled_first():
    """A deleted numpy makes matplotlib, keras, tensorflow and the course fail to import too: only
    numpy is reinstalled (seconds), not TensorFlow (a 250 MB wheel)."""
    numpy_gone = "ModuleNotFoundError: No module named 'numpy'"
    half_tf = "ModuleNotFoundError: No module named 'tensorflow.python'"
    broken = {"numpy": numpy_gone, "matplotlib": numpy_gone, "helpers": numpy_gone, "tensorflow": half_tf,
              "keras": half_tf}
    assert course.root_causes(broken) == {"numpy": numpy_gone, "tensorflow": half_tf}
    assert course.root_causes({"keras": "ImportError: half a package"}) == {"keras": "ImportError: half a package"}


def test_a_module_nothing_claims_gets_every_pin_again(tmp_path, quiet_setup, monkeypatch, capsys):
    venv = complete_venv(tmp_path / ".venv", missing=("tensorflow",))
    calls, fake = repairs(venv, lambda v: add_stand_ins(v, ["tensorflow"]))
    monkeypatch.setattr(course, "force_reinstall", fake)
    course.setup(venv)
    assert "reinstalling every pinned requirement (nothing says which one brings tensorflow)" in capsys.readouterr().out
    assert calls == [([], False, True)]


def test_setup_rebuilds_when_a_repair_does_not_bring_a_package_back(tmp_path, quiet_setup, monkeypatch, capsys):
    rebuilt = []
    calls, fake = repairs(None, lambda v: None)  # the repair changes nothing
    monkeypatch.setattr(course, "force_reinstall", fake)
    monkeypatch.setattr(course, "rebuild", lambda v: rebuilt.append(v) or add_stand_ins(v, ["numpy"]))
    venv = complete_venv(tmp_path / ".venv", missing=("numpy",))
    course.setup(venv)
    out = capsys.readouterr().out
    assert ("numpy still cannot be imported (numpy: ModuleNotFoundError: No module named 'numpy'): "
            "rebuilding .venv from scratch") in out
    assert rebuilt == [venv] and course.diagnose(venv).action == course.OK


def test_setup_gives_up_with_a_message_when_nothing_helps(tmp_path, quiet_setup, monkeypatch):
    calls, fake = repairs(None, lambda v: None)
    monkeypatch.setattr(course, "force_reinstall", fake)
    monkeypatch.setattr(course, "rebuild", lambda v: None)
    monkeypatch.setattr(course, "install", lambda v: None)  # and installing again does not help either
    venv = complete_venv(tmp_path / ".venv", missing=("numpy",))
    with pytest.raises(SystemExit, match=r"numpy cannot be imported .*\(numpy: ModuleNotFoundError"):
        course.setup(venv)
    assert not course.stamp_path(venv).exists()


def test_setup_enables_the_lab_protection_when_it_is_missing(tmp_path, monkeypatch):
    enabled = []
    monkeypatch.setattr(course, "enable_lab_protection", enabled.append)
    venv = complete_venv(tmp_path / ".venv")
    course.setup(venv)
    assert enabled == [venv]
    (venv / course.LAB_CONFIG).parent.mkdir(parents=True)
    (venv / course.LAB_CONFIG).write_text('{"ServerApp": {"jpserver_extensions": {"helpers.lab_server": true}}}')
    course.setup(venv)
    assert enabled == [venv, venv]  # a config from before the extension moved to coursekit: written again
    current = {"ServerApp": {"jpserver_extensions": {course.LAB_EXTENSION: True}}}
    (venv / course.LAB_CONFIG).write_text(json.dumps(current))
    course.setup(venv)
    assert enabled == [venv, venv]  # there already: not written again


def test_the_lab_config_is_where_helpers_lab_server_writes_it():
    from coursekit import lab_server

    assert lab_server.config_path("/prefix") == Path("/prefix") / course.LAB_CONFIG


@pytest.mark.parametrize("command", ["test", "lab"])
def test_the_tests_and_jupyterlab_get_the_environment_as_it_is(command, monkeypatch):
    """No TF_CPP_MIN_LOG_LEVEL or the like: the notebooks silence TensorFlow themselves."""
    calls = []
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setattr(course, "setup", lambda: Path("/venv/bin/python"))
    monkeypatch.setattr(course, "teacher_setup", lambda learner=None: Path("/venv-teacher/bin/python"))
    monkeypatch.setattr(course, "run", lambda cmd, **kw: None)
    monkeypatch.setattr(course, "copy_assignments", lambda python: None)
    monkeypatch.setattr(course.subprocess, "call", lambda cmd, **kw: calls.append(kw) or 0)
    monkeypatch.setattr(course.subprocess, "Popen", lambda cmd, **kw: calls.append(kw) or FakeProcess(0))
    monkeypatch.setattr(course, "run_server", lambda cmd, **kw: calls.append(kw) or 0)
    assert course.main([command]) == 0
    assert calls and all(kw.get("env") is None for kw in calls)


class FakeProcess:
    def __init__(self, code):
        self.code = code

    def wait(self):
        return self.code


@pytest.mark.parametrize("codes, expected", [((0, 0), 0), ((1, 0), 1), ((0, 1), 1), ((2, 1), 2)])
def test_the_test_command_runs_every_test_in_two_parts(codes, expected, monkeypatch, capsys):
    """course.py test: the side part (browser, portability) and the rest, which ignores exactly
    the side part; nonzero if either fails. With arguments, one pytest with them."""
    commands = []
    rest_code, side_code = codes
    monkeypatch.setattr(course, "setup", lambda: Path("/venv/bin/python"))
    monkeypatch.setattr(course, "teacher_setup", lambda learner=None: Path("/venv-teacher/bin/python"))
    monkeypatch.setattr(course, "run", lambda cmd, **kw: None)

    def popen(cmd, **kw):
        commands.append(("side", cmd))
        kw["stdout"].write("side output\n")
        return FakeProcess(side_code)

    monkeypatch.setattr(course.subprocess, "Popen", popen)
    monkeypatch.setattr(course.subprocess, "call", lambda cmd, **kw: commands.append(("rest", cmd)) or rest_code)
    assert course.main(["test"]) == expected
    (_, side), (_, rest) = commands
    pytest_cmd = ["/venv/bin/python", "-m", "pytest"]
    assert side == [*pytest_cmd, *course.SIDE_TESTS]
    assert rest == [*pytest_cmd, *(f"--ignore={path}" for path in course.SIDE_TESTS)]
    assert all((ROOT / path).is_file() for path in course.SIDE_TESTS)
    assert "side output" in capsys.readouterr().out
    commands.clear()
    assert course.main(["test", "-k", "stats"]) == rest_code
    assert commands == [("rest", [*pytest_cmd, "-k", "stats"])]


def test_the_teacher_s_environment_is_built_on_top_of_the_learner_s_and_rebuilt_when_it_breaks(
        tmp_path, monkeypatch, capsys):
    """.venv-teacher: a venv whose .pth file adds .venv's site-packages, with only the teacher's
    extras installed, under the learner's pins (-c requirements.txt); kept while its stamp is
    today's and it imports everything, rebuilt otherwise."""
    venv, calls, broken = tmp_path / ".venv-teacher", [], {}
    monkeypatch.setattr(course, "TEACHER_VENV", venv)
    monkeypatch.setattr(course, "site_packages", lambda python: str(tmp_path / ("site-t" if "teacher" in str(python)
                                                                                  else "site-l")))
    base = subprocess.CompletedProcess([], 0, "/base/python\n")  # sys._base_executable of .venv
    monkeypatch.setattr(course.subprocess, "run", lambda cmd, **kw: base)

    def create_venv(v, python):
        calls.append(("venv", python))
        v.mkdir()
        (tmp_path / "site-t").mkdir(exist_ok=True)

    monkeypatch.setattr(course, "create_venv", create_venv)
    monkeypatch.setattr(course, "run", lambda cmd, **kw: calls.append(("run", [str(c) for c in cmd])))
    monkeypatch.setattr(course, "import_problems", lambda v, modules: broken.pop("first", {}))
    venv.mkdir()
    assert course.teacher_setup(Path("/learner/bin/python")) == course.venv_python(venv)
    pth = (tmp_path / "site-t" / course.LEARNER_PTH).read_text()
    assert pth == f"import site; site.addsitedir({str(tmp_path / 'site-l')!r})\n"
    assert calls[0] == ("venv", "/base/python")
    extras = calls[-1][1]
    assert extras[-4:] == ["-r", str(course.ROOT / "requirements-teacher.txt"),
                           "-c", str(course.ROOT / "requirements.txt")]
    calls.clear()
    course.teacher_setup(Path("/learner/bin/python"))  # current and importable: nothing to do
    assert calls == []
    broken["first"] = {"nbgrader": "ModuleNotFoundError: No module named 'nbgrader'"}  # then it imports
    course.teacher_setup(Path("/learner/bin/python"))
    assert calls and calls[0][0] == "venv"
    assert "cannot import everything it needs: rebuilding it" in capsys.readouterr().out


# --- choosing a Python (course.py itself runs on Python 3.8+) --------------------------------------

def run_course_code(python: str, code: str, path: str) -> subprocess.CompletedProcess:
    """Run ``code`` after ``import course`` under ``python``, with only ``path`` as the PATH."""
    env = {**os.environ, "PATH": path}
    return subprocess.run([python, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); import course; {code}"],
                          capture_output=True, text=True, env=env, cwd=ROOT)


@pytest.fixture
def python38():
    found = python_binary("3.8")
    if found is None:
        pytest.skip("no Python 3.8 here")
    return found


def test_an_old_python_without_a_supported_one_gets_a_clear_message(python38, tmp_path):
    done = run_course_code(python38, "course.python_or_exit()", str(tmp_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "The course needs Python 3.11, 3.12 or 3.13; this is Python 3.8." in done.stderr
    assert "python3.11 or python3.12 or python3.13" in done.stderr


FAILING_SHIM = "#!/bin/sh\necho 'pyenv: python3.11: command not found' >&2\nexit 127\n"


@pytest.mark.parametrize("on_path, wanted", [({"python3.13": "3.13", "python3.11": "3.11"}, "3.11"),
                                             ({"python3.11": "shim", "python3.13": "3.13"}, "3.13")],
                         ids=["prefers-3.11", "skips-a-shim-that-fails"])
def test_an_old_python_picks_a_supported_one_from_the_path(python38, tmp_path, on_path, wanted):
    found = {minor: python_binary(minor) for minor in ("3.11", "3.13")}
    if None in found.values():
        pytest.skip("needs Python 3.11 and 3.13")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, what in on_path.items():  # pyenv puts a shim on the PATH for every installed version
        if what == "shim":
            (bin_dir / name).write_text(FAILING_SHIM)
            (bin_dir / name).chmod(0o755)
        else:
            (bin_dir / name).symlink_to(found[what])
    done = run_course_code(python38, "print(course.find_python())", str(bin_dir))
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve() == Path(found[wanted]).resolve()


def test_a_supported_python_uses_itself():
    assert course.find_python() in (sys.executable, getattr(sys, "_base_executable", None))


# --- stopping a server: grace period and a second Ctrl+C (a stand-in server, no JupyterLab) -------

STUBBORN_SERVER = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                   "print('server ready', flush=True); time.sleep(600)")


@needs_proc
@pytest.mark.parametrize("signals, grace_s", [(["SIGTERM"], 2), (["SIGINT", "SIGINT"], 600)],
                         ids=["killed-after-the-grace-period", "killed-at-a-second-ctrl-c"])
def test_a_server_that_ignores_sigterm_is_killed(signals, grace_s):
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); import course; course.GRACE_S = {grace_s}; "
            f"sys.exit(course.run_server([sys.executable, '-c', {STUBBORN_SERVER!r}]))")
    launcher = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
    output, recorded = Output(launcher), {}
    try:
        output.wait_for("server ready")
        recorded = descendants(launcher.pid)
        for i, name in enumerate(signals):
            os.killpg(launcher.pid, getattr(signal, name))
            output.wait_for("stopping JupyterLab now" if i else "stopping JupyterLab (")
        assert launcher.wait(timeout=120) == 128 + signal.SIGKILL
        assert "Traceback" not in output.text()
        assert recorded and not any(alive(pid, start) for pid, start in recorded.items())
    finally:
        stop_everything(launcher, recorded)


# --- JupyterLab for real -----------------------------------------------------------------------------

def proc_table() -> dict[int, tuple[int, str]]:
    """Every process: ``pid -> (parent pid, start time)``, from /proc/<pid>/stat."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
        table[int(stat.parent.name)] = (int(fields[1]), fields[19])
    return table


def descendants(pid: int) -> dict[int, str]:
    """``pid``'s descendants now (children, their children, ...): ``pid -> start time``."""
    table = proc_table()
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, start) in table.items():
            if ppid == parent and child not in found:
                found[child] = start
                frontier.append(child)
    return found


def alive(pid: int, start: str | None = None) -> bool:
    """Whether process ``pid`` (started at ``start``, if given) still runs (a zombie does not)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = text[text.rindex(")") + 2:].split()
    return fields[0] != "Z" and (start is None or fields[19] == start)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Output:
    """Collects a process's combined output in a thread, so its pipe never fills up."""

    def __init__(self, proc: subprocess.Popen):
        self.proc, self.lines = proc, []
        threading.Thread(target=lambda: self.lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()

    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert self.proc.poll() is None, f"exited with {self.proc.returncode} before {needle!r}:\n{self.text()}"
            assert time.monotonic() < deadline, f"no {needle!r} after {timeout} s:\n{self.text()}"
            time.sleep(0.2)


def stop_everything(launcher: subprocess.Popen, recorded: dict[int, str]) -> None:
    """After a failed test: leave no launcher, server or kernel behind."""
    if launcher.poll() is None:
        recorded = {**recorded, **descendants(launcher.pid)}
        launcher.kill()
        launcher.wait()
    for pid, start in recorded.items():
        if alive(pid, start):
            os.kill(pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port`` (connections in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def api(port: int, token: str, path: str, body: dict | None = None) -> dict:
    """One Jupyter REST call (POST when ``body`` is given)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wait_for_server(launcher: subprocess.Popen, output: Output, port: int, token: str, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while True:
        assert launcher.poll() is None, f"course.py lab exited with {launcher.returncode}:\n{output.text()}"
        try:
            return api(port, token, "/api/status")
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, f"no JupyterLab on port {port} after {timeout} s:\n{output.text()}"
            time.sleep(0.5)


def wait_for_kernel_ready(runtime_dir: Path, kernel_id: str, timeout: float = 180) -> None:
    """Wait until the kernel answers (it has finished starting, as a learner's kernel has)."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient(connection_file=str(runtime_dir / f"kernel-{kernel_id}.json"))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
    finally:
        client.stop_channels()


@pytest.fixture(scope="module")
def course_environment_ready():
    verdict = course.diagnose(course.VENV)
    if verdict.action != course.OK:
        pytest.fail(f"the course environment is not ready ({verdict.reason}): run python3 course.py setup")


def lab_env(tmp_path: Path, token: str) -> dict[str, str]:
    """The environment for ``course.py lab``: Jupyter's folders in ``tmp_path``, a known token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "TF_"))}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env[name] = str(tmp_path / name.lower())
    env["JUPYTER_TOKEN"] = token
    return env


@needs_proc
@pytest.mark.parametrize("how", ["kill -TERM", "ctrl-c", "terminal closed", "kill -9"])
def test_stopping_course_py_lab_stops_jupyterlab_and_its_kernel(how, tmp_path, course_environment_ready):
    """However the launcher is stopped, JupyterLab shuts its kernel down and leaves; ``kill -9`` gives
    the launcher no chance to pass anything on: the kernel (Linux: prctl's parent-death signal)
    sends the server SIGTERM itself."""
    port, token = free_port(), secrets.token_hex(16)
    launcher = subprocess.Popen(
        [sys.executable, str(COURSE), "lab", "--no-browser", f"--ServerApp.port={port}", "--ServerApp.port_retries=0"],
        cwd=ROOT, env=lab_env(tmp_path, token), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # its own process group, as a shell gives a foreground job
    output, recorded = Output(launcher), {}
    try:
        wait_for_server(launcher, output, port, token)
        kernel = api(port, token, "/api/kernels", body={"name": "python3"})
        wait_for_kernel_ready(tmp_path / "jupyter_runtime_dir", kernel["id"])
        recorded = descendants(launcher.pid)
        assert any("ipykernel_launcher" in cmdline(pid) for pid in recorded)
        server = next(pid for pid in recorded if "jupyterlab" in cmdline(pid))
        assert "TF_CPP_MIN_LOG_LEVEL" not in Path(f"/proc/{server}/environ").read_bytes().decode(errors="replace")
        assert [k["id"] for k in api(port, token, "/api/kernels")] == [kernel["id"]]

        if how == "ctrl-c":
            os.killpg(launcher.pid, signal.SIGINT)  # what the terminal does: the whole foreground group
        elif how == "terminal closed":
            os.killpg(launcher.pid, signal.SIGHUP)
        elif how == "kill -9":
            os.kill(launcher.pid, signal.SIGKILL)
        else:
            os.kill(launcher.pid, signal.SIGTERM)
        assert launcher.wait(timeout=120) == (-signal.SIGKILL if how == "kill -9" else 0), output.text()

        deadline = time.monotonic() + 30
        while how == "kill -9" and alive(server, recorded[server]) and time.monotonic() < deadline:
            time.sleep(0.2)  # the server's output goes on after the launcher's death
        text = output.text()
        assert "Traceback" not in text, text
        assert "Shutting down 1 kernel" in text, text  # the server shut its kernel down, it was not killed
        deadline = time.monotonic() + 30
        while any(alive(pid, start) for pid, start in recorded.items()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [cmdline(pid) for pid, start in recorded.items() if alive(pid, start)] == []
        assert port_is_free(port)

        url = re.search(rf"http://127\.0\.0\.1:{port}/\S*", text)
        assert url, text
        assert url.group(0).startswith(f"http://127.0.0.1:{port}/lab/tree/notebooks/00_start_here.ipynb?token=")
        assert re.search(r"\[course\] your copies of the assignments: \d+ copied, \d+ kept", text), text
        for assignment in (ROOT / "assignments").glob("*_assignment.ipynb"):
            assert (ROOT / "my_work" / assignment.name).is_file()
    finally:
        stop_everything(launcher, recorded)
