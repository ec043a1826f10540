"""Run and clean the course notebooks so that what is committed is fresh, small and diffable.

    python tools/nbtools.py run notebooks/01_overfitting.ipynb ...   # execute, then clean, in place
    python tools/nbtools.py clean [--check] [paths...]               # clean only (default: all)

The command line of :mod:`coursekit.notebook_files`, which says what "clean" means.
"""

import sys

from coursekit.notebook_files import main

if __name__ == "__main__":
    sys.exit(main())
