"""Learner notebooks generated from the solution notebooks, and a learner's own copies.

    python -m coursekit.assignments generate [--check]   # solutions -> assignments/NN_*_assignment.ipynb
    python -m coursekit.assignments copy [--dest DIR]    # assignments -> my_work/ (never overwrites)

(``python tools/generate.py`` regenerates the learner notebooks together with everything else the
course generates; ``generate`` here is that command's assignments part.)

Single source: ``assignments/solutions/NN_<topic>_solution.ipynb`` hold the answers between
nbgrader's markers ``### BEGIN SOLUTION`` / ``### END SOLUTION``. :func:`generate` replaces

* in code cells, the lines between the markers by
  ``raise NotImplementedError("Task NN.k: your code here")`` at the marker's indentation
  (the task id is taken from the last ``## Task NN.k`` heading above the cell);
* in markdown cells, the text between the markers by ``*Your answer here.*``;

and drops cells tagged ``solution-only``, all outputs and the ``# NBVAL_CHECK_OUTPUT`` marks
(a learner's outputs differ from the solution's), and rewrites links for the learner
notebook's folder. ``--check`` writes nothing and exits 1 when a committed learner notebook
differs from what would be generated (the drift test runs the same comparison).

:func:`copy_to` copies the learner notebooks into a personal folder (``my_work/`` at the
repository root, ignored by git) and never overwrites a file that already exists there, so a
learner's work is never lost; run it again after the course gains an assignment and only the
new one is added.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursekit import notebook_files

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "assignments"
SOLUTIONS = ASSIGNMENTS / "solutions"
MY_WORK = ROOT / "my_work"

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CHECK_MARK = notebook_files.CHECK_MARK
SOLUTION_ONLY_TAG = "solution-only"
MARKDOWN_STUB = "*Your answer here.*"
_TASK_HEADING = re.compile(r"^#+\s*Task\s+(\d\d\.\d+)\b", re.MULTILINE)
# the full form of a task heading in a solution notebook, which the assignment tables list
TASK_TITLE = re.compile(r"^## Task (\d\d\.\d+) · (Code|Reasoning): (.+?)\s*$", re.MULTILINE)
# solutions/ sits one folder deeper than the learner notebooks
LINK_REWRITES = (("](../../", "](../"),)


class MarkerError(ValueError):
    """A solution notebook's markers are unbalanced or outside a task."""


@dataclass(frozen=True)
class Task:
    """One task of an assignment, from its heading ``## Task NN.k · Code|Reasoning: <title>``."""

    id: str  # "02.3"
    kind: str  # "Code" or "Reasoning"
    title: str  # "ridge in closed form"


def tasks(nb: nbformat.NotebookNode) -> list[Task]:
    """The tasks of a solution (or learner) notebook, in the order of their headings."""
    return [Task(*found) for cell in nb.cells if cell.cell_type == "markdown"
            for found in TASK_TITLE.findall(cell.source)]


def solution_paths(folder: Path | None = None) -> list[Path]:
    """The solution notebooks ``NN_<topic>_solution.ipynb``, sorted."""
    return sorted(Path(folder or SOLUTIONS).glob("[0-9][0-9]_*_solution.ipynb"))


def learner_name(solution: Path) -> str:
    """``03_weight_decay_solution.ipynb`` -> ``03_weight_decay_assignment.ipynb``."""
    return solution.name.replace("_solution.ipynb", "_assignment.ipynb")


def replace_regions(source: str, stub: Callable[[str], str], *, where: str) -> tuple[str, int]:
    """Replace every BEGIN/END region of ``source``; ``stub(indent)`` gives the replacement."""
    out, inside, count = [], False, 0
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise MarkerError(f"{where}: nested '{BEGIN}'")
            inside, count = True, count + 1
            out.append(stub(line[: len(line) - len(line.lstrip())]))
        elif stripped == END:
            if not inside:
                raise MarkerError(f"{where}: '{END}' without '{BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: '{BEGIN}' without '{END}'")
    return "\n".join(out), count


def without_markers(source: str) -> str:
    """``source`` with its BEGIN/END marker lines removed: the solution's code as a learner who
    solved the task would have written it."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in (BEGIN, END))


def strip_check_mark(source: str) -> str:
    """``source`` without its first line when that is the ``# NBVAL_CHECK_OUTPUT`` mark."""
    lines = source.split("\n")
    if lines and lines[0].strip() == CHECK_MARK:
        lines = lines[1:]
    return "\n".join(lines)


def learner_notebook(solution_nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The learner version of a solution notebook (see the module docstring)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = notebook_files.keep_metadata(solution_nb.metadata)
    task = None
    for i, cell in enumerate(solution_nb.cells):
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell.source
        if cell.cell_type == "markdown":
            headings = _TASK_HEADING.findall(source)
            if headings:
                task = headings[-1]
        where = f"{name}, cell {i}"
        if cell.cell_type == "code":
            if BEGIN in source and task is None:
                raise MarkerError(f"{where}: a solution region before any '## Task NN.k' heading")
            message = f"Task {task}: your code here"
            source, _ = replace_regions(
                source, lambda indent, m=message: f'{indent}raise NotImplementedError("{m}")',
                where=where)
            new = nbformat.v4.new_code_cell(strip_check_mark(source))
        else:
            source, _ = replace_regions(source, lambda indent: f"{indent}{MARKDOWN_STUB}", where=where)
            for old, repl in LINK_REWRITES:
                source = source.replace(old, repl)
            new = (nbformat.v4.new_markdown_cell(source) if cell.cell_type == "markdown"
                   else nbformat.v4.new_raw_cell(source))
        tags = list(cell.get("metadata", {}).get("tags", []))
        new.metadata = {"tags": tags} if tags else {}
        new.id = f"cell-{len(nb.cells):03d}"  # stable ids, as notebook_files.clean gives them
        nb.cells.append(new)
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def generated(solutions: Path | None = None) -> dict[str, str]:
    """``{learner file name: text}`` for every solution notebook."""
    out = {}
    for path in solution_paths(solutions):
        nb = nbformat.read(path, as_version=4)
        out[learner_name(path)] = notebook_files.dumps(notebook_files.clean(learner_notebook(nb, path.name)))
    return out


def generate(dest: Path | None = None, *, check: bool = False,
             solutions: Path | None = None) -> list[str]:
    """Write the learner notebooks into ``dest`` (default ``assignments/``).

    Returns the names that changed (with ``check=True``: that differ, nothing is written).
    """
    dest = Path(dest or ASSIGNMENTS)
    changed = []
    for name, text in generated(solutions).items():
        path = dest / name
        if not path.is_file() or path.read_text() != text:
            changed.append(name)
            if not check:
                dest.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    return changed


def learner_paths(folder: Path | None = None) -> list[Path]:
    """The committed learner notebooks ``NN_<topic>_assignment.ipynb``, sorted."""
    return sorted(Path(folder or ASSIGNMENTS).glob("[0-9][0-9]_*_assignment.ipynb"))


def copy_to(dest: Path | None = None, source: Path | None = None) -> tuple[list[str], list[str]]:
    """Copy each learner notebook into ``dest`` (default ``my_work/``) unless it exists there.

    Never overwrites: a file already in ``dest`` is kept as it is, whatever it contains. A copy is
    writable by the learner whatever the original's mode. Returns ``(copied, kept)`` file names.
    """
    dest = Path(dest or MY_WORK)
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"dest must be a folder, got the file {dest}")
    dest.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for path in learner_paths(source):
        target = dest / path.name
        if target.exists():
            kept.append(path.name)
            continue
        try:
            # "x": fails rather than overwrite, even in a race. The copy gets the mode any new file of
            # the learner gets (their umask), not the original's: a read-only checkout or a packaged
            # install must not give read-only copies, which JupyterLab's autosave would skip.
            with open(target, "xb") as out:
                out.write(path.read_bytes())
        except FileExistsError:
            kept.append(path.name)
            continue
        copied.append(path.name)
    return copied, kept


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.assignments",
                                     description="Generate the learner notebooks, or copy them into your own folder.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    gen = sub.add_parser("generate", help="solutions -> assignments/NN_*_assignment.ipynb")
    gen.add_argument("--check", action="store_true",
                     help="write nothing; exit 1 if a committed learner notebook is out of date")
    cp = sub.add_parser("copy", help="copy the assignments into your folder, never overwriting")
    cp.add_argument("--dest", type=Path, default=MY_WORK, help="your folder (default: my_work/)")
    args = parser.parse_args(argv)
    if args.cmd == "generate":
        changed = generate(check=args.check)
        if args.check:
            for name in changed:
                print(f"out of date: assignments/{name} (run: python -m coursekit.assignments generate)")
            if not changed:
                print(f"all {len(solution_paths())} learner notebooks match their solutions")
            return 1 if changed else 0
        for name in changed:
            print(f"wrote assignments/{name}")
        print(f"{len(changed)} written, {len(solution_paths()) - len(changed)} already up to date")
        return 0
    try:
        copied, kept = copy_to(args.dest)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name in copied:
        print(f"copied: {args.dest / name}")
    for name in kept:
        print(f"kept (already there, not touched): {args.dest / name}")
    print(f"{len(copied)} copied, {len(kept)} kept; open them from {args.dest}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
