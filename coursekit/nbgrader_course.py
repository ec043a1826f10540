"""An nbgrader course folder, generated from the solution notebooks (still the one source).

    python -m coursekit.nbgrader_course [--out DIR] [--seed N] [--course-id ID]

(``python3 course.py nbgrader`` runs it in the teacher's environment, ``.venv-teacher/``, which
holds nbgrader.) It writes ``DIR/nbgrader_config.py`` and
``DIR/source/NN_topic/NN_topic_assignment.ipynb`` for every
``assignments/solutions/NN_topic_solution.ipynb``; then, from ``DIR``, nbgrader's own commands
take over: ``nbgrader generate_assignment NN_topic``, ``release_assignment``, ``collect``,
``autograde NN_topic``, the formgrader for the reasoning answers, ``generate_feedback NN_topic``.

Each solution notebook becomes an nbgrader *source* notebook (nbgrader's cell types, in each cell's
``nbgrader`` metadata, schema 3):

* a code task's function (the code cell with ``### BEGIN SOLUTION``): an **autograded answer**;
  ``generate_assignment`` replaces the solution region by its stub (:data:`CONFIG` sets the
  stubs the learner notebooks of :mod:`coursekit.assignments` use);
* its ``check_task("NN.k", fn)`` cell: an **autograder test** worth :data:`POINTS` ``["Code"]``:
  ``assert check_task(...)``, the very check the learner runs, then, between
  ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` (left out of the released notebook and of
  the feedback), ``assert check_hidden(...)`` (:func:`helpers.checks.draws.check_hidden`): the same
  check with its drawn case at :data:`HIDDEN_DRAWS` seeds that only this folder holds, so an
  answer that memorized what the released notebook shows fails, and a re-run grades alike;
* a reasoning task's answer (the markdown cell with ``### BEGIN SOLUTION``): a **manually graded
  answer** worth :data:`POINTS` ``["Reasoning"]`` (nbgrader scores it 0 by itself when the learner
  left it as released);
* every other cell: **read-only** (locked: autograding restores it as it was released).

Cells tagged ``solution-only`` are left out, outputs cleared and ``# NBVAL_CHECK_OUTPUT`` marks
dropped, as for the learner notebooks. The hidden seeds come from ``--seed`` (fresh from the
operating system's entropy when omitted, and printed: the public repository holds no seed a
learner could read). A solution notebook whose code task lacks its answer or test cell, or has
two, stops the command with a ``ValueError`` naming the file and the task.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import secrets
import sys
from pathlib import Path

import nbformat
import numpy as np

from coursekit import assignments, notebook_files

POINTS = {"Code": 2, "Reasoning": 2}
"""Points per task, by kind: a code task's test cell, a reasoning task's answer."""
HIDDEN_DRAWS = 3
"""Hidden cases per code task: check_task's drawn case at this many of the folder's seeds."""
COURSE_ID = "regularization"
SCHEMA_VERSION = 3
MAX_SEED = 2**32 - 1
CHECK_CELL = re.compile(r'check_task\("(\d\d\.\d+)",\s*(\w+)\)')

CONFIG = '''"""nbgrader's configuration for the regularization course (written by coursekit.nbgrader_course)."""
import os
import sys

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 -- nbgrader provides it
# nbgrader runs `alembic` from PATH to create the gradebook: its environment's bin/ first, so that
# .venv-teacher/bin/nbgrader works without activating the environment.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
c.CourseDirectory.course_id = {course_id!r}
# The released stubs are the course's own (coursekit.assignments): check_task knows them.
c.ClearSolutions.code_stub = {{"python": 'raise NotImplementedError("your code here")'}}
c.ClearSolutions.text_stub = {text_stub!r}
# Assignments 05 and 06 train small Keras networks in some cells: more than nbgrader's 30 s a cell.
c.Execute.timeout = 300
# A test cell a learner deleted is put back and run, so their answer is graded.
c.OverwriteCells.add_missing_cells = True
# Feedback shows each test cell's output, not its hidden tests (their seeds stay with the teacher).
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
'''


def assignment_id(solution) -> str:
    """``.../02_penalized_cost_solution.ipynb`` -> ``02_penalized_cost`` (nbgrader's assignment name)."""
    if not isinstance(solution, str | os.PathLike):
        raise ValueError(f"solution must be a path, got {solution!r}")
    name = Path(solution).name
    if not re.fullmatch(r"\d\d_\w+_solution\.ipynb", name):
        raise ValueError(f"solution must be a NN_topic_solution.ipynb file, got {name!r}")
    return name.removesuffix("_solution.ipynb")


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return int(seed)


def hidden_seeds(seed: int, task_id: str) -> list[int]:
    """The :data:`HIDDEN_DRAWS` seeds of task ``task_id``'s hidden cases in a folder written with ``seed``."""
    seed = _check_seed(seed)
    match = re.fullmatch(r"(\d\d)\.(\d+)", str(task_id))
    if not match:
        raise ValueError(f"task_id must look like '02.3', got {task_id!r}")
    rng = np.random.default_rng([seed, *map(int, match.groups())])
    return [int(s) for s in rng.integers(0, MAX_SEED, HIDDEN_DRAWS)]


def _check_notebook(nb, name: str) -> None:
    if not isinstance(nb, nbformat.NotebookNode) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{name} must be a notebook (nbformat.read(path, as_version=4)), got {type(nb).__name__}")


def _meta(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _defined(source: str) -> set[str]:
    """The functions a code answer defines (its source with the markers, which are comments)."""
    return {node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def _autograder_cell_source(task_id: str, function: str, seeds: list[int]) -> str:
    """An autograder test cell: the visible check, then the hidden draws. A first hidden line turns
    the kernel's tracebacks to one line (``%xmode Minimal``, without the line it prints): a failing
    assert's traceback would otherwise show the lines around it, hidden ones included, in the feedback."""
    return "\n".join([
        f"# Task {task_id} ({POINTS['Code']} points): the autograder runs this check, then hidden cases.",
        "### BEGIN HIDDEN TESTS",
        "get_ipython().InteractiveTB.set_mode(mode='Minimal')  # a traceback would show this cell's hidden lines",
        "### END HIDDEN TESTS",
        f'assert check_task("{task_id}", {function}), "Task {task_id} does not pass its check yet (see above)."',
        "### BEGIN HIDDEN TESTS",
        "from helpers.checks.draws import check_hidden",
        "",
        f'assert check_hidden("{task_id}", {function}, seeds={seeds}), "Task {task_id} fails a hidden case."',
        "### END HIDDEN TESTS",
    ])


def graded_notebook(solution_nb: nbformat.NotebookNode, name: str = "notebook", *,
                    seed: int) -> nbformat.NotebookNode:
    """The nbgrader source notebook of a solution notebook (see the module docstring).

    ``name`` names the notebook in errors; ``seed`` draws the hidden cases' seeds. ``ValueError``
    naming the notebook and the task when a task lacks its answer or test cell, or has two.
    """
    _check_seed(seed)
    _check_notebook(solution_nb, "solution_nb")
    if not isinstance(name, str):
        raise ValueError(f"name must be a string (the notebook's name in errors), got {name!r}")
    kinds = {t.id: t.kind for t in assignments.tasks(solution_nb)}
    seen: dict[tuple[str, str], int] = {}
    defined: set[str] = set()
    nb = nbformat.v4.new_notebook()
    nb.metadata = notebook_files.keep_metadata(solution_nb.metadata)
    task = None
    for i, cell in enumerate(solution_nb.cells):
        tags = list(cell.get("metadata", {}).get("tags", []))
        if assignments.SOLUTION_ONLY_TAG in tags:
            continue
        where, source = f"{name}, cell {i}", cell.source
        if cell.cell_type == "markdown":
            found = assignments.TASK_TITLE.findall(source)
            task = found[-1][0] if found else task
            for old, repl in assignments.LINK_REWRITES:  # the source folder is one level below the course
                source = source.replace(old, repl)
            new = nbformat.v4.new_markdown_cell(source)
        elif cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(assignments.strip_check_mark(source))
        else:
            new = nbformat.v4.new_raw_cell(source)
        slug = task.replace(".", "_") if task else ""
        check = CHECK_CELL.fullmatch(new.source.strip()) if cell.cell_type == "code" else None
        role = None
        if assignments.BEGIN in source:
            kind = kinds.get(task)
            if task is None or (cell.cell_type == "code") != (kind == "Code"):
                raise ValueError(f"{where}: a {cell.cell_type} answer must follow a '## Task NN.k · "
                                 f"{'Code' if cell.cell_type == 'code' else 'Reasoning'}' heading (found: {task})")
            role = "answer"
            if kind == "Code":
                defined |= _defined(source)
                meta = _meta(f"task_{slug}_answer", solution=True, grade=False, locked=False)
            else:
                meta = _meta(f"task_{slug}_answer", solution=True, grade=True, locked=False,
                             points=POINTS["Reasoning"])
        elif check:
            task_id, function = check.groups()
            if task_id != task or function not in defined:
                raise ValueError(f"{where}: check_task({task_id!r}, {function}) must follow Task {task_id}'s "
                                 "answer, the function it checks")
            role = "test"
            new.source = _autograder_cell_source(task_id, function, hidden_seeds(seed, task_id))
            meta = _meta(f"task_{slug}_test", solution=False, grade=True, locked=True, points=POINTS["Code"])
        else:
            meta = _meta(f"cell_{i:03d}", solution=False, grade=False, locked=True)
        if role:
            seen[(task, role)] = seen.get((task, role), 0) + 1
        new.metadata = {"nbgrader": meta, **({"tags": tags} if tags else {})}
        new.id = f"cell-{len(nb.cells):03d}"
        nb.cells.append(new)
    for task_id, kind in kinds.items():
        for role in ("answer", "test") if kind == "Code" else ("answer",):
            if seen.get((task_id, role), 0) != 1:
                raise ValueError(f"{name}: Task {task_id} ({kind}) has {seen.get((task_id, role), 0)} {role} "
                                 "cells; it needs exactly one")
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def max_points(nb: nbformat.NotebookNode) -> int:
    """The points a graded notebook is worth: the sum over its graded cells."""
    _check_notebook(nb, "nb")
    return sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("grade"))


def write_course(out, *, seed: int, solutions=None, course_id: str = COURSE_ID) -> list[Path]:
    """Write the nbgrader course folder ``out`` (its config and one source notebook per solution)
    and return the notebooks written. Files of ``out`` that this does not write (the gradebook,
    ``release/``, ``submitted/``, ...) are left alone. ``ValueError`` naming ``out``, ``seed``,
    ``course_id`` or ``solutions`` when one is wrong."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a folder, got the file {out}")
    if not isinstance(course_id, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", course_id):
        raise ValueError(f"course_id must be letters, digits, '_', '.' or '-', got {course_id!r}")
    _check_seed(seed)
    paths = assignments.solution_paths(solutions)
    if not paths:
        raise ValueError(f"solutions: no NN_topic_solution.ipynb in {solutions or assignments.SOLUTIONS}")
    notebooks = {path: graded_notebook(nbformat.read(path, as_version=4), path.name, seed=seed) for path in paths}
    written = []
    for path, nb in notebooks.items():
        target = out / "source" / assignment_id(path) / assignments.learner_name(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(notebook_files.dumps(nb))
        written.append(target)
    (out / "nbgrader_config.py").write_text(CONFIG.format(course_id=course_id, text_stub=assignments.MARKDOWN_STUB))
    return written


def main(argv=None) -> int:
    """The command line (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m coursekit.nbgrader_course",
                                     description="Write an nbgrader course folder from the solution notebooks.")
    parser.add_argument("--out", type=Path, default=Path("nbgrader"),
                        help="the course folder (default: ./nbgrader); run nbgrader's commands from it")
    parser.add_argument("--seed", type=int, default=None,
                        help="draws the hidden cases' seeds (default: fresh; printed, to write the same folder again)")
    parser.add_argument("--course-id", default=COURSE_ID, help=f"nbgrader's course id (default: {COURSE_ID})")
    args = parser.parse_args(argv)
    seed = secrets.randbelow(MAX_SEED + 1) if args.seed is None else args.seed
    try:
        written = write_course(args.out, seed=seed, course_id=args.course_id)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path} ({max_points(nbformat.read(path, as_version=4))} points)")
    print(f"hidden cases drawn with --seed {seed} (keep it private; the same seed writes the same folder)")
    print(f"nbgrader course folder: {args.out}/ (next, from there: nbgrader generate_assignment "
          f"{written[0].parent.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
