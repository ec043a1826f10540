"""Real-browser test of the course's widgets (issue #8): JupyterLab + Debian's Chromium.

For every notebook with widgets (the rule: coursekit.lab_browser.notebook_has_widgets) plus the test's
own fixtures in tests/browser_fixture/: open it in a private JupyterLab, Run All, wait for the
widgets, fail on "Error displaying widget", "Loading widget...", stderr or error outputs, move every
λ slider (and the first slider of every widget) and check that a plot changed. For the lessons
(issue 18): no ipympl header, no toolbar over a figure while the mouse is on it, no figure scaled
(blurred) by the page, and every widget at both ends of each slider in each toggle state, with a
screenshot of each in artifacts/screenshots/extremes/. Screenshots go to artifacts/screenshots/
(git-ignored). See coursekit/lab_browser/ for the design.

The course notebooks are never written (issue: autosave rewrote all six lessons). The server serves
a temporary copy with autosave ON (every 2 s) and the course's contents manager
(coursekit.lab_server), as a learner gets it. After Run All in every lesson (the widget lessons in
the test above, the others in test_lesson_run_all_leaves_it_unchanged), with the notebook dirty and
open past two autosave intervals: the page sent no write request for it, and the real notebook and
its served copy are byte-identical to before. test_autosave_saves_my_work is the control: an edited,
run notebook in my_work/ is autosaved, so autosave really was on. Every lesson opens unmodified.

The page shows what the kernel holds (issue 25): after the sliders and toggles of every widget lesson
moved, each ipympl figure on the page is compared with the kernel's picture of it, sent whole
(coursekit.lab_browser.stale_figures); a lost frame is caught on a plain figure and repaired by the
course's Blitter (test_a_lost_frame_is_caught_and_a_blitted_figure_repairs_it).

A learner's copy (issue 26): File > Save Notebook As... of a lesson into my_work/ closes the lesson with
nothing to ask and opens the copy, whose links, widgets and autosave work (refused beside the lessons,
with the way out); after a run of the lesson JupyterLab asks once, as README tells the learner.

    .venv/bin/python -m pytest tests/test_browser.py -q -s      # -s shows the slider timings
"""

from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager

import pytest

from coursekit import lab_browser as bs
from coursekit import lab_server
from coursekit.lessons import lessons

COURSE = lessons()
LESSONS = bs.widget_notebooks()
# Lessons without widgets: Run All and the autosave checks only (the others get them above)
OTHER_LESSONS = [lesson.path for lesson in COURSE if lesson.path not in LESSONS]
FIXTURES = bs.fixture_notebooks()
TARGETS = FIXTURES + LESSONS


def _ids(paths):
    return [str(p.relative_to(bs.REPO / "tests" if p.is_relative_to(bs.FIXTURES) else bs.REPO))
            for p in paths]


# ----------------------------------------------------------------------------- no browser needed
def _write_nb(path, *sources):
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [],
              "execution_count": None} for s in sources]
    cells.insert(0, {"cell_type": "markdown", "source": "# interact with ipywidgets", "metadata": {}})
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


@contextmanager
def _shot_on_failure(page, server, screenshot):
    """The ``with`` block's page: a screenshot at ``screenshot`` if the block fails; its browser
    context closed and the server's kernels deleted afterwards, whatever happens."""
    try:
        yield page
    except Exception:
        page.screenshot(path=str(screenshot))
        raise
    finally:
        page.context.close()
        server.delete_kernels()


def test_fixtures_are_found_as_widget_notebooks():
    assert {p.name for p in FIXTURES} >= {"widget_fixture.ipynb", "interact_fixture.ipynb"}
    assert all(bs.notebook_has_widgets(p) for p in FIXTURES)


def test_widget_rule(tmp_path):
    yes = [
        "%matplotlib widget\nimport numpy as np",
        "import ipywidgets as widgets",
        "from ipywidgets import interact",
        "out = interactive(f, lam=(0, 1))",
        "%matplotlib ipympl",
    ]
    for i, src in enumerate(yes):
        assert bs.notebook_has_widgets(_write_nb(tmp_path / f"y{i}.ipynb", src)), src
    # markdown mentioning widgets does not count; plain code does not count
    plain = _write_nb(tmp_path / "plain.ipynb", "%matplotlib inline\nimport numpy as np", "x = 1")
    assert not bs.notebook_has_widgets(plain)
    assert bs.widget_notebooks(tmp_path) == sorted(tmp_path / f"y{i}.ipynb" for i in range(5))


@pytest.mark.parametrize("lesson", COURSE, ids=[lesson.name for lesson in COURSE])
def test_widget_lessons_are_the_ones_whose_metadata_lists_widgets(lesson):
    """A lesson's metadata (course.widgets, coursekit.lessons) and the widget rule agree, both ways."""
    if lesson.widgets:
        assert lesson.path in LESSONS, (f"{lesson.name}: its metadata lists widgets {list(lesson.widgets)}, "
                                        "but notebook_has_widgets() finds none in its code")
    else:
        assert lesson.path not in LESSONS, (f"{lesson.name}: its code has widgets, but its metadata "
                                            "course.widgets is empty; name them there")


def test_slider_choice():
    mk = lambda i, cell, label: bs.Slider(i, cell, label, "1", "0", "1", False)  # noqa: E731
    found = [mk(0, 3, "λ"), mk(1, 3, "degree"), mk(2, 5, "noise"), mk(3, 5, "lambda (log)"),
             mk(4, 7, "n")]
    assert [s.index for s in bs.sliders_to_move(found)] == [0, 2, 3, 4]


# ----------------------------------------------------------------------------- the browser
@pytest.fixture(scope="session")
def lab():
    """One private JupyterLab server and one Chromium for the session; always stopped."""
    problem = bs.chromium_problem()
    if problem:
        if bs.in_ci():
            pytest.fail(f"{problem} (CI is set, so the browser test fails instead of skipping)")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    bs.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    server = bs.JupyterServer().start()
    pw = browser = None
    try:
        pw = sync_playwright().start()
        browser = bs.launch_browser(pw)
        yield server, browser
    finally:
        if browser is not None:
            browser.close()
        if pw is not None:
            pw.stop()
        notes = server.stop()
        if notes:
            print("\n[browser test] server stop:", "; ".join(notes))


def _served_copy(server, notebook):
    """The server's copy of ``notebook``: ``(path, path relative to the server root, SHA-256 of the
    repo's notebook, SHA-256 of the copy)``, checked to be the same file before the test starts."""
    real_hash, served = bs.sha256(notebook), server.served_path(notebook)
    served_hash = bs.sha256(served)
    assert served_hash == real_hash, f"the served copy of {notebook.name} differs from the repo"
    return served, served.relative_to(server.root).as_posix(), real_hash, served_hash


@pytest.mark.browser
@pytest.mark.parametrize("notebook", TARGETS, ids=_ids(TARGETS))
def test_widgets_render_and_sliders_update_plots(lab, notebook):
    server, browser = lab
    served, rel, real_hash, served_hash = _served_copy(server, notebook)
    stem = notebook.stem
    shots = bs.SCREENSHOTS
    page = bs.new_page(browser)
    with _shot_on_failure(page, server, shots / f"{stem}__failure.png"):
        bs.open_notebook(page, server, rel)
        _assert_opens_unmodified(page, rel)
        bs.run_all_cells(page)
        ran_at = time.monotonic()
        state = bs.wait_widgets_settled(page)
        page.screenshot(path=str(shots / f"{stem}__after_run.png"))
        context = (f"\nstatus bar: {state['status']!r}; prompts: {state['prompts']}"
                   "\nbrowser console errors:\n  " + "\n  ".join(page.course_errors[-10:]))
        found = bs.problems(state)
        assert not found, f"{notebook.name} after Run All:\n  " + "\n  ".join(found) + context
        assert state["widgets"] > 0, f"{notebook.name}: no widget rendered" + context

        all_sliders = bs.sliders(page)
        assert all_sliders, f"{notebook.name}: widgets rendered but no slider found" + context
        failures = []
        for slider in bs.sliders_to_move(all_sliders):
            bs.screenshot_cell(page, slider.cell, shots / f"{stem}__cell{slider.cell:02d}_before.png")
            move = bs.move_slider(page, slider)
            bs.wait_kernel_idle(page)
            bs.screenshot_cell(
                page, slider.cell, shots / f"{stem}__cell{slider.cell:02d}_slider{slider.index}.png"
            )
            latency = "n/a" if move.latency_ms is None else f"{move.latency_ms:.0f} ms"
            print(f"\n[browser test] {notebook.name} slider {slider.index} {slider.label!r} "
                  f"(cell {slider.cell}) {move.key}: {slider.readout} -> {move.readout_after}; "
                  f"plots changed in cells {move.changed_cells}; first redraw after {latency}")
            if move.error or not move.changed_cells:
                failures.append(f"slider {slider.index} {slider.label!r} in cell {slider.cell} "
                                f"({slider.readout} -> {move.readout_after}): "
                                f"{move.error or 'no plot changed'}")
        after = bs.page_state(page)
        found = bs.problems(after)
        assert not failures, f"{notebook.name}:\n  " + "\n  ".join(failures) + context
        assert not found, f"{notebook.name} after moving sliders:\n  " + "\n  ".join(found)
        _check_how_figures_are_shown(page, notebook, stem)
        stale = bs.stale_figures(page, server, shots / "stale", stem)
        assert not stale, (f"{notebook.name}: the page does not show what the kernel holds after the "
                           "sliders and toggles moved:\n  " + "\n  ".join(stale))
        _assert_never_saved(page, rel, ran_at)
    assert bs.sha256(served) == served_hash, (
        f"JupyterLab saved its copy of {notebook.name}: course notebooks must be read-only "
        "(coursekit.lab_server.CourseContentsManager)"
    )
    # the server only ever sees a copy, so this can only fail if someone edited the file meanwhile
    assert bs.sha256(notebook) == real_hash, f"{notebook} changed on disk during the test"


# One frame of a figure lost on its way to the page (ipympl's page drops a frame when the next one
# arrives before it loaded): later frames are diffs against the lost one and cannot repair it.
DROP_A_FRAME = """
_course_send = {fig}.canvas.send_binary
{fig}.canvas.send_binary = lambda data: None  # the page never gets this frame
{line}.set_ydata(0.3 * {curve}); {redraw}
{fig}.canvas.send_binary = _course_send
{line}.set_ydata(0.3 * {curve} + 0.5); {redraw}
del _course_send
"""


@pytest.mark.browser
def test_a_lost_frame_is_caught_and_a_blitted_figure_repairs_it(lab):
    """Issue 25 (lesson 02's explorer kept a broken picture after a toggle): the check that the page
    shows what the kernel holds (bs.stale_figures) catches a lost frame on a plain ipympl figure, and
    the course's Blitter repairs one by itself with its key frame (helpers.blit.KEYFRAME_DELAY_S)."""
    server, browser = lab
    notebook = bs.FIXTURES / "early_draw_fixture.ipynb"
    _, rel, _, _ = _served_copy(server, notebook)
    page = bs.new_page(browser)
    with _shot_on_failure(page, server, bs.SCREENSHOTS / "lost_frame__failure.png"):
        bs.open_notebook(page, server, rel)
        bs.run_all_cells(page)
        state = bs.wait_widgets_settled(page)
        assert not bs.problems(state), bs.problems(state)
        assert bs.stale_figures(page, server) == []
        server.run_in_kernel(DROP_A_FRAME.format(fig="fig", line="line", curve="np.sin(x)",
                                                 redraw="fig.canvas.draw()"))
        bs.wait_plots_quiet(page, 1.0)
        found = bs.stale_figures(page, server, bs.SCREENSHOTS / "stale", "lost_frame")
        assert len(found) == 1 and "cell 3 was stale" in found[0], found  # the plain figure: caught
        assert bs.stale_figures(page, server) == []  # the picture sent whole repaired it
        keyframes = int(server.run_in_kernel("", "blitter.n_keyframes"))
        server.run_in_kernel(DROP_A_FRAME.format(fig="bfig", line="bline", curve="np.cos(x)",
                                                 redraw="blitter.redraw()"))
        page.wait_for_timeout(1000)  # the key frame follows 0.25 s after the last draw
        bs.wait_plots_quiet(page, 1.0)
        found = bs.stale_figures(page, server, bs.SCREENSHOTS / "stale", "lost_frame_blitted")
        assert found == [], found  # without the key frame: "figure in cell 5 was stale"
        assert int(server.run_in_kernel("", "blitter.n_keyframes")) > keyframes


def _check_how_figures_are_shown(page, notebook, stem) -> None:
    """Issue 18, for a lesson: no ipympl header, no toolbar over a figure while the mouse is on it
    (it hid the y-axis labels), no figure scaled by the page (blurred); then every widget at both
    ends of each slider, in each toggle state, screenshotted into artifacts/screenshots/extremes/
    for a person to look at, and the same checks again. For the raw-ipympl fixture the negative
    control: the header and the toolbar over the figure must be found."""
    found = bs.figure_problems(bs.figures(page)) + bs.hover_figures(page)
    if notebook.name == "widget_fixture.ipynb":  # plain ipympl: its header and toolbar are there
        assert any("header 'Figure" in p for p in found), found
        assert any("mouse over it" in p and "toolbar covers" in p for p in found), found
        return
    if notebook not in LESSONS:
        return
    assert not found, f"{notebook.name}, figures as shown:\n  " + "\n  ".join(found)
    saved = bs.screenshot_extremes(page, stem, bs.SCREENSHOTS / "extremes")
    found = bs.problems(bs.page_state(page)) + bs.figure_problems(bs.figures(page))
    found += bs.hover_figures(page, cells={s.cell for s in bs.sliders(page)})
    print(f"\n[browser test] {notebook.name}: {len(saved)} screenshots of widgets at their slider ends "
          f"in {bs.SCREENSHOTS / 'extremes'}")
    assert saved, f"{notebook.name}: no widget screenshot taken"
    assert not found, f"{notebook.name} at the slider ends:\n  " + "\n  ".join(found)


def _assert_opens_unmodified(page, rel: str) -> None:
    """Once its kernel is idle, a lesson just opened is not marked modified (no ● on its tab): JupyterLab
    found nothing to change (coursekit.lab_server serves the kernel's metadata), so closing it asks
    nothing and Save As closes it without "Save changes ... before closing?"."""
    page.wait_for_timeout(500)  # JupyterLab writes the kernel's metadata when its info arrives
    assert bs.document_dirty(page) is False, f"{rel} is marked modified right after opening it"


def _assert_never_saved(page, rel: str, ran_at: float) -> None:
    """The notebook at ``rel`` is dirty (it ran), stays open past two autosave intervals since
    ``ran_at``, and the page sends no write request for it (autosave skips it: not writable)."""
    assert bs.document_dirty(page), f"{rel} is not dirty after Run All, so autosave proves nothing"
    waited = bs.wait_past_autosave(page, ran_at)
    assert bs.document_dirty(page), f"{rel} is no longer dirty: something saved or reverted it"
    assert not bs.writes_to(page, rel), f"the page asked to write {rel}: {bs.writes_to(page, rel)}"
    print(f"\n[browser test] {rel}: dirty, open {time.monotonic() - ran_at:.1f} s after Run All with "
          f"autosave every {bs.AUTOSAVE_INTERVAL_S} s (waited {waited:.1f} s for it), never saved")


@pytest.mark.browser
@pytest.mark.parametrize("notebook", OTHER_LESSONS, ids=_ids(OTHER_LESSONS))
def test_lesson_run_all_leaves_it_unchanged(lab, notebook):
    """A lesson without widgets: Run All, keep it open past autosave, nothing is written."""
    server, browser = lab
    served, rel, real_hash, served_hash = _served_copy(server, notebook)
    page = bs.new_page(browser)
    with _shot_on_failure(page, server, bs.SCREENSHOTS / f"{notebook.stem}__failure.png"):
        started = time.monotonic()
        bs.open_notebook(page, server, rel)
        _assert_opens_unmodified(page, rel)
        state = bs.run_all_cells(page)
        ran_at = time.monotonic()
        page.screenshot(path=str(bs.SCREENSHOTS / f"{notebook.stem}__after_run.png"))
        found = bs.problems(state)
        assert not found, f"{notebook.name} after Run All:\n  " + "\n  ".join(found)
        _assert_never_saved(page, rel, ran_at)
        print(f"\n[browser test] {notebook.name}: open + Run All took {ran_at - started:.1f} s")
    assert bs.sha256(served) == served_hash, f"JupyterLab saved its copy of {notebook.name}"
    assert bs.sha256(notebook) == real_hash, f"{notebook} changed on disk during the test"


CONTROL_SOURCE = "marker = 'autosave-control'"
CONTROL_EDIT = "print(marker.upper())"


@pytest.mark.browser
def test_autosave_saves_my_work(lab):
    """The control: a learner's notebook in my_work/, edited and run, IS autosaved (no Ctrl+S), so
    the lessons above stayed unchanged because they are read-only, not because autosave was off."""
    server, browser = lab
    rel = "my_work/autosave_control.ipynb"
    path = server.root / rel
    kernelspec = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    # with a cell id, as JupyterLab 4 writes it: opening it then changes nothing (no early save)
    cell = {"cell_type": "code", "id": "autosave-control", "source": CONTROL_SOURCE, "metadata": {},
            "outputs": [], "execution_count": None}
    path.write_text(json.dumps({"cells": [cell], "metadata": {"kernelspec": kernelspec},
                                "nbformat": 4, "nbformat_minor": 5}))  # fmt: skip
    before = bs.sha256(path)
    page = bs.new_page(browser)
    with _shot_on_failure(page, server, bs.SCREENSHOTS / "autosave_control__failure.png"):
        bs.open_notebook(page, server, rel)
        _wait_clean(page, rel)  # an edit made while a save is in flight could be lost with it
        editor = page.locator(f"{bs.PANEL} .jp-CodeCell .cm-content").nth(0)
        editor.click()
        page.keyboard.press("End")  # the cell has one line: append a second one
        page.keyboard.press("Enter")
        page.keyboard.type(CONTROL_EDIT)
        bs.run_all_cells(page)
        ran_at = time.monotonic()
        page.locator(f"{bs.PANEL} .jp-OutputArea-output", has_text="AUTOSAVE-CONTROL").wait_for(
            timeout=30_000
        )
        # generous: the loop ends at the first save that holds the edit (about 2 s when idle)
        deadline = ran_at + 10 * bs.AUTOSAVE_INTERVAL_S + 20
        while _control_cell(path) is None and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        saved_after = time.monotonic() - ran_at
        assert _control_cell(path) is not None, (
            f"{rel} was not autosaved with the edit and its output within {deadline - ran_at:.0f} s "
            f"(file changed: {bs.sha256(path) != before}; tab dirty: {bs.document_dirty(page)}; "
            f"dialog: {_dialog_text(page)!r}; page writes: {bs.writes_to(page, rel)})"
        )
        assert ("PUT", "/" + rel) in bs.writes_to(page, rel), bs.writes_to(page, rel)
        print(f"\n[browser test] {rel}: edit and output autosaved {saved_after:.1f} s after Run All")
    cell = _control_cell(path)
    assert cell is not None, f"{rel} was saved, but without the edit and its output:\n{path.read_text()}"
    assert re.fullmatch(r"\d+", str(cell["execution_count"])), cell["execution_count"]


SAVE_AS_LESSON = bs.NOTEBOOKS / "01_overfitting.ipynb"  # widgets, and a Next link to another lesson


def _document_tabs(page, expected: list[str], timeout_s: float = 15) -> list[dict]:
    """Wait until the documents open in the main area are ``expected`` (paths), or a dialog shows."""
    deadline = time.monotonic() + timeout_s
    while True:
        tabs = [t for t in bs.open_tabs(page) if t["label"] != "Launcher"]
        if [t["path"] for t in tabs] == expected or _dialog_text(page) or time.monotonic() > deadline:
            return tabs
        page.wait_for_timeout(250)


def _sources(path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def _next_link(path) -> str:
    """The target of the navigation's "Next: ..." link in the notebook at ``path``."""
    (target,) = re.findall(r"Next: \[[^]]*\]\(([^)]+)\)", _sources(path)[-1])
    return target


@pytest.mark.browser
def test_a_lessons_copy_saved_as_into_my_work_works_like_the_lesson(lab):
    """Issue 26: File > Save Notebook As... of a lesson. Beside the lessons it is refused with a message
    that says to save into my_work/. Into my_work/: the lesson opened unmodified,
    so JupyterLab closes it and opens the copy with nothing to ask (it asked "Save changes in
    01_overfitting.ipynb before closing?" and left two tabs). The copy holds the lesson, its Next link
    leads to the next lesson (it led to my_work/02_..., a 404) and a click opens it; the copy runs,
    its widgets work and it is autosaved; reopened with another kernel, its widgets show their
    pictures and say to run the cell again (they read "Error displaying widget: model not found").
    The lesson's file is byte-identical."""
    server, browser = lab
    served, rel, real_hash, served_hash = _served_copy(server, SAVE_AS_LESSON)
    copy_rel = f"my_work/{SAVE_AS_LESSON.name}"
    copy = server.root / copy_rel
    page = bs.new_page(browser)
    with _shot_on_failure(page, server, bs.SCREENSHOTS / "save_as__failure.png"):
        bs.open_notebook(page, server, rel)
        _assert_opens_unmodified(page, rel)
        bs.save_notebook_as(page, "notebooks/01_mine.ipynb")  # beside the lessons: refused, saying where to
        dialog = page.locator(".jp-Dialog-content", has_text="File Save Error")
        dialog.wait_for(timeout=15_000)
        refusal = dialog.inner_text()
        assert "read-only" in refusal and "my_work/" in refusal, refusal
        page.locator(".jp-Dialog button", has_text=re.compile(r"^Close$")).click()
        assert not (server.root / "notebooks" / "01_mine.ipynb").exists()
        assert [t["path"] for t in _document_tabs(page, [rel])] == [rel]
        bs.save_notebook_as(page, copy_rel)
        tabs = _document_tabs(page, [copy_rel])
        page.wait_for_timeout(1000)  # a dialog would come with closing the lesson
        assert _dialog_text(page) is None, f"after Save As: {_dialog_text(page)!r}"
        assert [t["path"] for t in tabs] == [copy_rel], f"after Save As the tabs are {tabs}"
        assert bs.document_dirty(page) is False, f"{copy_rel} is marked modified right after Save As"
        assert _sources(copy) == _sources(served), f"{copy_rel} does not hold the lesson"
        assert ("PUT", "/" + copy_rel) in bs.writes_to(page, copy_rel), bs.writes_to(page, copy_rel)

        target = _next_link(copy)
        assert (copy.parent / target).is_file(), f"the copy's Next link {target!r} leads nowhere"
        assert "my_work/" not in target, target

        bs.run_all_cells(page)  # the copy runs as the lesson does, then autosave writes it
        ran_at = time.monotonic()
        state = bs.wait_widgets_settled(page)
        found = bs.problems(state)
        assert not found, f"{copy_rel} after Run All:\n  " + "\n  ".join(found)
        assert state["widgets"] > 0, f"{copy_rel}: no widget rendered"
        deadline = ran_at + 10 * bs.AUTOSAVE_INTERVAL_S + 20
        while '"execution_count": null' in copy.read_text() and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        assert '"execution_count": null' not in copy.read_text(), f"{copy_rel} was not autosaved after Run All"
        assert lab_server.WIDGET_VIEW in copy.read_text(), f"{copy_rel} was saved without its widgets' outputs"
    page = bs.new_page(browser)  # the copy again, with a new kernel: its widgets' models are gone
    with _shot_on_failure(page, server, bs.SCREENSHOTS / "save_as_reopened__failure.png"):
        bs.open_notebook(page, server, copy_rel)
        state = bs.wait_widgets_settled(page, timeout_s=20)
        assert not state["widgetErrors"], f"{copy_rel} reopened: {state['widgetErrors'][:3]}"
        note = page.locator(f"{bs.PANEL} .jp-OutputArea-output", has_text=lab_server.RERUN_NOTE)
        assert note.count() > 0, f"{copy_rel} reopened: no output says {lab_server.RERUN_NOTE!r}"
        link = page.locator(f"{bs.PANEL} .jp-RenderedMarkdown a", has_text=re.compile(r"^02 · "))
        link.click()
        next_rel = "notebooks/" + target.rsplit("/", 1)[-1]
        tabs = _document_tabs(page, [copy_rel, next_rel])
        assert [t["path"] for t in tabs] == [copy_rel, next_rel], f"after clicking Next: {tabs}"
    assert bs.sha256(served) == served_hash, f"Save As changed the served {SAVE_AS_LESSON.name}"
    assert bs.sha256(SAVE_AS_LESSON) == real_hash, f"{SAVE_AS_LESSON} changed on disk during the test"


@pytest.mark.browser
def test_save_as_after_running_a_lesson_asks_once_and_discard_keeps_the_copy(lab):
    """A lesson that ran is modified: after Save As, JupyterLab asks before closing it. What README
    and lesson 00 tell the learner must hold: the question names the lesson, *Discard* leaves one tab,
    the copy in my_work/, and the run is in the copy."""
    server, browser = lab
    lesson = bs.NOTEBOOKS / "00_start_here.ipynb"
    served, rel, real_hash, served_hash = _served_copy(server, lesson)
    copy_rel = f"my_work/{lesson.name}"
    page = bs.new_page(browser)
    with _shot_on_failure(page, server, bs.SCREENSHOTS / "save_as_after_run__failure.png"):
        bs.open_notebook(page, server, rel)
        bs.run_all_cells(page)
        bs.save_notebook_as(page, copy_rel)
        _document_tabs(page, [copy_rel])
        page.locator(".jp-Dialog-content").wait_for(timeout=15_000)
        asked = _dialog_text(page)
        assert f'Save changes in "{lesson.name}" before closing?' in asked, asked
        readme = " ".join((bs.REPO / "README.md").read_text().split())  # words, whatever the line breaks
        start_here = (bs.NOTEBOOKS / "00_start_here.ipynb").read_text()
        assert "choose *Discard*" in readme and "choose *Discard*" in start_here  # what they are told
        page.locator(".jp-Dialog button", has_text=re.compile(r"^Discard$")).click()
        tabs = _document_tabs(page, [copy_rel])
        assert [t["path"] for t in tabs] == [copy_rel], f"after Discard: {tabs}"
        assert _dialog_text(page) is None, _dialog_text(page)
        saved = json.loads((server.root / copy_rel).read_text())
        assert [c["execution_count"] for c in saved["cells"] if c["cell_type"] == "code"] == [1], \
            "the run of the lesson is not in the copy"
    assert bs.sha256(served) == served_hash and bs.sha256(lesson) == real_hash, f"{lesson.name} changed"


def _wait_clean(page, rel, timeout_s: float = 20) -> None:
    """Wait until the open document has no unsaved changes."""
    deadline = time.monotonic() + timeout_s
    while bs.document_dirty(page) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert bs.document_dirty(page) is False, f"{rel} still dirty {timeout_s:.0f} s after opening it"


def _dialog_text(page) -> str | None:
    """The text of an open JupyterLab dialog (e.g. "File Changed"), if one is showing."""
    dialog = page.locator(".jp-Dialog-content")
    return dialog.first.inner_text()[:300] if dialog.count() else None


def _control_cell(path):
    """The control notebook's code cell as saved on disk, once it holds the edit and its output."""
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError, KeyError):  # not there, or caught mid-write
        return None
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and CONTROL_EDIT in source and "AUTOSAVE-CONTROL" in json.dumps(
            cell.get("outputs", [])
        ):
            return cell
    return None


@pytest.mark.browser
def test_the_checks_catch_a_broken_notebook(lab):
    """The negative control: stderr, an error, a widget that cannot render, an ipympl figure that
    never shows and a λ slider that changes no plot must all be reported
    (tests/browser_fixture/broken/broken_fixture.ipynb)."""
    server, browser = lab
    notebook = bs.FIXTURES / "broken" / "broken_fixture.ipynb"
    page = bs.new_page(browser)
    try:
        bs.open_notebook(page, server, server.served_path(notebook).relative_to(server.root).as_posix())
        bs.run_all_cells(page)
        state = bs.wait_widgets_settled(page, timeout_s=10)
        page.screenshot(path=str(bs.SCREENSHOTS / "broken_fixture__after_run.png"))
        found = "\n".join(bs.problems(state))
        assert "stderr output: something went wrong" in found, found
        # JupyterLab renders a traceback as a stderr output
        assert "RuntimeError: expected by the negative browser test" in found, found
        assert "Loading widget..." in found or "Error displaying widget" in found, found
        assert "shows nothing (0x0 canvas" in found, found
        (dead,) = [s for s in bs.sliders(page) if s.is_lambda]
        move = bs.move_slider(page, dead, timeout_s=5)
        assert move.readout_after != dead.readout, "the key press did not move the slider"
        assert move.error and not move.changed_cells, move
    finally:
        page.context.close()
        server.delete_kernels()
