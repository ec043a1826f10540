"""Time the course set-up from a clean clone and report the environment's size on disk.

    python3 bench/bench_setup.py [--keep]

Clones the current commit into a temporary folder, runs ``python3 course.py setup`` there twice
(first: create .venv and install; second: the no-op check every later command pays), and prints
both times and the size of .venv. pip's download cache is NOT cleared, so on a machine that has
installed the course before, the first time measures unpacking and installing, not downloading.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tree_size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return total


def timed(cmd, cwd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="course-bench-"))
    clone = tmp / "course"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    first = timed([sys.executable, "course.py", "setup"], clone)
    second = timed([sys.executable, "course.py", "setup"], clone)
    size = tree_size(clone / ".venv")
    print(f"set-up from a clean clone: {first:.1f} s (pip cache kept)")
    print(f"set-up when already installed: {second:.2f} s")
    print(f".venv size on disk: {size / 1e9:.2f} GB")
    largest = sorted(((tree_size(p), p.name) for p in (clone / ".venv/lib").glob("python*/site-packages/*")
                      if p.is_dir()), reverse=True)[:5]
    print("largest packages: " + ", ".join(f"{name} {sz / 1e6:.0f} MB" for sz, name in largest))
    if not args.keep:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
