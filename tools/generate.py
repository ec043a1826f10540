"""Regenerate everything the course generates from its lessons: navigation, tables, learner notebooks.

    python tools/generate.py           # write every generated part that is out of date
    python tools/generate.py --check   # change nothing; exit 1 if anything is stale (a test runs this)

The command line of :mod:`coursekit.generated_files`; the lessons come from :mod:`coursekit.lessons`.
"""

import sys

from coursekit.generated_files import main

if __name__ == "__main__":
    sys.exit(main())
