"""Run and clean the course notebooks so that what is committed is fresh, small and diffable.

    python tools/nbtools.py run notebooks/01_overfitting.ipynb ...   # execute, then clean, in place
    python tools/nbtools.py clean [--check] [paths...]               # clean only (default: all)

The command line of :mod:`helpers.notebook_files`, which says what "clean" means. ``--check``
changes nothing and exits 1 if any notebook is not clean.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.notebook_files import clean_file, course_notebooks, is_clean, run_file


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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


if __name__ == "__main__":
    sys.exit(main())
