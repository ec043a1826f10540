"""The course's notebook files: which they are, how they are written, what "clean" means, running them.

Maintainer tooling, used by :mod:`coursekit.assignments`, :mod:`coursekit.generated_files` and the
tests; :func:`main` is the command line ``python tools/nbtools.py``::

    python tools/nbtools.py run notebooks/01_overfitting.ipynb ...   # execute, then clean, in place
    python tools/nbtools.py clean [--check] [paths...]               # clean only (default: all)

``--check`` changes nothing and exits 1 if any notebook is not clean.

"Clean" means: outputs are kept only for cells marked ``# NBVAL_CHECK_OUTPUT`` (the cells whose
numbers nbval compares, text outputs only, with a constant execution count of 1 because nbval
skips unrun cells); every other output, every other execution count and volatile metadata are
dropped. A notebook is therefore committed with exactly the outputs the tests check, and nothing
stale can hide in it. Notebook metadata other than :data:`KEEP_NB_METADATA` is dropped; ``course``
is kept because it describes the lesson (:mod:`coursekit.lessons`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
TEXT_MIMES = ("text/plain",)
# "course": the lesson's description for the generated tables (coursekit/lessons.py)
KEEP_NB_METADATA = ("course", "kernelspec", "language_info")
KEEP_CELL_METADATA = ("tags",)
COURSE_FOLDERS = ("notebooks", "assignments")


def course_notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook that is part of the course (lessons, assignments, solutions), sorted."""
    found = []
    for folder in COURSE_FOLDERS:
        found += [p for p in (Path(root) / folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    return sorted(found)


def notebook_code(path: Path) -> str:
    """All code-cell sources of the notebook at ``path``, joined by newlines (no nbformat needed)."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def dumps(nb: nbformat.NotebookNode) -> str:
    """The text of ``nb`` as the course commits it: nbformat 4 JSON ending with a newline."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def keep_metadata(metadata: dict) -> dict:
    """The notebook metadata a clean notebook keeps: :data:`KEEP_NB_METADATA`, with
    ``language_info`` reduced to the language's name (the rest names the machine's Python)."""
    kept = {k: v for k, v in metadata.items() if k in KEEP_NB_METADATA}
    if "language_info" in kept:
        kept["language_info"] = {"name": "python"}
    return kept


def _clean_output(out: dict) -> dict | None:
    kind = out.get("output_type")
    if kind == "stream":
        return {"output_type": "stream", "name": out["name"], "text": out["text"]} if out["name"] == "stdout" else None
    if kind in ("execute_result", "display_data"):
        data = {k: v for k, v in out.get("data", {}).items() if k in TEXT_MIMES}
        if not data:
            return None
        cleaned = {"output_type": kind, "data": data, "metadata": {}}
        if kind == "execute_result":
            cleaned["execution_count"] = 1
        return cleaned
    return None  # errors and anything else are never committed


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return ``nb`` cleaned as described in the module docstring (modifies it in place)."""
    nb.metadata = keep_metadata(nb.metadata)
    ids = set()
    for index, cell in enumerate(nb.cells):
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        # nbformat 4.5 wants cell ids; keep existing ones, give missing ones a stable one.
        if not cell.get("id") or cell.id in ids:
            cell.id = f"cell-{index:03d}"
        ids.add(cell.id)
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        if CHECK_MARK in cell.source:
            # nbval skips cells without an execution count, so checked cells keep a constant one.
            cell.execution_count = 1
            outs = [_clean_output(o) for o in cell.outputs]
            cell.outputs = [nbformat.from_dict(o) for o in outs if o is not None]
        else:
            cell.execution_count = None
            cell.outputs = []
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def is_clean(path: Path) -> bool:
    """Whether the file at ``path`` is exactly what :func:`clean` and :func:`dumps` make of it."""
    text = Path(path).read_text()
    return dumps(clean(nbformat.reads(text, as_version=4))) == text


def clean_file(path: Path) -> None:
    """Clean the notebook at ``path`` in place."""
    path = Path(path)
    path.write_text(dumps(clean(nbformat.read(path, as_version=4))))


def run_file(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` top to bottom in its own folder, then clean it in place; returns seconds."""
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    path.write_text(dumps(clean(nb)))
    return seconds


def main(argv=None) -> int:
    """``python tools/nbtools.py run|clean ...`` (see the module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python tools/nbtools.py", description="Run and clean the course notebooks.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="execute then clean, in place")
    run.add_argument("paths", nargs="+", type=Path)
    cl = sub.add_parser("clean", help="clean in place (or --check)")
    cl.add_argument("--check", action="store_true")
    cl.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "run":
        for path in args.paths:
            print(f"{path}: ran in {run_file(path):.1f} s")
        return 0
    paths = args.paths or course_notebooks()
    if args.check:
        dirty = [p for p in paths if not is_clean(p)]
        for p in dirty:
            print(f"not clean: {p} (run: python tools/nbtools.py clean {p})")
        return 1 if dirty else 0
    for path in paths:
        clean_file(path)
    return 0
