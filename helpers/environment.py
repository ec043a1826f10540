"""The start notebook's environment check: pinned versions installed, `helpers` importable, data intact."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"
DISTRIBUTION = "regularization-course"


def pinned_requirements(path: Path | str = REQUIREMENTS) -> dict[str, str]:
    """``{package: version}`` for the ``==`` pins in ``path`` that apply to this platform."""
    from packaging.requirements import Requirement

    pins = {}
    for line in Path(path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate():
            continue
        spec = next(iter(req.specifier), None)
        if spec is None or spec.operator != "==":
            raise ValueError(f"path: {req.name} is not pinned with == in {path}")
        pins[req.name] = spec.version
    return pins


def python_problem(version: str | None = None) -> str | None:
    """Why Python ``version`` (default: this one) cannot run the course, or None if it can.

    The supported versions are the course package's ``Requires-Python`` (pyproject.toml's
    ``requires-python``: those for which every pin in requirements.txt has wheels).
    """
    from packaging.specifiers import SpecifierSet

    version = version or platform.python_version()
    try:
        requires = metadata.metadata(DISTRIBUTION)["Requires-Python"]
    except metadata.PackageNotFoundError:
        return f"{DISTRIBUTION} is not installed (run: python3 course.py setup)"
    supported = SpecifierSet(requires)
    if supported.contains(version, prereleases=True):
        return None
    wanted = ",".join(sorted((str(spec) for spec in supported), reverse=True))  # ">=3.11,<3.14": lower bound first
    return f"Python {version} is not one the course supports (it needs Python {wanted})"


def check_environment(path: Path | str = REQUIREMENTS) -> list[str]:
    """Compare installed versions with the pins, check that JupyterLab keeps the course's
    notebooks read-only (:mod:`coursekit.lab_server`), verify the shipped data; return problem lines.

    An empty list means all is well. Introduced in notebook 00.
    """
    from helpers.data import DataFileError, verify_data

    problems = []
    python = python_problem()
    if python:
        problems.append(python)
    for name, wanted in pinned_requirements(path).items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is not installed (wanted {wanted})")
            continue
        if have != wanted:
            problems.append(f"{name} {have} is installed, the course pins {wanted}")
    if not _lab_protection_enabled():
        problems.append("JupyterLab would save over the course's notebooks: run python3 course.py setup "
                        "(or: python -m coursekit.lab_server enable)")
    try:
        verify_data()
    except DataFileError as exc:
        problems.append(str(exc))
    return problems


def _lab_protection_enabled() -> bool:
    from coursekit.lab_server import is_enabled

    return is_enabled()
