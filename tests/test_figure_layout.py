"""coursekit.layout (checks, recorder): each rule catches a figure made to break it, and passes a good one.

The course's own figures are checked in every lesson's and solution's nbval run
(coursekit.layout.plugin); the end-to-end test at the bottom runs that plugin on a small notebook
with a bad figure and a bad widget and reads its report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from course_widgets import course_widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from coursekit.layout import checks
from coursekit.layout import plugin as layout_plugin
from coursekit.layout import recorder as rec
from coursekit.notebook_files import course_notebooks
from helpers.plots import allow_outside

REPO = Path(__file__).resolve().parent.parent


def figure(**kwargs):
    fig = Figure(figsize=kwargs.pop("figsize", (6.4, 3.6)), dpi=90, **kwargs)
    FigureCanvasAgg(fig)
    return fig


def good_axes(fig, **kwargs):
    ax = fig.subplots(**kwargs)
    ax.plot([0, 1, 2], [1, 3, 2], label="a series")
    ax.set(xlabel="x", ylabel="y", title="a title that fits")
    return ax


def only(problems, *words):
    """The problems mentioning every word; asserts there is at least one."""
    found = [p for p in problems if all(w in p for w in words)]
    assert found, f"expected a problem with {words}, got {problems}"
    return found


def test_a_good_figure_passes():
    fig = figure(layout="constrained")
    ax = good_axes(fig)
    ax.legend(loc="lower right")
    assert checks.layout_problems(fig) == []


def test_a_clipped_label_is_caught():
    fig = figure()  # no layout manager: a big x label at the bottom edge falls off the figure
    ax = good_axes(fig)
    fig.subplots_adjust(bottom=0.02)
    ax.set_xlabel("a label under the tick labels", fontsize=14)
    only(checks.layout_problems(fig), "x label 'a label under the tick labels'", "extends outside the figure")


def test_a_title_wider_than_the_figure_is_caught():
    fig = figure(figsize=(3, 3), layout="constrained")
    ax = good_axes(fig)
    ax.set_title("a title far too long to fit across a figure only three inches wide")
    only(checks.layout_problems(fig), "title", "extends outside the figure")


def test_overlapping_texts_are_caught():
    fig = figure(layout="constrained")
    ax = good_axes(fig)
    ax.text(0.5, 0.5, "first readout", transform=ax.transAxes)
    ax.text(0.52, 0.51, "second readout", transform=ax.transAxes)
    only(checks.layout_problems(fig), "text 'first readout'", "overlaps", "text 'second readout'")


def test_a_legend_over_a_text_is_caught():
    fig = figure(layout="constrained")
    ax = good_axes(fig)
    ax.set_ylim(0, 10)
    ax.text(0.02, 0.92, "a readout in the corner", transform=ax.transAxes, va="top")
    ax.legend(loc="upper left")
    only(checks.layout_problems(fig), "legend", "covers text 'a readout in the corner'")


def test_a_line_through_the_legend_is_caught():
    fig = figure(layout="constrained")
    ax = good_axes(fig)
    ax.axvline(0.1, color="k", label="a marker")
    ax.legend(loc="upper left")
    only(checks.layout_problems(fig), "line 'a marker' runs through the legend")


def test_bars_over_a_text_are_caught():
    """Issue 18, lesson 02: a readout overdrawn by the bars under it."""
    fig = figure(layout="constrained")
    ax = fig.subplots()
    ax.bar([1, 2, 3], [9, 9.8, 9], label="weights")
    ax.set(ylim=(0, 10), xlabel="j", ylabel="w")
    ax.text(0.4, 0.93, "max |w| = 9.8", transform=ax.transAxes)
    only(checks.layout_problems(fig), "bar series 'weights' is drawn over the text 'max |w| = 9.8'")


def test_a_line_outside_the_limits_is_caught_unless_allowed():
    fig = figure(layout="constrained")
    ax = good_axes(fig)
    (line,) = ax.plot([0, 1, 2], [1, 50, 2], label="too tall")
    ax.set_ylim(0, 5)
    only(checks.layout_problems(fig), "1 of 3 points of line 'too tall' lie outside the view")
    assert checks.layout_problems(fig, allowed_outside={"too tall": "cut at 5 on purpose"}) == []
    allow_outside(line, "cut at 5 on purpose")
    assert checks.layout_problems(fig) == []


def test_points_below_a_log_axis_are_caught():
    """Issue 18, lesson 01 at noise 0: errors below the axis' floor are not drawn."""
    fig = figure(layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(1, 13), np.logspace(-1, -17, 12), "o-", label="test MSE")
    ax.set(yscale="log", ylim=(1e-4, 1), xlabel="degree", ylabel="MSE (log)")
    only(checks.layout_problems(fig), "of 12 points of line 'test MSE' lie outside")


def test_markers_and_bars_outside_are_caught_and_empty_bars_are_not():
    fig = figure(layout="constrained")
    ax = fig.subplots()
    ax.scatter([0, 1, 5], [0, 1, 1], label="dots")
    ax.bar([0, 1, 2], [0, 1, 20], label="bars")  # the empty bar draws nothing: not outside
    ax.set(xlim=(-1, 3), ylim=(0.5, 10), yscale="log", xlabel="x", ylabel="count (log)")
    problems = checks.layout_problems(fig)
    only(problems, "2 of 3 points of set of markers 'dots'")
    only(problems, "1 of 2 points of bar series 'bars'")


def test_an_unlabelled_axis_is_caught():
    fig = figure(layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set(xlabel="x", title="no y label")
    assert checks.layout_problems(fig) == ["the y axis of axes 'no y label' has no label"]


def test_shared_axes_without_tick_labels_need_no_label():
    fig = figure(layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    for ax in (left, right):
        ax.plot([0, 1], [0, 1])
        ax.set(xlabel="x", title="panel")
    left.set_ylabel("y")
    assert checks.layout_problems(fig) == []


def test_a_log_axis_needs_two_labelled_ticks():
    fig = figure(layout="constrained")
    ax = fig.subplots()
    ax.plot([1, 2], [2, 3])
    ax.set(yscale="log", ylim=(2, 3), xlabel="x", ylabel="y (log)", title="short log axis")
    ax.yaxis.set_minor_formatter(plt.NullFormatter())
    only(checks.layout_problems(fig), "the log y axis", "fewer than two labelled ticks")


def test_animated_artists_count():
    """A widget's blitted parts are skipped by a full draw but seen by the learner."""
    fig = figure(layout="constrained")
    ax = good_axes(fig)
    ax.set_ylim(0, 5)
    ax.plot([0, 1], [0, 9], label="animated", animated=True)
    only(checks.layout_problems(fig), "line 'animated' lie outside")


def test_twin_axes_do_not_count_their_hidden_axis():
    fig = figure(layout="constrained")
    ax = good_axes(fig)
    twin = ax.twinx()
    twin.plot([0, 2], [5, 6])
    twin.set_ylabel("other")
    assert checks.layout_problems(fig) == []


def test_tick_labels_of_neighbouring_axes_that_touch_are_caught():
    """Issue 25: lesson 06's two panels read "3−2" where one panel's last tick met the next one's first."""
    def two_panels(wspace):
        fig = figure(figsize=(6, 2.5))
        left, right = fig.subplots(1, 2, gridspec_kw={"wspace": wspace})
        for ax, (lo, hi) in ((left, (0, 3)), (right, (-2, 1))):
            ax.plot([lo, hi], [0, 1])
            ax.set(xlim=(lo, hi), xticks=[lo, hi], xlabel="x", ylabel="y")
        right.yaxis.set_visible(False)
        return fig

    only(checks.layout_problems(two_panels(0.0)), "tick label '3'", "nearly touch")
    assert not [p for p in checks.layout_problems(two_panels(0.4)) if "nearly touch" in p]


@pytest.mark.parametrize("at, bad", [(300, True), (299.9, True), (-1, True), (250, False)])
def test_a_marked_position_on_the_edge_of_the_axes_is_caught(at, bad):
    """Issue 25: lesson 06's epoch marker at epoch 300 sat on the right spine, unseen."""
    fig = figure(layout="constrained")
    ax = good_axes(fig)
    ax.set_xlim(0, 300)
    ax.axvline(at, color="k", ls=":", label="this epoch")
    ax.axhline(2.5, color="grey")  # well inside: never a problem
    found = [p for p in checks.layout_problems(fig) if "edge of the axes" in p]
    assert bool(found) is bad, found
    if bad:
        assert "'this epoch'" in found[0]


def test_legend_entries_that_look_alike_are_caught():
    """Issue 25: lesson 07's explorer showed the same swatch for "fit" and "this λ"."""
    fig = figure(layout="constrained")
    ax = good_axes(fig)
    ax.plot([0, 2], [1, 1], color="C3", label="fit")
    ax.axvline(1, color="C3", label="this λ")
    ax.legend(loc="upper left")
    only(checks.layout_problems(fig), "'fit' and 'this λ' alike")
    ax.lines[-1].set_linestyle(":")
    ax.legend(loc="upper left")
    assert not [p for p in checks.layout_problems(fig) if "alike" in p]


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="fig"):
        checks.layout_problems("not a figure")
    with pytest.raises(ValueError, match="allowed_outside"):
        checks.layout_problems(figure(), allowed_outside={"label": ""})
    with pytest.raises(ValueError, match="reason"):
        allow_outside(figure().subplots().plot([0], [0])[0], " ")
    with pytest.raises(ValueError, match="artist"):
        allow_outside("a line", "why")


# ----------------------------------------------------------------------------- the kernel side
class Explorer:
    """A minimal widget in the course's shape: ``fig``, ``ui`` with a slider and a toggle."""

    def __init__(self):
        self.fig = figure(layout="constrained")
        self.ax = self.fig.subplots()
        self.ax.set(xlim=(0, 10), ylim=(0, 10), xlabel="x", ylabel="y")
        (self.line,) = self.ax.plot([], [], label="curve")
        self.slider = widgets.FloatSlider(value=5, min=0, max=20, description="height")
        self.mode = widgets.ToggleButtons(options=["up", "off"], description="mode")
        self.slider.observe(lambda _c: self.update(), names="value")
        self.mode.observe(lambda _c: self.update(), names="value")
        self.ui = widgets.VBox([self.mode, self.slider])
        self.update()

    def update(self):
        self.slider.disabled = self.mode.value == "off"
        self.line.set_data([1, 2], [1, self.slider.value])


@pytest.fixture
def recorder(monkeypatch):
    """A fresh recorder that sees only the widgets a test notes itself: widgets other test modules
    left alive in this process (e.g. tests/test_double_descent.py's) are not this test's."""
    monkeypatch.setattr(rec, "_RECORD", rec._Recorder())
    monkeypatch.setattr(rec, "_all_widget_owners", lambda: [])
    plt.close("all")  # and only the figures it opens
    return rec._RECORD


def test_sweep_finds_the_bad_end_of_a_slider_and_restores_the_controls(recorder):
    explorer = Explorer()
    rec._note_widgets({"explorer": explorer}, "explorer = Explorer()")
    assert rec.sweep_widgets() == 1 + 2 + 1  # initial, both ends, the other toggle state
    report = rec.layout_report()
    states = [p["state"] for p in report["problems"]]
    assert "explorer (Explorer): mode = 'up', height at its max (20)" in states, report
    assert any("disabled but still shows the value 5" in p["problem"] for p in report["problems"]), report
    assert all(p["cell"] == "explorer = Explorer()" for p in report["problems"])
    assert (explorer.slider.value, explorer.mode.value) == (5, "up")


def test_record_checks_each_shown_figure_once(recorder, monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(1))
    rec.record_shown_figures(allowed_outside={"tall": "cut on purpose"})
    try:
        fig, ax = plt.subplots(layout="constrained")
        ax.plot([0, 1], [0, 100], label="tall")
        ax.plot([0, 1], [0, 100], label="also tall")
        ax.set(ylim=(0, 1), xlabel="x", ylabel="y")
        plt.show()
        plt.show()
    finally:
        plt.close("all")
    report = rec.layout_report()
    assert shown == [1, 1] and report["figures"] == 1
    assert [p["problem"][:40] for p in report["problems"]] == ["1 of 2 points of line 'also tall' lie ou"]
    assert report["unused_exceptions"] == []


def test_the_course_widgets_look_right_in_every_state(recorder):
    """The same sweep the nbval run makes (coursekit.layout.plugin), here without a notebook: every
    widget of helpers at its initial state, both ends of each slider and each toggle state."""
    from helpers import setup

    with plt.rc_context():
        setup()
        found = course_widgets()
        for name, widget in found.items():
            rec._note_widgets({name: widget}, name)
        assert rec.sweep_widgets() >= 3 + 7 + 7 + 3
        report = rec.layout_report()
        for widget in found.values():
            plt.close(widget.fig)
    assert report["problems"] == []


# ----------------------------------------------------------------------------- the plugin
def test_the_plugin_checks_every_lesson_and_solution():
    checked = [p for p in course_notebooks() if layout_plugin.layout_checked(p)]
    lessons = sorted((REPO / "notebooks").glob("*.ipynb"))
    solutions = sorted((REPO / "assignments" / "solutions").glob("*.ipynb"))
    assert lessons and solutions and sorted(checked) == sorted(lessons + solutions)
    assert set(layout_plugin.ALLOWED_OUTSIDE) <= {p.name for p in lessons + solutions}


def _notebook(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [], "execution_count": None,
              "id": f"c{i}"} for i, s in enumerate(sources)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_the_plugin_reports_by_notebook_cell_and_widget_state(tmp_path):
    """End to end: nbval runs a notebook in a ``notebooks/`` folder; the plugin's layout item fails
    and names the cell of the bad static figure and the widget state that breaks."""
    nb = _notebook(
        tmp_path / "notebooks" / "bad.ipynb",
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nimport ipywidgets as w",
        "# extra code: a figure without a y label\nfig, ax = plt.subplots(layout='constrained')\n"
        "ax.plot([0, 1], [0, 1])\nax.set(xlabel='x', title='fine')\nplt.show()",
        "class Widget:\n    def __init__(self):\n        with plt.ioff():\n"
        "            self.fig, self.ax = plt.subplots(layout='constrained')\n"
        "        self.ax.set(xlim=(0, 1), ylim=(0, 1), xlabel='x', ylabel='y')\n"
        "        (self.line,) = self.ax.plot([0, 1], [0, 0.5], label='level')\n"
        "        self.slider = w.FloatSlider(value=0.5, min=0, max=2, description='level')\n"
        "        self.slider.observe(lambda c: self.line.set_ydata([0, c['new']]), names='value')\n"
        "        self.ui = w.VBox([self.slider])\n\nwidget = Widget()",
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "coursekit.layout.plugin", "-p", "no:cacheprovider",
         "--nbval-lax", "--nbval-current-env", "-q", "--rootdir", str(tmp_path), "-c", os.devnull, str(nb)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "bad.ipynb::figure layout" in out and "3 passed" in out, out
    assert "Cell 1 (# extra code: a figure without a y label), figure 'fine': the y axis" in out, out
    assert "widget (Widget): level at its max (2)" in out and "line 'level' lie outside" in out, out


def test_a_clipped_line_leaving_its_axes_does_not_cross_a_legend_below_them():
    """matplotlib clips a line to its axes, so the part beyond them (declared) never reaches a
    figure legend placed under the axes; the same line drawn unclipped does."""
    from coursekit.layout.checks import layout_problems

    def figure(clip_on):
        fig = Figure(figsize=(5, 4), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        x = np.linspace(0, 1, 50)
        ax.plot(x, np.sin(6 * x), label="data")
        wild, = ax.plot([0.0, 0.5, 0.5, 1.0], [0.0, 0.0, -40.0, -40.0], clip_on=clip_on)  # drops mid-figure
        allow_outside(wild, "a fit that leaves the view, on purpose")
        ax.set(ylim=(-1.5, 1.5), xlabel="x", ylabel="y")
        fig.legend(loc="outside lower center")
        return fig

    assert not [p for p in layout_problems(figure(True)) if "legend" in p]
    assert [p for p in layout_problems(figure(False)) if "runs through the legend" in p]
