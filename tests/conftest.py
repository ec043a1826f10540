"""Shared pytest set-up: helper tests draw with the non-interactive Agg backend."""

import matplotlib

matplotlib.use("Agg")
