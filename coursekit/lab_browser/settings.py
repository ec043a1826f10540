"""Where things are and how long to wait: the settings every part of :mod:`coursekit.lab_browser` shares."""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # coursekit/lab_browser/settings.py -> the course
NOTEBOOKS = REPO / "notebooks"
FIXTURES = REPO / "tests" / "browser_fixture"
SCREENSHOTS = REPO / "artifacts" / "screenshots"  # artifacts/ is git-ignored
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = "bash tools/install_browser.sh  (as root it runs: apt-get install -y chromium)"

# Generous: 2-core machines, cold kernels, and the Keras lesson trains models in "Run All".
KERNEL_TIMEOUT_S = float(os.environ.get("BROWSER_KERNEL_TIMEOUT", 180))
RUN_ALL_TIMEOUT_S = float(os.environ.get("BROWSER_RUN_TIMEOUT", 900))
SETTLE_TIMEOUT_S = float(os.environ.get("BROWSER_SETTLE_TIMEOUT", 60))
PLOT_TIMEOUT_S = float(os.environ.get("BROWSER_PLOT_TIMEOUT", 30))
# JupyterLab's autosave interval in the test (a learner's default is 120 s)
AUTOSAVE_INTERVAL_S = 2
# Read-only for the served course: the lessons, the assignments and the test's own fixtures
READ_ONLY_DIRS = ("notebooks", "assignments", "tests/browser_fixture")

WIDGET_CODE = re.compile(r"%matplotlib\s+(widget|ipympl)\b|\bipympl\b|\bipywidgets\b|\binteract")
LAMBDA_LABEL = re.compile(r"λ|lambda|\blam\b", re.IGNORECASE)
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
