"""coursekit.lab_browser without a browser: importable by tests and bench alike, Playwright only on
demand, and its percentile (the benchmark's p95)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import pytest

from coursekit import lab_browser

STANDARD_LIBRARY = sys.stdlib_module_names


def test_importing_it_needs_only_the_standard_library_and_the_course():
    """Playwright is imported inside the functions that need it, never when a module loads."""
    package = Path(lab_browser.__file__).parent
    sources = [path.read_text(encoding="utf-8") for path in sorted(package.glob("*.py"))]
    for source in sources:
        top = [n for n in ast.parse(source).body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = {alias.name for n in top if isinstance(n, ast.Import) for alias in n.names}
        names |= {n.module for n in top if isinstance(n, ast.ImportFrom)}
        roots = {name.split(".")[0] for name in names}
        assert roots <= STANDARD_LIBRARY | {"__future__", "coursekit"}, roots - STANDARD_LIBRARY
    assert any("playwright" in source for source in sources)  # it does use it, lazily


@pytest.mark.parametrize("values", [[5.0], [3.0, 1.0], list(range(1, 21)), [120.0, 80.5, 95.0, 300.2, 101.0]])
@pytest.mark.parametrize("q", [1, 50, 95, 99])
def test_percentile_interpolates_like_numpy(values, q):
    assert lab_browser.percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_percentile_of_20_timings():
    assert lab_browser.percentile(list(range(1, 21)), 95) == pytest.approx(19.05)
    assert lab_browser.percentile([7.0] * 3, 50) == 7.0


@pytest.mark.parametrize(("values", "q", "said"), [([], 95, "values must not be empty"),
                                                   ([1.0, 2.0], 100, "q must be a whole number from 1 to 99"),
                                                   ([1.0, 2.0], 9.5, "q must be a whole number")])
def test_percentile_rejects_what_it_cannot_answer(values, q, said):
    with pytest.raises(ValueError, match=said):
        lab_browser.percentile(values, q)


def _figure(**kw):
    fig = {"kind": "canvas", "index": 0, "cell": 4, "dpr": 1, "box": [100, 200, 810, 306],
           "pixels": [810, 306], "header": None, "toolbar": None}
    fig.update(kw)
    return fig


def test_figure_problems_find_a_header_a_covering_toolbar_and_a_scaled_figure():
    """Issue 18: how a figure is shown in the page (the browser test feeds it figures(page))."""
    assert lab_browser.figure_problems([_figure(), _figure(dpr=2, pixels=[1620, 612])]) == []
    (header,) = lab_browser.figure_problems([_figure(header="Figure 3")])
    assert "cell 4 shows ipympl's header 'Figure 3'" in header
    (toolbar,) = lab_browser.figure_problems([_figure(toolbar=[103, 203, 34, 170])])
    assert "toolbar covers part of it" in toolbar
    assert lab_browser.figure_problems([_figure(toolbar=[950, 203, 34, 170])]) == []  # beside it
    (scaled,) = lab_browser.figure_problems([_figure(kind="img", pixels=[900, 360], box=[0, 0, 1216, 486])])
    assert "image in cell 4 is scaled" in scaled and "900 px wide, shown at 1216 CSS px" in scaled
    (cut,) = lab_browser.figure_problems([_figure(visible=780)])
    assert "wider than the page shows: 30 of its 810 CSS px are cut off" in cut


def test_slug():
    assert lab_browser.slug("noise σ") == "noise-sigma"
    assert lab_browser.slug("λ") == "lambda"
    assert lab_browser.slug("none (λ = 0)") == "none-lambda-0"
    assert lab_browser.slug("…") == "x"
