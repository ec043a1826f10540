"""Executing the site's notebooks, each once in a fresh kernel of the course's environment (its own
folder as the working folder, as in JupyterLab), with :mod:`coursekit.site.capture` drawing its
figures and widgets; a failing cell stops it with the notebook, the cell and the error."""

from __future__ import annotations

import copy
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from coursekit.site.pages import BuildError, Page

__all__ = ["CAPTURE_CELL", "CELL_TIMEOUT_S", "INSTALL_CELL", "Executed", "execute", "execute_all"]

CELL_TIMEOUT_S = 900


@dataclass
class Executed:
    """A notebook after execution, and the folder with what :mod:`coursekit.site.capture` drew."""

    nb: nbformat.NotebookNode
    capture: Path | None  # None: rendered as committed (no outputs)
    seconds: float = 0.0
    report: dict = field(default_factory=dict)


INSTALL_CELL = ("from coursekit.site.capture import install as _course_site_install\n"
                "_course_site_install({out!r})\n"
                "del _course_site_install")
CAPTURE_CELL = ("import json as _course_json\n"
                "from coursekit.site.capture import capture_widgets as _course_capture\n"
                "print(_course_json.dumps(_course_capture()))")


def _cell_error(nb: nbformat.NotebookNode) -> tuple[int, str] | None:
    """The first code cell with an error output: (its number among the code cells, the error)."""
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        number += 1
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return number, f"{out.get('ename')}: {out.get('evalue')}"
    return None


def execute(source: Path, capture: Path, timeout: int = CELL_TIMEOUT_S) -> Executed:
    """Execute the notebook ``source`` in a fresh kernel (working folder: its own), drawing its
    figures and widgets into ``capture``. Raises BuildError naming the notebook and the cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    source, capture = Path(source).resolve(), Path(capture).resolve()
    start = time.perf_counter()
    nb = nbformat.read(source, as_version=4)
    run = copy.deepcopy(nb)
    run.cells.insert(0, nbformat.v4.new_code_cell(INSTALL_CELL.format(out=str(capture))))
    run.cells.append(nbformat.v4.new_code_cell(CAPTURE_CELL))
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND",)}
    # --log-level: no "Kernel is running over TCP without encryption" warning per notebook (a local
    # kernel; the same as JupyterLab's)
    client = NotebookClient(run, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(source.parent)}}, env=env,
                            extra_arguments=["--log-level=ERROR"])
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        failed = _cell_error(run)
        where = f"cell {failed[0] - 1}" if failed else "a cell"
        what = failed[1] if failed else str(exc).strip().splitlines()[-1][:300]
        if isinstance(exc, CellTimeoutError):
            what = f"it ran longer than {timeout} s"
        raise BuildError(f"{source.name}: {where} failed: {what}") from None
    report_out = [o for o in run.cells[-1].outputs if o.get("output_type") == "stream"]
    report = json.loads(report_out[-1]["text"]) if report_out else {}
    for cell, done in zip(nb.cells, run.cells[1:-1], strict=True):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = done.outputs, done.execution_count
    nb.metadata.pop("widgets", None)
    return Executed(nb, Path(capture), time.perf_counter() - start, report)


def _execute_one(args) -> tuple[str, dict | str]:
    source, capture = args
    try:
        done = execute(Path(source), Path(capture))
    except BuildError as exc:
        return source, str(exc)
    return source, {"nb": nbformat.writes(done.nb), "seconds": done.seconds, "report": done.report}


def execute_all(todo: list[Page], work: Path, jobs: int = 2, say=print) -> dict[Path, Executed]:
    """Execute ``todo`` in ``jobs`` processes (the slowest first); raise BuildError for the first failure."""
    order = sorted(todo, key=lambda p: -_expected_seconds(p.source))
    args = [(str(p.source), str(work / p.doc)) for p in order]
    done: dict[Path, Executed] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_execute_one, a) for a in args]
        for future in as_completed(futures):
            source, result = future.result()
            if isinstance(result, str):
                for other in futures:
                    other.cancel()
                raise BuildError(result)
            page = next(p for p in order if str(p.source) == source)
            done[page.source] = Executed(nbformat.reads(result["nb"], as_version=4), work / page.doc,
                                         result["seconds"], result["report"])
            say(f"executed {page.doc}.ipynb in {result['seconds']:.0f} s")
    return done


def _expected_seconds(path: Path) -> float:
    """A guess of how long a notebook runs, to start the slowest first: Keras notebooks first."""
    text = Path(path).read_text(encoding="utf-8")
    return 100.0 * ("keras" in text) + len(text) / 1e4
