"""Time lessons as a learner runs them: each notebook executed top to bottom in a fresh kernel of
this environment, with the wall time of the whole run and of its slowest cells, and the machine's
load before and after (issue 25: lessons 05 and 06 must run in about 90 s on a quiet 2-core CPU).

    .venv/bin/python bench/bench_lessons.py notebooks/05_keras_experiment.ipynb notebooks/06_beyond_penalties.ipynb

The notebooks are not written. Cells run with the course's kernel settings (as `course.py lab`: the
Setup cell sets them itself); ``%matplotlib widget`` figures are built but no browser draws them.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def time_notebook(path: Path, slowest: int = 5) -> tuple[float, list[tuple[float, int, str]]]:
    """(wall seconds of the whole run, the ``slowest`` code cells as (seconds, index, first line))."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    cells = []
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t0 = time.perf_counter()
            client.execute_cell(cell, index)
            cells.append((time.perf_counter() - t0, index, cell.source.splitlines()[0][:60] if cell.source else ""))
    return time.perf_counter() - start, sorted(cells, reverse=True)[:slowest]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f}")
    for path in args.notebooks:
        total, slow = time_notebook(path.resolve())
        print(f"{path.name}: {total:.0f} s in all (kernel start included); load now {os.getloadavg()[0]:.2f}")
        for seconds, index, first in slow:
            print(f"    cell {index:2d}: {seconds:6.1f} s  {first}")


if __name__ == "__main__":
    main()
