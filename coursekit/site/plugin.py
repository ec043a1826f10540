"""pytest plugin: the website's pictures are drawn while nbval executes the notebooks (issue 24), so
the test command builds and checks the site without executing any notebook a second time.

The root ``conftest.py`` loads it (``pytest_plugins``). For every course notebook nbval runs (a
page of the site: a lesson, an assignment or a solution; :func:`coursekit.site.pages.pages`) it

* installs :func:`coursekit.site.capture.install` in the notebook's kernel before the first cell (a
  silent execution: nothing is added to any cell's outputs), so each figure a cell shows is drawn
  at the site's resolution;
* keeps every cell's outputs as nbval collected them;
* adds one test item after the notebook's last one, ``<notebook>::site capture``: it draws every
  state of every widget (:func:`coursekit.site.capture.capture_widgets`) in the same kernel and keeps
  the executed notebook with its capture (:class:`coursekit.site.execute.Executed`) for the site.

The tests marked ``site`` (``tests/test_site.py``) are moved after every notebook, and its
``site`` fixture (:func:`captured`) builds the site from what was kept, executing only the pages
nbval did not run (all of them when ``tests/test_site.py`` runs alone). The portability reruns
(``COURSE_FLOAT_ORDER_VARIANT`` set) capture nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

from coursekit.layout.plugin import _run_silently, insert_after_notebooks, install_once
from coursekit.site.execute import INSTALL_CELL

SKIP_VARIABLE = "COURSE_FLOAT_ORDER_VARIANT"
_CAPTURES = pytest.StashKey[dict]()
_FOLDER = pytest.StashKey[Path]()

__all__ = ["SiteCaptureItem", "captured", "is_site_page"]


def is_site_page(path) -> bool:
    """Whether the notebook at ``path`` is a page of the site: a lesson (``notebooks/``), an
    assignment (``assignments/``) or a solution (``assignments/solutions/``)."""
    path = Path(path)
    parent = path.parent
    return path.suffix == ".ipynb" and (
        parent.name in ("notebooks", "assignments")
        or (parent.name == "solutions" and parent.parent.name == "assignments"))


def _enabled() -> bool:
    return not os.environ.get(SKIP_VARIABLE)


def _is_nbval_page(node) -> bool:
    return hasattr(node, "kernel") and hasattr(node, "nb") and is_site_page(node.path)


def pytest_configure(config):
    config.stash[_CAPTURES] = {}
    config.stash[_FOLDER] = Path(tempfile.mkdtemp(prefix="course-site-capture-"))


def pytest_unconfigure(config):
    folder = config.stash.get(_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def captured(config) -> dict:
    """The notebooks executed by nbval in this session, with their captures: ``{path: Executed}``."""
    return dict(config.stash.get(_CAPTURES, {}))


def _install_code(folder: Path) -> str:
    return INSTALL_CELL.format(out=str(folder))


def _capture_folder(config, path: Path) -> Path:
    return config.stash[_FOLDER] / f"{path.parent.name}-{path.stem}"


CAPTURE_EXPRESSION = ("__import__('json').dumps(__import__('coursekit.site.capture', fromlist=['capture_widgets'])"
                      ".capture_widgets())")


class SiteCaptureItem(pytest.Item):
    """``<notebook>::site capture``: every widget state drawn, the executed notebook kept."""

    def runtest(self):
        from coursekit.site.execute import Executed

        parent = self.parent
        kernel = parent.kernel
        if kernel is None or not kernel.is_alive():
            pytest.skip("the notebook's kernel is not running (a cell failed or timed out)")
        if not getattr(parent, "_course_site_installed", False):
            pytest.skip("the capture was not installed (the notebook's cells did not run)")
        outputs = getattr(parent, "_course_site_outputs", {})
        cells = [c for c in parent.nb.cells if c.cell_type == "code"]
        if len(outputs) != len(cells):
            pytest.skip(f"{len(cells) - len(outputs)} cell(s) did not run; the site is not built from this run")
        report = json.loads(_run_silently(kernel, "", CAPTURE_EXPRESSION))
        nb = nbformat.from_dict(json.loads(json.dumps(parent.nb)))
        code = [c for c in nb.cells if c.cell_type == "code"]
        for number, cell in enumerate(code):
            cell.outputs = [nbformat.from_dict(out) for out in outputs[number]]
        nb.metadata.pop("widgets", None)
        self.config.stash[_CAPTURES][Path(self.path).resolve()] = Executed(
            nb, _capture_folder(self.config, Path(self.path)), 0.0, report)
        if report["problems"]:
            raise AssertionError(f"{self.path.name}: the site's capture found problems:\n  "
                                 + "\n  ".join(report["problems"]))

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: site capture"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """After each page's last item (its figure layout item included): its site capture item; then
    the tests marked ``site`` after everything else."""
    if _enabled():
        insert_after_notebooks(items, _is_nbval_page, SiteCaptureItem, "site capture")
    site = [item for item in items if item.get_closest_marker("site")]
    if site:
        rest = [item for item in items if not item.get_closest_marker("site")]
        items[:] = rest + site


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """Once nbval has started a page's kernel, before its first cell: the capture."""
    result = yield
    if _enabled() and install_once(item, _is_nbval_page, "_course_site_installed",
                                   lambda path: _install_code(_capture_folder(item.config, path))):
        item.parent._course_site_outputs = {}
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Keep each page cell's outputs, as nbval collected them."""
    try:
        return (yield)
    finally:
        parent = item.parent
        if getattr(parent, "_course_site_installed", False) and hasattr(item, "cell_num"):
            outputs = getattr(item, "test_outputs", None)
            if outputs is not None:
                parent._course_site_outputs[item.cell_num] = [dict(out) for out in outputs]
