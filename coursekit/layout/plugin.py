"""pytest plugin: check every figure of the lessons and solutions during their nbval run (issue 18).

The root ``conftest.py`` loads it (``pytest_plugins``). For each notebook it checks (every lesson in
a ``notebooks/`` folder, every solution in ``assignments/solutions/``) it

* installs :func:`coursekit.layout.recorder.record_shown_figures` in the notebook's kernel before the
  first cell runs (a silent execution: it adds nothing to the cells' outputs), so every figure a
  cell shows is checked when it is shown, and every widget a cell creates is noted;
* adds one test item, ``<notebook>::figure layout``, after the notebook's last cell. It runs
  :func:`coursekit.layout.recorder.sweep_widgets` in the same kernel (every widget at its initial
  state, both ends of each slider, every toggle state) and fails with every problem found, by
  notebook, cell and widget state.

The notebooks are executed once, by nbval, as before; the check only adds its own drawing (a few
seconds in all, printed at the end of the run). The runs of ``tests/test_portability.py`` (the
same notebooks under another floating-point order, ``COURSE_FLOAT_ORDER_VARIANT`` set) are not
checked again.

:data:`ALLOWED_OUTSIDE` holds the named exceptions: series of a lesson's static figures that leave
their axes on purpose, with the reason. An exception no figure uses fails the check (it is stale).
Widgets in ``helpers`` declare theirs in code (:func:`helpers.plots.allow_outside`).
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

SKIP_VARIABLE = "COURSE_FLOAT_ORDER_VARIANT"  # set by tests/test_portability.py's second runs
TIMEOUT_S = 600

ALLOWED_OUTSIDE: dict[str, dict[str, str]] = {
    "01_overfitting.ipynb": {
        "degree 12": "its swings between and beyond the training points are the point of the figure; "
                     "the y range stays at ±2.5 so that the data stay readable",
    },
    "07_bias_variance.ipynb": {
        "_fits": "the individual degree-12 fits swing far beyond the data near the edges, which is the "
                 "point of the figure; the y range stays at ±2.5 so that the average and the truth stay readable",
    },
    "03_weight_decay.ipynb": {
        r"$w_0(1 - t\,\eta\lambda/n)$ (linear approx.)": "the linear approximation crosses 0 at step 50 "
        "and keeps falling; the figure cuts it at -2 to show where it goes wrong",
    },
}

__all__ = ["ALLOWED_OUTSIDE", "FigureLayoutItem", "LayoutProblems", "insert_after_notebooks", "install_once",
           "layout_checked"]


def layout_checked(path) -> bool:
    """Whether the plugin checks the figures of the notebook at ``path``: a lesson (in a folder
    named ``notebooks``) or a solution (in ``assignments/solutions``)."""
    path = Path(path)
    parent = path.parent
    return path.suffix == ".ipynb" and (
        parent.name == "notebooks" or (parent.name == "solutions" and parent.parent.name == "assignments"))


def _enabled() -> bool:
    return not os.environ.get(SKIP_VARIABLE)


def _is_nbval_file(node) -> bool:
    return hasattr(node, "kernel") and hasattr(node, "nb") and layout_checked(node.path)


def _run_silently(kernel, code: str, expression: str | None = None, timeout: float = TIMEOUT_S):
    """Run ``code`` in nbval's kernel without adding to any cell's outputs; return the value of
    ``expression`` (a Python literal) or None. Raises RuntimeError if the code fails."""
    expressions = {"value": expression} if expression else {}
    msg_id = kernel.kc.execute(code, silent=True, store_history=False, user_expressions=expressions,
                               allow_stdin=False)
    while True:
        reply = kernel.get_message(stream="shell", timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    content = reply["content"]
    if content["status"] != "ok":
        raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")
    if not expression:
        return None
    value = content["user_expressions"]["value"]
    if value["status"] != "ok":
        raise RuntimeError(f"{value.get('ename')}: {value.get('evalue')}")
    return ast.literal_eval(value["data"]["text/plain"])


def _install_code(path: Path) -> str:
    allowed = ALLOWED_OUTSIDE.get(path.name, {})
    return ("from coursekit.layout.recorder import record_shown_figures as _course_layout_record\n"
            f"_course_layout_record(allowed_outside={allowed!r})\n"
            "del _course_layout_record\n")


SWEEP_CODE = ("from coursekit.layout.recorder import sweep_widgets as _course_sweep\n"
              "_course_sweep()\n"
              "del _course_sweep\n")
REPORT_EXPRESSION = ("__import__('json').dumps(__import__('coursekit.layout.recorder', fromlist=['layout_report'])"
                     ".layout_report())")


class LayoutProblems(Exception):
    """The figure layout check of one notebook found problems (the message lists them)."""


class FigureLayoutItem(pytest.Item):
    """The test item ``<notebook>::figure layout``, after the notebook's last cell (same kernel)."""

    def runtest(self):
        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            pytest.skip("the notebook's kernel is not running (a cell failed or timed out)")
        if not getattr(self.parent, "_course_layout_installed", False):
            pytest.skip("the layout recorder was not installed (the notebook's cells did not run)")
        _run_silently(kernel, SWEEP_CODE)
        report = json.loads(_run_silently(kernel, "", REPORT_EXPRESSION))
        self.report = report
        self.config.stash.setdefault(_STATS, []).append((self.path, report))
        lines = [self._describe(p) for p in report["problems"]]
        lines += [f"the named exception for {label!r} (coursekit.layout.plugin.ALLOWED_OUTSIDE) matched no "
                  "plotted series: remove it" for label in report["unused_exceptions"]]
        if lines:
            raise LayoutProblems(f"{self.path.name}: {len(lines)} layout problem(s)\n  " + "\n  ".join(lines))

    def _describe(self, p: dict) -> str:
        where = self._cell_name(p["cell"])
        figure = f", figure {p['figure']}" if p["figure"] else ""
        state = f", widget {p['state']}" if p["state"] else ""
        return f"{where}{figure}{state}: {p['problem']}"

    def _cell_name(self, source: str) -> str:
        code_cells = [c for c in self.parent.nb.cells if c.cell_type == "code"]
        index = next((i for i, c in enumerate(code_cells) if c.source.strip() == source.strip()), None)
        first = next((line for line in source.splitlines() if line.strip()), "")
        first = first[:70] + ("…" if len(first) > 70 else "")
        return f"Cell {index if index is not None else '?'} ({first})"

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, LayoutProblems):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: figure layout"


_STATS = pytest.StashKey[list]()


def pytest_collection_modifyitems(session, config, items):
    """After each checked notebook's last cell, its ``figure layout`` item."""
    if _enabled():
        insert_after_notebooks(items, _is_nbval_file, FigureLayoutItem, "figure layout")


def insert_after_notebooks(items: list, wanted, item_class, name: str) -> None:
    """After the last item of each nbval notebook for which ``wanted(notebook)`` holds, one
    ``item_class`` item called ``name`` (this plugin's ``figure layout``, coursekit.site.plugin's
    ``site capture``)."""
    last = {}
    for index, item in enumerate(items):
        if wanted(item.parent):
            last[item.parent] = index
    for parent, index in sorted(last.items(), key=lambda kv: kv[1], reverse=True):
        items.insert(index + 1, item_class.from_parent(parent, name=name))


def install_once(item, wanted, flag: str, code) -> bool:
    """Before the first cell of an nbval notebook for which ``wanted(notebook)`` holds, run
    ``code(notebook path)`` silently in its kernel, once (``flag`` marks the notebook as done).
    Call it after nbval's own setup (which starts the kernel); True when it ran the code now."""
    parent = item.parent
    if (_enabled() and hasattr(item, "cell") and wanted(parent) and not getattr(parent, flag, False)
            and parent.kernel is not None):
        _run_silently(parent.kernel, code(Path(parent.path)))
        setattr(parent, flag, True)
        return True
    return False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """Once nbval has started a checked notebook's kernel, before its first cell: the recorder."""
    result = yield
    install_once(item, _is_nbval_file, "_course_layout_installed", _install_code)
    return result


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line per checked notebook: figures and widget states checked, and the time it took."""
    stats = config.stash.get(_STATS, [])
    if not stats:
        return
    terminalreporter.section("figure layout")
    for path, r in stats:
        terminalreporter.write_line(
            f"{path.name}: {r['figures']} figures shown, {r['widgets']} widget(s) in {r['states']} states, "
            f"{len(r['problems'])} problem(s); {r['seconds']:.1f} s of checking")
    total = sum(r["seconds"] for _, r in stats)
    terminalreporter.write_line(f"total: {total:.1f} s of checking in {len(stats)} notebook(s)")
