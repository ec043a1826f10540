"""The course as a static website (issue 24): coursekit.site.build, coursekit.site.capture and, in a real
Chromium with every other origin blocked, the site itself.

The site the browser tests read is built once per session from the notebooks nbval has just
executed (coursekit.site.plugin keeps them, with the pictures drawn in their kernels): no notebook runs
twice. Run alone (``pytest tests/test_site.py``), the fixture executes every page itself (a few
minutes). The built site stays in artifacts/site/ (git-ignored) for a human to open.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from course_widgets import NAMES, course_widgets

from coursekit.lab_browser import chromium_problem, in_ci
from coursekit.site import browser as sb
from coursekit.site import build, capture, execute, pages, render, staging, sweep
from coursekit.site.plugin import captured

REPO = Path(__file__).resolve().parent.parent
ARTIFACT = REPO / "artifacts" / "site"


# ----------------------------------------------------------------------------- the pages
def test_pages_come_from_the_lesson_registry():
    found = pages.pages(REPO)
    assert found[0].doc == "notebooks/00_start_here" and found[0].kind == "home"
    kinds = [p.kind for p in found]
    assert kinds == sorted(kinds, key=["home", "lesson", "assignment", "solution"].index)
    from coursekit.lessons import lessons

    course = lessons(REPO)
    assert [p.source for p in found if p.kind in ("home", "lesson")] == [x.path for x in course]
    assert {p.source for p in found if p.kind == "assignment"} == {x.assignment for x in course if x.assignment}
    assert {p.source for p in found if p.kind == "solution"} == {x.solution for x in course if x.solution}


def _page(doc: str) -> pages.Page:
    return next(p for p in pages.pages(REPO) if p.doc == doc)


def test_links_into_my_work_go_to_the_assignment_pages():
    page = _page("notebooks/01_overfitting")
    docs = {p.doc for p in pages.pages(REPO)}
    text = ("[`my_work/01_overfitting_assignment.ipynb`](../my_work/01_overfitting_assignment.ipynb), "
            "[next](02_penalized_cost.ipynb#setup), [solution](../assignments/solutions/01_overfitting_solution.ipynb)"
            ", [web](https://example.org/a.ipynb), [lesson](../notebooks/02_penalized_cost.ipynb)")
    out = staging.rewrite_links(text, page, docs)
    assert "(../assignments/01_overfitting_assignment.ipynb)" in out
    assert "(02_penalized_cost.ipynb#setup)" in out
    assert "[lesson](02_penalized_cost.ipynb)" in out  # the lessons' links, which work from my_work/ too
    assert "(../assignments/solutions/01_overfitting_solution.ipynb)" in out
    assert "(https://example.org/a.ipynb)" in out
    with pytest.raises(pages.BuildError, match=r"01_overfitting.ipynb.*notebooks/99_missing.ipynb"):
        staging.rewrite_links("[gone](99_missing.ipynb)", page, docs)


def _executed(tmp_path, cells, figures=(), widgets=()) -> execute.Executed:
    nb = nbformat.v4.new_notebook(cells=cells)
    (tmp_path / "figures").mkdir(exist_ok=True)
    for record in figures:
        (tmp_path / record["file"]).write_bytes(b"RIFF")
    return execute.Executed(nb, tmp_path, 1.0, {"figures": list(figures), "widgets": list(widgets),
                                                   "problems": []})


def _view(model_id):
    return nbformat.v4.new_output("display_data", data={staging.WIDGET_VIEW: {"model_id": model_id},
                                                         "text/plain": "Canvas"})


def test_staging_folds_extra_code_adds_the_run_box_and_swaps_figures(tmp_path):
    page = _page("notebooks/01_overfitting")
    docs = {p.doc for p in pages.pages(REPO)}
    source = "# extra code: a figure\nplt.plot([1, 2])"
    key = capture.cell_key(source, {})
    cells = [nbformat.v4.new_markdown_cell("# Title"),
             nbformat.v4.new_code_cell(source, outputs=[_view("m1")]),
             nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", text="1\n")])]
    figures = [{"cell": key, "seq": 0, "model_id": "m1", "file": "figures/abc.webp", "width": 576,
                "height": 324, "alt": "a <title>"}]
    static = tmp_path / "static"
    nb = staging.stage_notebook(page, _executed(tmp_path, cells, figures), docs, static)
    assert "Run this lesson yourself" in nb.cells[1].source and "python3 course.py lab" in nb.cells[1].source
    assert "hide-input" in nb.cells[2].metadata["tags"]
    html = nb.cells[2].outputs[0]["data"]["text/html"]
    assert 'src="../_static/course/figures/abc.webp" width="576" height="324" alt="a &lt;title&gt;"' in html
    assert (static / "figures" / "abc.webp").is_file()
    assert nb.cells[3].outputs[0]["text"] == "1\n"


def test_a_closed_widget_and_a_rewritten_line_show_as_in_jupyterlab(tmp_path):
    """A finished progress bar (a widget closed since) leaves no output; a line rewritten with carriage
    returns shows its last state."""
    page = _page("notebooks/01_overfitting")
    cells = [nbformat.v4.new_markdown_cell("# Title"),
             nbformat.v4.new_code_cell("train()", outputs=[
                 _view("closed"), nbformat.v4.new_output("stream", text="1/3\r2/3\r3/3 done\nnext\n")])]
    done = _executed(tmp_path, cells)
    done.report["open_models"] = ["another"]
    nb = staging.stage_notebook(page, done, set(), tmp_path / "static")
    assert [o["text"] for o in nb.cells[2].outputs] == ["3/3 done\nnext\n"]


def test_a_solution_page_says_it_is_the_worked_solution(tmp_path):
    page = _page("assignments/solutions/02_penalized_cost_solution")
    docs = {p.doc for p in pages.pages(REPO)}
    nb = staging.stage_notebook(page, None, docs, tmp_path / "static")
    assert nb.cells[0].source.startswith("# Build a penalized cost and tune it: assignment 02 (worked solution)\n")
    assert "Worked solution" in nb.cells[1].source


def test_a_widget_the_capture_missed_stops_the_build(tmp_path):
    page = _page("notebooks/01_overfitting")
    cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("w", outputs=[_view("unknown")])]
    with pytest.raises(pages.BuildError, match="01_overfitting.ipynb: code cell 1 shows a widget"):
        staging.stage_notebook(page, _executed(tmp_path, cells), set(), tmp_path / "static")
    done = _executed(tmp_path, cells)
    done.report["problems"] = ["widget explorer: state |0: stale"]
    with pytest.raises(pages.BuildError, match="stale"):
        staging.stage_notebook(page, done, set(), tmp_path / "static")


REPORT = {"key": "w0", "mode": "each", "alt": "a & b", "width": 810, "height": 306,
          "toggles": [{"description": "penalty", "labels": ["none", "L2"], "kind": "buttons", "initial": 1}],
          "sliders": [{"description": "λ"}, {"description": "n"}],
          "slider_defs": {"0": [{"labels": ["1e-3", "1e-2"], "initial": 0, "of": 2, "disabled": True, "readout": False},
                                {"labels": ["10", "20", "30"], "initial": 1, "of": 90, "disabled": False,
                                 "readout": True}],
                          "1": [{"labels": ["1e-3", "1e-2"], "initial": 1, "of": 2, "disabled": False,
                                 "readout": True},
                                {"labels": ["10", "20", "30"], "initial": 1, "of": 90, "disabled": False,
                                 "readout": True}]},
          "frames": ["a.webp", "b.webp"], "states": {"1|1,1": 0, "0|0,1": 1}}


def test_the_static_widget_starts_in_the_widgets_starting_state():
    html = staging.widget_html(REPORT, "../_static/course/widgets/x/", "widget-x")
    assert '<img class="course-widget-frame" src="../_static/course/widgets/x/a.webp" width="810"' in html
    assert 'button type="button" data-index="1" aria-pressed="true">L2' in html
    assert 'data-slider="0" min="0" max="1" step="1" value="1"' in html
    assert "<output>1e-2</output>" in html and 'alt="a &amp; b"' in html
    manifest = json.loads(html.split('course-widget-manifest">')[1].split("</script>")[0])
    assert manifest["states"] == REPORT["states"] and manifest["base"] == "../_static/course/widgets/x/"
    note = staging.widget_note(REPORT)
    assert "Each control moves with the others at their starting values" in note
    assert "n: 3 of its 90 positions" in note and "2 pictures" in note
    assert staging.widget_note({**REPORT, "mode": "all"}).startswith("Every combination")


def _write_lesson(path: Path, title: str, code: str = "1 + 1", widgets=()):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}\n\n*One line.*"),
                                         nbformat.v4.new_code_cell(code)])
    nb.metadata["course"] = {"teaches": "something new", "minutes": 5, "widgets": list(widgets)}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_a_new_lesson_appears_on_the_site_with_no_other_edit(tmp_path):
    """A copy of the course plus one new notebook, and nothing else edited: the new lesson has its page,
    its entry in the table of contents of every page, and the lesson before it links to it as "next"."""
    root = tmp_path / "course"
    shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(REPO / "assignments", root / "assignments", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    _write_lesson(root / "notebooks" / "08_something_new.ipynb", "Learn something new")
    build.build(root, tmp_path / "site", execute_notebooks=False, say=lambda _m: None)
    page = tmp_path / "site" / "notebooks" / "08_something_new.html"
    assert page.is_file()
    home = (tmp_path / "site" / "notebooks" / "00_start_here.html").read_text(encoding="utf-8")
    assert 'href="08_something_new.html">Learn something new</a>' in home
    before = (tmp_path / "site" / "notebooks" / "07_bias_variance.html").read_text(encoding="utf-8")
    assert 'href="08_something_new.html"' in before.split('class="right-next"')[1][:200]


def test_a_failing_notebook_stops_the_build_and_keeps_the_old_site(tmp_path):
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    _write_lesson(root / "notebooks" / "00_start_here.ipynb", "Start here")
    _write_lesson(root / "notebooks" / "01_broken.ipynb", "Break a lesson", code="x = 1\n1 / 0")
    nb = nbformat.read(root / "notebooks" / "01_broken.ipynb", as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell("y = 2"))
    nbformat.write(nb, root / "notebooks" / "01_broken.ipynb")
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("the previous site")
    with pytest.raises(pages.BuildError, match=r"01_broken.ipynb: cell 2 failed: ZeroDivisionError"):
        build.build(root, out, jobs=1, say=lambda _m: None)
    assert (out / "index.html").read_text() == "the previous site"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "site"]  # no half-built folder left


def test_a_missing_tool_names_the_command_that_installs_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "myst_nb" else real(name, *a))
    with pytest.raises(pages.BuildError, match=r"myst-nb.*python3 course.py site"):
        build.check_tools()


def test_mathjax_comes_from_the_pinned_package():
    path = staging.mathjax_source()
    assert path.name == staging.MATHJAX_FILE and 'VERSION="3.2.2"' in path.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- the kernel side
class FakeShell:
    """What capture.install needs of IPython: events and a namespace."""

    def __init__(self):
        self.user_ns, self.handlers = {}, {}

    class _Events:
        def __init__(self, shell):
            self.shell = shell

        def register(self, name, fn):
            self.shell.handlers[name] = fn

    @property
    def events(self):
        return self._Events(self)

    def run(self, source, make):
        """Run a "cell": its source (for the key) and a function filling the namespace."""
        self.handlers["pre_run_cell"](type("Info", (), {"raw_cell": source})())
        self.user_ns.update(make())
        self.handlers["post_run_cell"](None)


SCALE = 1  # the site draws at 2; the same code at 1 costs a quarter of the pixels here


@pytest.fixture
def recording(monkeypatch, tmp_path):
    monkeypatch.setattr(capture, "_STATE", None)
    monkeypatch.setattr(plt, "show", plt.show)  # install() wraps it; put it back afterwards
    shell = FakeShell()
    capture.install(str(tmp_path), scale=SCALE, shell=shell)
    yield shell, tmp_path
    plt.close("all")


def test_figures_are_drawn_sharp_at_their_size(recording):
    shell, folder = recording
    shell.run("fig = plt.figure()", lambda: {"fig": _figure()})
    report = capture.capture_report()
    (record,) = report["figures"]
    assert record["cell"] == capture.cell_key("fig = plt.figure()", {})
    assert (record["width"], record["height"]) == (576, 324) and record["alt"] == "a title"
    assert sb.file_pixels(folder / record["file"]).shape == (324 * SCALE, 576 * SCALE, 4)
    assert render.render_rgba(_figure()).shape == (648, 1152, 4)  # the site's scale: twice the CSS size


def _figure():
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=90)
    ax.set_title("a title")
    return fig


@pytest.mark.parametrize("name", NAMES)
def test_each_widget_picture_is_what_the_widget_draws_in_that_state(recording, name):
    """The same widget built afresh, its controls moved through the states in the order the capture
    drew them (a widget may keep hidden state along the way: lesson 01's keeps its axis limits while
    they fit), draws pixel for pixel the picture stored for each state (checked at the ends and the
    middle of every control, where the capture also compared its blitted picture with a full redraw)."""
    from coursekit.layout.controls import controls, slider_ends, toggle_values
    from helpers import setup

    shell, folder = recording
    with plt.rc_context():
        setup()
        shell.run(f"w = {name}", lambda: {"w": course_widgets(name)[name]})
        report = capture.capture_widgets()
        assert report["problems"] == []
        (widget,) = report["widgets"]
        assert len(widget["frames"]) <= len(widget["states"]) and widget["checked"]
        fresh = course_widgets(name)[name]
        found = controls(fresh.ui)
        toggles = [c for c in found if toggle_values(c) is not None]
        sliders = [c for c in found if slider_ends(c) is not None]
        start = [(c, c.value) for c in toggles + sliders]
        previous = None
        compared = 0
        for key, frame in widget["states"].items():
            tpart, spart = key.split("|")
            if tpart != previous:  # a new toggle combination: from the start, then the toggles
                for control, value in start:
                    control.value = value
                for toggle, k in zip(toggles, [int(x) for x in tpart.split(",") if x], strict=True):
                    toggle.value = sweep._toggle_options(toggle)[k][0]
                previous = tpart
            defs = widget["slider_defs"][tpart]
            for slider, d, k in zip(sliders, defs, [int(x) for x in spart.split(",") if x], strict=True):
                if not slider.disabled:
                    slider.value = _value_of(slider, d["labels"][k])
            if key in widget["checked"]:
                expected = render.render_rgba(fresh.fig, SCALE)
                got = sb.file_pixels(folder / widget["folder"] / widget["frames"][frame])
                assert got.shape == expected.shape
                assert np.abs(got.astype(int) - expected.astype(int)).max() <= sweep.PIXEL_TOLERANCE, key
                compared += 1
        assert compared == len(widget["checked"])
        plt.close(fresh.fig)


def _value_of(slider, label):
    return next(v for v, text in sweep._slider_positions(slider) if text == label)


def test_the_budget_chooses_every_combination_or_each_control_alone():
    """Two sliders: every combination with as many positions as fit (at least MIN_POSITIONS_ALL
    each), else each slider alone with the others at their start."""
    plan = object.__new__(sweep.Sweep)
    plan.budget, plan.toggles, plan.sliders = 10_000, [], ["s1", "s2"]
    plan.count = lambda mode, cap: (cap + 3) ** 2 if mode == "all" else 1 + 2 * (cap + 2)
    assert plan.plan(1.0) == ("all", sweep.MAX_POSITIONS)  # 784 pictures of 1 byte fit
    mode, cap = plan.plan(50.0)  # at most 200 pictures: 11 x 11 positions
    assert mode == "all" and (cap + 3) ** 2 * 50 <= 10_000 < (cap + 4) ** 2 * 50
    mode, cap = plan.plan(400.0)  # 25 pictures: not every combination any more
    assert mode == "each" and (1 + 2 * (cap + 2)) * 400 <= 10_000
    assert sweep._subsample(100, {37}, 5) == [0, 25, 37, 49, 50, 74, 99]
    assert sweep._subsample(4, set(), 5) == [0, 1, 2, 3]


# ----------------------------------------------------------------------------- the site, in a browser
@pytest.fixture(scope="session")
def site(request):
    """The site, built from the notebooks this session's nbval run executed (the rest executed here).
    ``COURSE_SITE_DIR=artifacts/site`` reuses a site built before (to work on these tests)."""
    reuse = os.environ.get("COURSE_SITE_DIR")
    if reuse:
        return Path(reuse).resolve()
    executed = captured(request.config)
    out = ARTIFACT
    report = build.build(REPO, out, executed=executed, jobs=2, say=lambda m: print(f"[site] {m}"))
    print(f"\n[site] {report.pages} pages, {report.bytes_total / 1e6:.1f} MB, {len(executed)} notebooks from nbval; "
          f"times {report.seconds}")
    return out


@pytest.fixture(scope="session")
def chromium():
    problem = chromium_problem()
    if problem:
        if in_ci():
            pytest.fail(f"{problem} (CI is set, so the site's browser test fails instead of skipping)")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(sb_chromium()), headless=True,
                                     args=["--disable-dev-shm-usage"])
        yield browser
        browser.close()


def sb_chromium():
    from coursekit.lab_browser import CHROMIUM

    return CHROMIUM


SITE_PAGES = [p.doc for p in pages.pages(REPO)]


@pytest.mark.site
def test_the_site_is_within_its_budgets(site):
    assert build.check_budgets(site) == []
    assert build.external_requests(site) == []
    assert not list(site.rglob("*.ipynb")), "the site ships no notebook sources"


@pytest.mark.site
def test_every_page_loads_offline_typeset_and_within_the_window(site, chromium):
    """Every page at 1400 px, then the same page narrowed to a phone's 390 px (a 2x screen both times)."""
    found = {}
    with sb.serve(site) as url:
        context = sb.new_context(chromium, url, width=sb.WIDTHS[0])
        page = context.new_page()
        page.goto(f"{url}/index.html")
        page.wait_for_url("**/notebooks/00_start_here.html")  # index.html sends the reader to the home page
        for doc in SITE_PAGES + ["search", "genindex"]:
            page.set_viewport_size({"width": sb.WIDTHS[0], "height": 900})
            problems, state = sb.page_problems(page, f"{url}/{doc}.html")
            for width in sb.WIDTHS[1:]:
                page.set_viewport_size({"width": width, "height": 900})
                problems += [f"at {width} px: {p}" for p in sb.width_problems(page)]
            if problems:
                found[doc] = problems
            if doc.startswith("notebooks/0") and doc != "notebooks/00_start_here":
                assert state["math"] > 0, f"{doc}: no math on a lesson page?"
        context.close()
    assert not found, "\n".join(f"{doc}: {p}" for doc, ps in found.items() for p in ps)


@pytest.mark.site
def test_every_widget_shows_the_kernels_picture_for_each_control(site, chromium):
    """Each control at both ends and the middle, each button: the picture changes and is, pixel for
    pixel, the picture the widget drew in the kernel for that state (the file its state maps to)."""
    checked = 0
    digests = {}
    with sb.serve(site) as url:
        context = sb.new_context(chromium, url, width=1400)
        page = context.new_page()
        for doc in SITE_PAGES:
            page.goto(f"{url}/{doc}.html")
            for widget in sb.widget_manifests(page):
                wid, manifest = widget["id"], widget["manifest"]
                previous = sb.widget_pixels(page, wid)
                for kind, index, position in sb.widget_positions(manifest):
                    sb.reset_widget(page, wid, manifest)
                    sb.move(page, wid, manifest, kind, index, position)
                    shown = sb.widget_pixels(page, wid)
                    path = (site / Path(doc).parent / (manifest["base"] + manifest["frames"][shown["frame"]])).resolve()
                    if path not in digests:
                        digests[path] = sb.pixel_digest(sb.file_pixels(path))
                    assert shown["sha256"] == digests[path], (f"{doc} {wid} state {shown['state']}: the page shows "
                                                               f"other pixels than {path.name}")
                    if shown["frame"] != previous["frame"]:
                        assert shown["sha256"] != previous["sha256"], (doc, wid, shown["state"], "picture unchanged")
                    previous = shown
                    checked += 1
        assert not context.course_log, context.course_log
        context.close()
    assert checked >= 20


@pytest.mark.site
def test_search_finds_a_lesson(site, chromium):
    with sb.serve(site) as url:
        context = sb.new_context(chromium, url)
        page = context.new_page()
        page.goto(f"{url}/search.html?q=AdamW")
        page.wait_for_selector("#search-results li a", timeout=sb.TIMEOUT_MS)
        hits = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.getAttribute('href'))")
        assert any("03_weight_decay" in h for h in hits), hits
        assert not context.course_log, context.course_log
        context.close()


@pytest.mark.site
def test_the_zipped_site_works_from_a_folder_without_a_network(site, chromium, tmp_path):
    """Zipped, unzipped on a laptop, opened from the disk (file://) with every network request refused:
    pages load, math is typeset, a widget swaps its picture."""
    archive = shutil.make_archive(str(tmp_path / "site"), "zip", site)
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path / "unzipped")
    home = (tmp_path / "unzipped" / "index.html").resolve()
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    refused = []
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
                  else (refused.append(r.request.url), r.abort()))
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(home.as_uri())
    page.wait_for_url("**/notebooks/00_start_here.html")
    page.goto((tmp_path / "unzipped" / "notebooks" / "02_penalized_cost.html").as_uri())
    page.evaluate("MathJax.startup.promise")
    assert page.evaluate("document.querySelectorAll('.math mjx-container').length") > 0
    wid = page.eval_on_selector(".course-widget", "w => w.id")
    before = page.eval_on_selector(f"#{wid} img.course-widget-frame", "i => i.getAttribute('src')")
    page.locator(f"#{wid} [data-toggle='0'] button[data-index='2']").click()
    page.wait_for_function(f"document.querySelector('#{wid} img.course-widget-frame').getAttribute('src') != "
                           f"{json.dumps(before)}")
    assert page.eval_on_selector(f"#{wid} img.course-widget-frame", "i => i.complete && i.naturalWidth > 0")
    assert refused == [] and errors == [], (refused, errors)
    context.close()


def test_a_frame_drawn_twice_before_it_is_written_is_written_once(tmp_path):
    """Two identical frames in a row (a widget state that looks like the one before) used to be
    submitted twice: both workers wrote the same .tmp, and the second rename found it gone."""
    recorder = capture._Capture(tmp_path, scale=1.0)
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    first, second = recorder.write("widgets/w0", rgba), recorder.write("widgets/w0", rgba)
    assert first == second and len(recorder.pending) == 1
    recorder.flush()
    assert [p.name for p in (tmp_path / "widgets" / "w0").iterdir()] == [f"{first[1]}.webp"]
