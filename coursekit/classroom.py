"""Each student's folder on a class server: the course read-only, their work in ``my_work/``.

    python -m coursekit.classroom start [--home DIR]    # what binder/start runs before each server

A class server runs the course in one of two layouts (README, "Teaching a class"):

* **The course folder is the student's** (Binder, whose image holds the repository in the home,
  or a learner's own clone): ``my_work/`` goes into the course folder, as ``python3 course.py
  my-work`` does (``python -m coursekit.assignments copy``).
* **The course is shared** (installed once on a JupyterHub machine, owned by root, or in a Zero to
  JupyterHub image outside the home volume): the student's home gets links ``notebooks`` and
  ``assignments`` to the shared course and a real ``my_work/`` of its own, so the lessons' links
  ``../my_work/...`` lead to the student's copies and JupyterLab, started in the home, shows the
  three side by side. The links point into read-only folders (``coursekit.lab_server`` refuses
  writes there too); ``my_work/`` is the student's own.

:func:`start` picks the layout: the course is the student's when its folder is inside their home.
Neither layout ever overwrites anything: an existing copy, link or file of that name is kept.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from coursekit import assignments

ROOT = assignments.ROOT
LINKED = ("notebooks", "assignments")
"""The course folders a shared layout links into each home (read-only to students)."""


def course_is_in(home: Path, course: Path = ROOT) -> bool:
    """Whether the course folder ``course`` is ``home`` or inside it (symlinks resolved)."""
    home, course = Path(os.path.realpath(home)), Path(os.path.realpath(course))
    return course == home or course.is_relative_to(home)


def prepare_home(home: Path, course: Path = ROOT) -> list[str]:
    """Lay out ``home`` around the shared ``course``: a link for each of :data:`LINKED` and the
    student's copies of the assignments in ``home/my_work`` (see the module docstring).

    Never replaces anything: a name already in ``home`` is kept as it is. Returns one line per
    thing done or kept. ``ValueError`` when ``home`` is not a folder or ``course`` holds no
    course (no ``notebooks/``).
    """
    home, course = Path(home), Path(course)
    if not home.is_dir():
        raise ValueError(f"home must be an existing folder, got {home}")
    if not (course / "notebooks").is_dir():
        raise ValueError(f"course must be the course folder (with notebooks/), got {course}")
    lines = []
    for name in LINKED:
        link = home / name
        if link.is_symlink() or link.exists():
            lines.append(f"kept: {link} (already there)")
            continue
        try:
            link.symlink_to(course / name, target_is_directory=True)
        except FileExistsError:  # made meanwhile by another start of the same home
            lines.append(f"kept: {link} (already there)")
            continue
        lines.append(f"linked: {link} -> {course / name}")
    return [*lines, _copy_work(home / "my_work", course)]


def _copy_work(my_work: Path, course: Path) -> str:
    """Copy the assignments the student does not have yet into ``my_work``; the line that says so."""
    copied, kept = assignments.copy_to(my_work, course / "assignments")
    return f"my_work: {len(copied)} copied, {len(kept)} kept, in {my_work}"


def start(home: Path | None = None, course: Path = ROOT) -> list[str]:
    """Make the student's ``my_work/`` (and in a shared layout the links), never overwriting:
    in ``course/my_work`` when the course is inside ``home`` (default ``$HOME``), else
    :func:`prepare_home`. Returns the lines it reports."""
    home = Path(home or os.path.expanduser("~"))
    if course_is_in(home, course):
        return [_copy_work(course / "my_work", course)]
    return prepare_home(home, course)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.classroom",
                                     description="Prepare a student's my_work/ (and links to a shared course) "
                                                 "before their Jupyter server starts; never overwrites.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    go = sub.add_parser("start", help="what binder/start runs before each server")
    go.add_argument("--home", type=Path, default=None, help="the student's home (default: $HOME)")
    args = parser.parse_args(argv)
    try:
        lines = start(args.home)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
