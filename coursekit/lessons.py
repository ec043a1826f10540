"""The course's lessons, read from the notebooks themselves: the one list of lessons.

A lesson is a notebook ``notebooks/NN_topic.ipynb`` (two digits, snake case). Everything else
about it is read from files, never typed again elsewhere:

* its **title** is the notebook's H1, the first line (``# ...``) of its first cell;
* its notebook metadata ``course`` says what the tables show::

      "course": {"teaches": "training vs test error, ...",   # the "what you'll learn" one-liner
                 "minutes": 25,                               # time to work through it
                 "widgets": ["degree", "training size", "noise"]}   # [] for none

  (edit it in JupyterLab under *Property Inspector → Advanced Tools → Notebook metadata*, or in the JSON;
  :mod:`coursekit.notebook_files` keeps it when it cleans a notebook);
* its **assignment**, when it has one, is ``assignments/solutions/NN_topic_solution.ipynb`` (the
  source) and the learner notebook ``assignments/NN_topic_assignment.ipynb`` generated from it;
  the tasks are the solution's ``## Task NN.k · Code|Reasoning: <title>`` headings.

:func:`lessons` discovers them all, in order. ``python tools/generate.py`` (the module
:mod:`coursekit.generated_files`) writes the navigation, the tables of lessons and the learner
notebooks from this list. A lesson that does not say what is needed raises :class:`LessonError`
naming the file and what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursekit.assignments import Task, learner_name, tasks

ROOT = Path(__file__).resolve().parent.parent
METADATA_KEY = "course"
LESSON_NAME = re.compile(r"(\d\d)_([a-z0-9]+(?:_[a-z0-9]+)*)\.ipynb")
SOLUTION_NAME = re.compile(r"(\d\d_[a-z0-9_]+)_solution\.ipynb")
METADATA_EXAMPLE = ('"course": {"teaches": "<the what-you\'ll-learn one-liner>", "minutes": <whole minutes>, '
                    '"widgets": [<widget names>, or none]}')
HOW_TO = "see CONTRIBUTING.md, 'Adding a lesson'"


class LessonError(ValueError):
    """A lesson notebook (or a solution notebook) lacks what the registry reads; the message names
    the file and what is missing."""


@dataclass(frozen=True)
class Lesson:
    """One lesson of the course, as its files describe it."""

    number: str  # "02": two digits, as in the file name
    topic: str  # "penalized_cost"
    path: Path  # notebooks/02_penalized_cost.ipynb
    title: str  # the notebook's H1, without the "# "
    teaches: str  # the one-line "what you'll learn" of the tables
    minutes: int
    widgets: tuple[str, ...]  # names of the lesson's widgets; () for none
    solution: Path | None = None  # assignments/solutions/NN_topic_solution.ipynb, if there is one
    assignment: Path | None = None  # the learner notebook generated from the solution
    tasks: tuple[Task, ...] = ()  # the solution's tasks, in order

    @property
    def name(self) -> str:
        """The notebook's file name, ``02_penalized_cost.ipynb``."""
        return self.path.name


def _where(path: Path, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def title_of(nb: nbformat.NotebookNode, where: str) -> str:
    """The text of the H1 that opens ``nb``'s first cell (``# Watch a model overfit``)."""
    first = nb.cells[0] if nb.cells else None
    line = first.source.split("\n", 1)[0] if first is not None and first.cell_type == "markdown" else ""
    match = re.fullmatch(r"# (.*\S)\s*", line)
    if not match:
        raise LessonError(f"{where}: the first cell must be a markdown cell whose first line is the "
                          f"lesson's title as an H1 ('# Watch a model overfit'); found {line[:60]!r}")
    return match.group(1)


def course_metadata(nb: nbformat.NotebookNode, where: str) -> tuple[str, int, tuple[str, ...]]:
    """``(teaches, minutes, widgets)`` from the notebook metadata ``course``, checked."""
    meta = nb.metadata.get(METADATA_KEY)
    if not isinstance(meta, dict):
        raise LessonError(f"{where}: the notebook metadata has no {METADATA_KEY!r} entry; add "
                          f"{METADATA_EXAMPLE} ({HOW_TO})")
    missing = [key for key in ("teaches", "minutes", "widgets") if key not in meta]
    unknown = sorted(set(meta) - {"teaches", "minutes", "widgets"})
    if missing or unknown:
        said = [f"missing {', '.join(map(repr, missing))}"] if missing else []
        said += [f"unknown {', '.join(map(repr, unknown))}"] if unknown else []
        raise LessonError(f"{where}: notebook metadata {METADATA_KEY!r}: {'; '.join(said)}; "
                          f"expected {METADATA_EXAMPLE}")
    teaches, minutes, widgets = meta["teaches"], meta["minutes"], meta["widgets"]
    if not isinstance(teaches, str) or not teaches.strip() or "\n" in teaches or "|" in teaches:
        raise LessonError(f"{where}: {METADATA_KEY}.teaches must be one line of text without '|' "
                          f"(it goes into tables), got {teaches!r}")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise LessonError(f"{where}: {METADATA_KEY}.minutes must be a whole number of minutes > 0, got {minutes!r}")
    if not isinstance(widgets, list) or not all(isinstance(w, str) and w.strip() and "|" not in w
                                                for w in widgets):
        raise LessonError(f"{where}: {METADATA_KEY}.widgets must be a list of widget names "
                          f"([] for none), got {widgets!r}")
    return teaches, minutes, tuple(widgets)


def read_lesson(path: Path, root: Path = ROOT) -> Lesson:
    """The lesson at ``path`` (``notebooks/NN_topic.ipynb`` under ``root``) and its assignment."""
    path = Path(path)
    where = _where(path, root)
    match = LESSON_NAME.fullmatch(path.name)
    if not match:
        raise LessonError(f"{where}: a lesson notebook is named NN_topic.ipynb (two digits, snake case)")
    nb = nbformat.read(path, as_version=4)
    described = (match[1], match[2], path, title_of(nb, where), *course_metadata(nb, where))
    solution = Path(root) / "assignments" / "solutions" / f"{path.stem}_solution.ipynb"
    if not solution.is_file():
        return Lesson(*described)
    found = tasks(nbformat.read(solution, as_version=4))
    if not found:
        raise LessonError(f"{_where(solution, root)}: no task heading; each task starts with "
                          "'## Task NN.k · Code: <title>' or '## Task NN.k · Reasoning: <title>'")
    return Lesson(*described, solution, solution.parent.parent / learner_name(solution), tuple(found))


def lessons(root: Path = ROOT) -> list[Lesson]:
    """Every lesson of the course under ``root``, in the order of their numbers.

    Raises :class:`LessonError` for a lesson that lacks its title or metadata, for two lessons with
    one number, and for a solution notebook without its lesson.
    """
    root = Path(root)
    found = [read_lesson(p, root) for p in sorted((root / "notebooks").glob("*.ipynb"))]
    numbers: dict[str, Lesson] = {}
    for lesson in found:
        if lesson.number in numbers:
            raise LessonError(f"notebooks/{numbers[lesson.number].name} and notebooks/{lesson.name} "
                              f"share the number {lesson.number}")
        numbers[lesson.number] = lesson
    stems = {lesson.path.stem for lesson in found}
    for solution in sorted((root / "assignments" / "solutions").glob("*.ipynb")):
        match = SOLUTION_NAME.fullmatch(solution.name)
        if not match or match[1] not in stems:
            raise LessonError(f"{_where(solution, root)}: a solution notebook is named after its lesson, "
                              "notebooks/NN_topic.ipynb -> NN_topic_solution.ipynb, and there is no such lesson")
    return found
