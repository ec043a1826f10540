"""The start notebook's environment check: pinned versions installed, `helpers` importable, data intact."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"


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


def check_environment(path: Path | str = REQUIREMENTS) -> list[str]:
    """Compare installed versions with the pins, verify the shipped data; return problem lines.

    An empty list means all is well. Introduced in notebook 00.
    """
    from helpers.data import DataFileError, verify_data

    problems = []
    if sys.version_info[:2] != (3, 11):
        problems.append(f"Python {sys.version.split()[0]} (the course is tested on 3.11)")
    for name, wanted in pinned_requirements(path).items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is not installed (wanted {wanted})")
            continue
        if have != wanted:
            problems.append(f"{name} {have} is installed, the course pins {wanted}")
    try:
        verify_data()
    except DataFileError as exc:
        problems.append(str(exc))
    return problems
