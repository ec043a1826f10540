"""The supported Pythons: one range everywhere, and every pin has wheels for each of them.

The range lives in pyproject.toml (``requires-python``); course.py repeats it (it runs before
anything is installed). For each supported version pip resolves requirements.txt as it would
install it on that Python (``--dry-run --python-version X --only-binary=:all:``, nothing is
installed), so a pin without a wheel for a supported Python fails here. The versions just
outside the range must fail to resolve, so the range is exactly as wide as the pins allow.
The five resolutions run at once: pip downloads every wheel to read its metadata (about 430 MB
per version), so together they take about 20 s with pip 25 or later, 10 s to 20 s each alone
(pip 23.2, what Python 3.11 brings, takes 30 s to 45 s each; course.py installs a newer one).
"""

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
REQUIRES_PYTHON = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]


def _load_course():
    spec = importlib.util.spec_from_file_location("course_launcher", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


course = _load_course()
SUPPORTED = [course.version_text(v) for v in course.SUPPORTED]
JUST_OUTSIDE = [course.version_text((3, course.SUPPORTED[0][1] - 1)),
                course.version_text((3, course.SUPPORTED[-1][1] + 1))]


def start_resolving(python_version: str, target: Path) -> subprocess.Popen:
    """Start pip's resolution of requirements.txt for ``python_version`` (wheels only, nothing installed)."""
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
           "--only-binary=:all:", "--python-version", python_version, "--target", str(target),
           "--progress-bar", "off", "--disable-pip-version-check", "-r", str(ROOT / "requirements.txt")]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def resolutions(tmp_path_factory):
    """Every version's resolution, started at once (pip mostly waits for downloads): version -> Popen."""
    procs = {v: start_resolving(v, tmp_path_factory.mktemp(f"py{v}")) for v in SUPPORTED + JUST_OUTSIDE}
    yield procs
    for proc in procs.values():
        proc.kill()
        proc.communicate()


def resolve(resolutions, python_version: str) -> subprocess.CompletedProcess:
    """Wait for ``python_version``'s resolution; its exit status and output."""
    proc = resolutions[python_version]
    stdout, stderr = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_course_py_holds_pyprojects_range():
    assert course.REQUIRES_PYTHON == REQUIRES_PYTHON
    spec = SpecifierSet(REQUIRES_PYTHON)
    assert [(3, minor) for minor in range(30) if f"3.{minor}" in spec] == list(course.SUPPORTED)
    assert course.PREFERRED in course.SUPPORTED


@pytest.mark.parametrize("python_version", SUPPORTED)
def test_the_pins_resolve_for_each_supported_python(python_version, resolutions):
    result = resolve(resolutions, python_version)
    assert result.returncode == 0, f"requirements.txt does not install on Python {python_version}:\n" \
                                   + result.stderr[-3000:]
    assert "tensorflow" in result.stdout.lower()


@pytest.mark.parametrize("python_version", JUST_OUTSIDE)
def test_the_pins_do_not_resolve_just_outside_the_range(python_version, resolutions):
    result = resolve(resolutions, python_version)
    assert result.returncode != 0, (f"requirements.txt also installs on Python {python_version}: "
                                    "widen requires-python (pyproject.toml, course.py, environment.yml, README)")
    assert "No matching distribution" in result.stderr, result.stderr[-3000:]


def test_the_readme_states_the_range():
    readme = (ROOT / "README.md").read_text()
    start = readme[readme.index("## Start in one command"):readme.index("```")]
    assert f"Python {course.supported_text()}" in start
