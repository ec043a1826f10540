"""Shared pytest set-up: helper tests draw with the non-interactive Agg backend."""

import matplotlib

matplotlib.use("Agg")

# The browser test's own fixture notebooks are opened in JupyterLab by that test, not run by nbval.
collect_ignore_glob = ["browser_fixture/*"]
