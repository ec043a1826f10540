"""Shared pytest set-up: helper tests draw with the non-interactive Agg backend; Hypothesis is
reproducible and writes nothing into the repository."""

import os
import tempfile
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

matplotlib.use("Agg")

# The browser test's own fixture notebooks are opened in JupyterLab by that test, not run by nbval.
collect_ignore_glob = ["browser_fixture/*"]

# "ci" (the default): the same examples on every run and machine, so a failure reproduces.
# "explore" (HYPOTHESIS_PROFILE=explore): new random examples each run, to look for new failures.
# Neither keeps an example database, and Hypothesis's other files (a cache of the literals it
# reads in the source) go to the temporary folder: no .hypothesis/ folder in the repository.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "regularization-course-hypothesis")
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", database=None, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


CHECK_SEED = 4242
"""The seed of the checks' drawn cases in the checks' tests (``helpers.checks.draws``): a message
that names a drawn case is the same on every run. ``tests/test_checks_drawn.py`` varies it."""


@pytest.fixture(autouse=True)
def _checks_draw_one_case(request, monkeypatch):
    if request.module.__name__.rsplit(".", 1)[-1].startswith("test_checks"):
        from helpers.checks import draws

        monkeypatch.setattr(draws, "SEED", CHECK_SEED)
