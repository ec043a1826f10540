"""The start notebook's environment check."""

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from helpers.environment import check_environment, pinned_requirements, python_problem

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
REQUIRES_PYTHON = tomllib.loads(PYPROJECT.read_text())["project"]["requires-python"]


def test_the_course_environment_matches_its_pins():
    assert check_environment() == []


def test_pins_apply_markers(tmp_path):
    req = tmp_path / "r.txt"
    req.write_text('numpy==2.4.6\nnot-here==1.0; sys_platform == "nowhere"\n# comment\n')
    assert pinned_requirements(req) == {"numpy": "2.4.6"}


def test_a_missing_or_wrong_package_is_reported(tmp_path):
    req = tmp_path / "r.txt"
    req.write_text("numpy==0.0.1\nsurely-not-installed-pkg==1.0\n")
    problems = check_environment(req)
    assert any("numpy" in p and "0.0.1" in p for p in problems)
    assert any("surely-not-installed-pkg is not installed" in p for p in problems)


def test_an_unpinned_line_names_the_argument(tmp_path):
    req = tmp_path / "r.txt"
    req.write_text("numpy>=2\n")
    with pytest.raises(ValueError, match="path"):
        pinned_requirements(req)


def test_the_installed_package_requires_the_pythons_pyproject_names():
    installed = metadata.metadata("regularization-course")["Requires-Python"]
    assert SpecifierSet(installed) == SpecifierSet(REQUIRES_PYTHON), \
        "the installed course package is stale: run python3 course.py setup"


@pytest.mark.parametrize("version", ["3.11.0", "3.12.7", "3.13.0"])
def test_a_supported_python_is_not_reported(version):
    assert python_problem(version) is None


@pytest.mark.parametrize("version", ["3.8.18", "3.10.13", "3.14.0"])
def test_an_unsupported_python_is_reported_with_the_supported_range(version):
    problem = python_problem(version)
    assert problem is not None and version in problem and REQUIRES_PYTHON in problem


def test_a_jupyterlab_that_would_save_over_the_lessons_is_reported(monkeypatch, tmp_path):
    from coursekit import lab_server

    monkeypatch.setattr(lab_server, "config_path", lambda prefix=None: tmp_path / "missing.json")
    problems = check_environment()
    assert any("save over the course's notebooks" in p and "course.py setup" in p for p in problems)
