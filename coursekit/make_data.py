"""Regenerate or verify the shipped datasets.

``python -m coursekit.make_data --write`` rewrites every file in ``data/`` and its SHA256SUMS from
the fixed seeds in :mod:`helpers.data`; without ``--write`` it only verifies them.
"""

from __future__ import annotations

import argparse
import sys

from helpers.data import DataFileError, verify_data, write_all


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.make_data", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="regenerate every file in data/")
    args = parser.parse_args(argv)
    try:
        if args.write:
            for path in write_all():
                print(f"wrote {path.name}")
            return 0
        for name, status in verify_data().items():
            print(f"{name}: {status}")
        return 0
    except (DataFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
