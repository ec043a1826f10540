"""The course as a static website: ``python3 course.py site`` builds it into ``site/``.

Every page is a notebook of the course, executed once in a fresh kernel of the course's environment
(the folder it lives in as the working folder, as in JupyterLab), then rendered by Sphinx with
myst-nb and the book theme:

* the **home page** is ``notebooks/00_start_here.ipynb``; then the **lessons**, the **assignments**
  as a learner gets them, and the **worked solutions**, in three sections of the table of contents.
  All of it comes from the lesson registry (:func:`helpers.lessons.lessons`): a new lesson appears
  with no edit anywhere but its notebook;
* **figures** are the pictures :mod:`helpers.site_capture` drew in the kernel, at twice their
  resolution (sharp on high-density screens, shown at their JupyterLab size);
* **widgets** become a small static control (range inputs and buttons, ``site_assets/course_widgets.js``)
  that swaps between the pictures the widget drew of each of its states in the kernel; the page says
  under each widget which states it holds;
* links between notebooks become links between pages (a link into ``my_work/``, the learner's own
  copy of an assignment, goes to the assignment's page); ``# extra code`` cells are folded (a
  click opens them); each page says in one box how to run it yourself;
* **offline**: MathJax (3.2.2, from the pinned ``sphinx-mathjax-offline``) and everything the theme
  needs are in the folder; no page asks another origin for anything. Any static host serves it, and
  the folder, zipped, works on a laptop without a network.

The build writes into a temporary folder next to the target and swaps it in only when everything
succeeded: a notebook that fails stops the build with the notebook, the cell and the error, and the
previous ``site/`` stays as it was. Sphinx runs with warnings as errors and nitpicky references, so
a broken link fails the build too.

Command line (``python3 course.py site`` sets up the environment first, then runs this)::

    python -m helpers.site_build [--out site] [--jobs 2] [--no-execute]

``--no-execute`` renders the notebooks as committed (no outputs, no pictures): a quick preview of
the text. The tests build the site from the notebooks nbval has just executed
(:mod:`helpers.site_plugin`), so no notebook runs twice.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers.lessons import Lesson, lessons
from helpers.site_capture import cell_key

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
ASSETS = Path(__file__).resolve().parent / "site_assets"
TITLE = "Regularization in machine learning"
HOME = "notebooks/00_start_here"
CELL_TIMEOUT_S = 900
PAGE_BUDGET_BYTES = 10_000_000  # a page with every picture it can show
SITE_BUDGET_BYTES = 60_000_000
MATHJAX_FILE = "tex-svg-full.js"  # MathJax 3.2.2, every TeX extension, SVG output: one file, no fonts
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
NEEDS = {"sphinx": "Sphinx", "myst_nb": "myst-nb", "sphinx_book_theme": "sphinx-book-theme"}
INSTALL_HINT = "python3 course.py site (it sets up the course's environment, website tools included, first)"

__all__ = ["BuildError", "Page", "build", "main", "pages", "stage_notebook", "widget_html"]


class BuildError(RuntimeError):
    """The website could not be built; the message says which notebook, cell or page, and why."""


@dataclass(frozen=True)
class Page:
    """One page of the website: a course notebook and where it goes."""

    source: Path  # the notebook in the course
    doc: str  # its document name on the site: "notebooks/01_overfitting"
    kind: str  # "home", "lesson", "assignment" or "solution"
    lesson: Lesson

    @property
    def depth(self) -> int:
        """How many folders deep the page is (for links to _static/)."""
        return self.doc.count("/")


def pages(root: Path = ROOT) -> list[Page]:
    """Every page of the site, in the order of the table of contents: the home page, the lessons,
    the assignments, the solutions (from :func:`helpers.lessons.lessons`)."""
    root = Path(root)
    course = lessons(root)
    if not course:
        raise BuildError(f"no lesson in {root / 'notebooks'}")
    found = []
    for lesson in course:
        kind = "home" if lesson.path.stem == Path(HOME).name else "lesson"
        found.append(Page(lesson.path, _doc(lesson.path, root), kind, lesson))
    found += [Page(x.assignment, _doc(x.assignment, root), "assignment", x) for x in course if x.assignment]
    found += [Page(x.solution, _doc(x.solution, root), "solution", x) for x in course if x.solution]
    if found[0].kind != "home":
        raise BuildError(f"the home page {HOME}.ipynb is missing")
    return found


def _doc(path: Path, root: Path) -> str:
    return Path(path).relative_to(root).with_suffix("").as_posix()


# ------------------------------------------------------------------------------- executing
@dataclass
class Executed:
    """A notebook after execution, and the folder with what :mod:`helpers.site_capture` drew."""

    nb: nbformat.NotebookNode
    capture: Path | None  # None: rendered as committed (no outputs)
    seconds: float = 0.0
    report: dict = field(default_factory=dict)


INSTALL_CELL = ("from helpers.site_capture import install as _course_site_install\n"
                "_course_site_install({out!r})\n"
                "del _course_site_install")
CAPTURE_CELL = ("import json as _course_json\n"
                "from helpers.site_capture import capture_widgets as _course_capture\n"
                "print(_course_json.dumps(_course_capture()))")


def _cell_error(nb: nbformat.NotebookNode) -> tuple[int, str] | None:
    """The first code cell with an error output: (its number among the code cells, the error)."""
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        number += 1
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return number, f"{out.get('ename')}: {out.get('evalue')}"
    return None


def execute(source: Path, capture: Path, timeout: int = CELL_TIMEOUT_S) -> Executed:
    """Execute the notebook ``source`` in a fresh kernel (working folder: its own), drawing its
    figures and widgets into ``capture``. Raises BuildError naming the notebook and the cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    source, capture = Path(source).resolve(), Path(capture).resolve()
    start = time.perf_counter()
    nb = nbformat.read(source, as_version=4)
    run = copy.deepcopy(nb)
    run.cells.insert(0, nbformat.v4.new_code_cell(INSTALL_CELL.format(out=str(capture))))
    run.cells.append(nbformat.v4.new_code_cell(CAPTURE_CELL))
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND",)}
    # --log-level: no "Kernel is running over TCP without encryption" warning per notebook (a local
    # kernel; the same as JupyterLab's)
    client = NotebookClient(run, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(source.parent)}}, env=env,
                            extra_arguments=["--log-level=ERROR"])
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        failed = _cell_error(run)
        where = f"cell {failed[0] - 1}" if failed else "a cell"
        what = failed[1] if failed else str(exc).strip().splitlines()[-1][:300]
        if isinstance(exc, CellTimeoutError):
            what = f"it ran longer than {timeout} s"
        raise BuildError(f"{source.name}: {where} failed: {what}") from None
    report_out = [o for o in run.cells[-1].outputs if o.get("output_type") == "stream"]
    report = json.loads(report_out[-1]["text"]) if report_out else {}
    for cell, done in zip(nb.cells, run.cells[1:-1], strict=True):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = done.outputs, done.execution_count
    nb.metadata.pop("widgets", None)
    return Executed(nb, Path(capture), time.perf_counter() - start, report)


def _execute_one(args) -> tuple[str, dict | str]:
    source, capture = args
    try:
        done = execute(Path(source), Path(capture))
    except BuildError as exc:
        return source, str(exc)
    return source, {"nb": nbformat.writes(done.nb), "seconds": done.seconds, "report": done.report}


def execute_all(todo: list[Page], work: Path, jobs: int = 2, say=print) -> dict[Path, Executed]:
    """Execute ``todo`` in ``jobs`` processes (the slowest first); raise BuildError for the first failure."""
    order = sorted(todo, key=lambda p: -_expected_seconds(p.source))
    args = [(str(p.source), str(work / p.doc)) for p in order]
    done: dict[Path, Executed] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_execute_one, a) for a in args]
        for future in as_completed(futures):
            source, result = future.result()
            if isinstance(result, str):
                for other in futures:
                    other.cancel()
                raise BuildError(result)
            page = next(p for p in order if str(p.source) == source)
            done[page.source] = Executed(nbformat.reads(result["nb"], as_version=4), work / page.doc,
                                         result["seconds"], result["report"])
            say(f"executed {page.doc}.ipynb in {result['seconds']:.0f} s")
    return done


def _expected_seconds(path: Path) -> float:
    """A guess of how long a notebook runs, to start the slowest first: Keras notebooks first."""
    text = Path(path).read_text(encoding="utf-8")
    return 100.0 * ("keras" in text) + len(text) / 1e4


# ------------------------------------------------------------------------------- staging
RUN_BOX = {
    "home": ("You are reading the course's website",
             "Every lesson is shown as it runs in JupyterLab, with its outputs, figures and widgets; nothing to "
             "install. To run the code, change it and drag the widgets live, get the course and run "
             "`python3 course.py lab` in its folder (Python 3.11–3.13; the first run installs about 2.2 GB, "
             "then it works offline)."),
    "lesson": ("Run this lesson yourself",
               "This page shows the lesson as it runs, every output included; the widgets here switch between "
               "pictures drawn when the page was built. To run the code, change it and drag the widgets live: "
               "get the course and run `python3 course.py lab` in its folder; the lesson is "
               "`{path}` in JupyterLab."),
    "assignment": ("Work on this assignment yourself",
                   "This is the assignment as a learner gets it: the tasks are unanswered, so every `check_task` "
                   "below says what is missing. `python3 course.py lab` copies it into `my_work/{name}`, where "
                   "your answers are saved and each `check_task` gives instant feedback."),
    "solution": ("Worked solution",
                 "Try the assignment first. To run this solution yourself: `python3 course.py lab`, then open "
                 "`{path}` in JupyterLab."),
}
FOOTER = ("<p>The course's notebooks, executed and drawn when this site was built. To run them, change them and "
          "drag the widgets live: <code>python3 course.py lab</code> in the course's folder.</p>")
LINK = re.compile(r"(\]\(|href=\")(?P<target>[^)\"\s#]+\.ipynb)(?P<anchor>#[^)\"\s]*)?")


def _box(page: Page) -> str:
    title, text = RUN_BOX[page.kind]
    text = text.format(path=page.source.relative_to(page.source.parents[page.depth]).as_posix(),
                       name=page.source.name)
    return f":::{{admonition}} {title}\n:class: tip course-run-box\n{text}\n:::"


def rewrite_links(text: str, page: Page, docs: set[str]) -> str:
    """``text`` (a markdown cell) with its notebook links made site links: a link into
    ``my_work/`` goes to the assignment's page; a link to a notebook that is not a page raises
    BuildError (myst-nb turns the others into document references)."""
    folder = Path(page.doc).parent

    def fix(match):
        target = match["target"]
        if re.match(r"[a-z]+:", target):  # an absolute URL
            return match[0]
        resolved = os.path.normpath((folder / target).as_posix())
        parts = resolved.split("/")
        if parts[0] == "my_work" and len(parts) == 2:
            resolved = f"assignments/{parts[1]}"
        doc = resolved[: -len(".ipynb")]
        if doc not in docs:
            raise BuildError(f"{page.source.name}: the link {target!r} points to {resolved}, which is not a page "
                             "of the course")
        relative = os.path.relpath(resolved, folder.as_posix() or ".")
        return f"{match[1]}{relative}{match['anchor'] or ''}"

    return LINK.sub(fix, text)


def _image_output(record: dict, url: str) -> dict:
    alt = html.escape(record.get("alt") or "figure", quote=True)
    tag = (f'<img class="course-figure" src="{url}" width="{record["width"]}" height="{record["height"]}" '
           f'alt="{alt}" loading="lazy" decoding="async">')
    return nbformat.v4.new_output("display_data", data={"text/html": tag})


def widget_html(report: dict, base: str, dom_id: str) -> str:
    """The static widget for the page: its controls (range inputs, buttons), the picture of its
    starting state, a note saying which states it holds, and its manifest for
    ``site_assets/course_widgets.js``. ``base``: the URL of the widget's pictures, relative to the page."""
    tkey = ",".join(str(t["initial"]) for t in report["toggles"])
    defs = report["slider_defs"].get(tkey) or next(iter(report["slider_defs"].values()))
    start = f"{tkey}|{','.join(str(d['initial']) for d in defs)}"
    first = report["frames"][report["states"][start]]
    parts = [f'<div class="course-widget" id="{dom_id}" data-mode="{report["mode"]}">',
             '<div class="course-widget-controls">']
    for i, toggle in enumerate(report["toggles"]):
        label = html.escape(toggle["description"] or "")
        parts.append(f'<div class="course-toggle" role="group" data-toggle="{i}" aria-label="{label or "options"}">'
                     + (f'<span class="course-desc">{label}</span>' if label else ""))
        for k, option in enumerate(toggle["labels"]):
            pressed = "true" if k == toggle["initial"] else "false"
            parts.append(f'<button type="button" data-index="{k}" aria-pressed="{pressed}">{html.escape(option)}'
                         "</button>")
        parts.append("</div>")
    for i, (slider, d) in enumerate(zip(report["sliders"], defs, strict=True)):
        label = html.escape(slider["description"] or f"slider {i + 1}")
        disabled = " disabled" if d["disabled"] else ""
        readout = html.escape(d["labels"][d["initial"]]) if d["readout"] else ""
        parts.append(f'<label class="course-slider"><span class="course-desc">{label}</span>'
                     f'<input type="range" data-slider="{i}" min="0" max="{len(d["labels"]) - 1}" step="1" '
                     f'value="{d["initial"]}" aria-label="{label}"{disabled}>'
                     f'<output>{readout}</output></label>')
    parts.append("</div>")
    alt = html.escape(report.get("alt") or "widget", quote=True)
    parts.append(f'<img class="course-widget-frame" src="{base}{first}" width="{report["width"]}" '
                 f'height="{report["height"]}" alt="{alt}">')
    parts.append(f'<p class="course-widget-note">{html.escape(widget_note(report))}</p>')
    manifest = {"base": base, "mode": report["mode"], "frames": report["frames"], "states": report["states"],
                "toggles": [{"initial": t["initial"], "n": len(t["labels"])} for t in report["toggles"]],
                "slider_defs": {k: [{"labels": d["labels"], "initial": d["initial"], "disabled": d["disabled"],
                                     "readout": d["readout"]} for d in v] for k, v in report["slider_defs"].items()}}
    text = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    parts.append(f'<script type="application/json" class="course-widget-manifest">{text}</script>')
    parts.append("</div>")
    return "".join(parts)


def widget_note(report: dict) -> str:
    """The sentence under a static widget: which of its states the page holds."""
    names = [t["description"] or "the buttons" for t in report["toggles"]] + \
            [s["description"] for s in report["sliders"]]
    first_defs = next(iter(report["slider_defs"].values()))
    thinned = [f"{s['description']}: {len(d['labels'])} of its {d['of']} positions"
               for s, d in zip(report["sliders"], first_defs, strict=True) if len(d["labels"]) < d["of"]]
    pictures = f"{len(report['frames'])} pictures drawn by the widget's own code when this page was built"
    if report["mode"] == "all" or len(names) < 2:
        text = f"Every combination of the controls is here ({pictures})"
    else:
        text = (f"Each control moves with the others at their starting values; moving one resets the others "
                f"(all combinations would not fit the page's size budget; {pictures})")
    if thinned:
        text += "; " + ", ".join(thinned)
    return text + ". In JupyterLab every setting is live."


def stage_notebook(page: Page, done: Executed | None, docs: set[str], static: Path, toc: str = "") -> \
        nbformat.NotebookNode:
    """The notebook of ``page`` as the site shows it (see the module docstring); copies its pictures
    into ``static`` (the site's ``_static/course``)."""
    nb = copy.deepcopy(done.nb) if done is not None else nbformat.read(page.source, as_version=4)
    nb.metadata.pop("widgets", None)
    report = done.report if done is not None else {}
    problems = report.get("problems", [])
    if problems:
        raise BuildError(f"{page.source.name}: " + "; ".join(problems))
    up = "../" * page.depth
    figures = {}
    for record in report.get("figures", []):
        figures.setdefault(record["cell"], []).append(record)
    widgets = {w["model_id"]: w for w in report.get("widgets", []) if w.get("model_id")}
    seen: dict = {}
    number = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source, page, docs)
            continue
        if cell.cell_type != "code":
            continue
        number += 1
        key = cell_key(cell.source, seen) if cell.source.strip() else None
        if cell.source.lstrip().startswith("# extra code"):
            tags = cell.metadata.setdefault("tags", [])
            if "hide-input" not in tags:
                tags.append("hide-input")
        cell.outputs = _stage_outputs(page, number, cell.get("outputs", []), figures.get(key, []), widgets,
                                      done, up, static)
    if page.kind == "solution" and nb.cells and nb.cells[0].cell_type == "markdown":
        # the same H1 as the assignment's: say which of the two pages this is (title, contents, search)
        first, _, rest = nb.cells[0].source.partition("\n")
        nb.cells[0].source = f"{first.rstrip()} (worked solution)\n{rest}"
    box = nbformat.v4.new_markdown_cell(_box(page))
    nb.cells.insert(1, box)
    if toc:
        nb.cells.append(nbformat.v4.new_markdown_cell(toc))
    return nb


def _copy(done: Executed, name: str, static: Path, sub: str) -> str:
    source = done.capture / name
    if not source.is_file():
        raise BuildError(f"the picture {source} is missing (the capture did not finish)")
    dest = static / sub / Path(name).name
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        shutil.copyfile(source, dest)
    return f"{sub}/{Path(name).name}"


def _stage_outputs(page, number, outputs, figures, widgets, done, up, static) -> list:
    staged = []
    inline = list(figures)
    by_model = {f["model_id"]: f for f in figures if f.get("model_id")}
    for out in outputs:
        data = out.get("data", {})
        view = data.get(WIDGET_VIEW)
        if view is not None:
            model = view.get("model_id")
            if model in by_model:
                record = by_model[model]
                inline.remove(record)
                staged.append(_image_output(record, up + "_static/course/" +
                                            _copy(done, record["file"], static, "figures")))
            elif model in widgets:
                report = widgets[model]
                folder = f"widgets/{page.doc.replace('/', '-')}-{report['key']}"
                for frame in report["frames"]:
                    _copy(done, f"{report['folder']}/{frame}", static, folder)
                dom_id = f"widget-{page.doc.rsplit('/', 1)[-1]}-{report['key']}"
                staged.append(nbformat.v4.new_output("display_data", data={
                    "text/html": widget_html(report, f"{up}_static/course/{folder}/", dom_id)}))
            elif done is not None and "open_models" in done.report and model not in done.report["open_models"]:
                pass  # a widget closed since (a finished progress bar): JupyterLab shows nothing there either
            else:
                raise BuildError(f"{page.source.name}: code cell {number} shows a widget the build did not capture "
                                 "(a widget is an object with .fig and .ui left in the notebook's namespace; a "
                                 "progress bar is closed when done)")
            continue
        if any(mime in data for mime in IMAGE_MIMES):
            if not inline:
                if done is None or done.capture is None:
                    staged.append(out)
                    continue
                raise BuildError(f"{page.source.name}: code cell {number} shows a picture the build did not capture")
            record = inline.pop(0)
            staged.append(_image_output(record, up + "_static/course/" + _copy(done, record["file"], static,
                                                                                  "figures")))
            continue
        if out.get("output_type") == "stream" and "\r" in out.get("text", ""):
            out = copy.deepcopy(out)
            out["text"] = _carriage_returns(out["text"])
        staged.append(out)
    return staged


def _carriage_returns(text: str) -> str:
    """A stream's text as JupyterLab shows it: on each line, what follows the last carriage return
    (a progress line rewritten in place shows only its last state)."""
    return "\n".join(line.rsplit("\r", 1)[-1] if line.rstrip("\r") else line
                     for line in text.split("\n"))


def toc_markdown(found: list[Page]) -> str:
    """The hidden table of contents of the home page: lessons, assignments, solutions."""
    sections = [("Lessons", "lesson"), ("Assignments", "assignment"), ("Worked solutions", "solution")]
    home = Path(found[0].doc).parent
    blocks = []
    for caption, kind in sections:
        docs = [os.path.relpath(p.doc, home.as_posix()) for p in found if p.kind == kind]
        if docs:
            blocks.append("```{toctree}\n:hidden:\n:caption: " + caption + "\n\n" + "\n".join(docs) + "\n```")
    return "\n\n".join(blocks)


CONF = '''"""Sphinx configuration of the course's website, written by helpers/site_build.py (do not edit)."""
project = {title!r}
author = "the course's authors"
copyright = "the course's authors"
extensions = ["myst_nb", "sphinx.ext.mathjax"]
root_doc = {home!r}
exclude_patterns = ["_build"]
nitpicky = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
myst_dmath_double_inline = True  # $$...$$ inside a paragraph or list item, as JupyterLab shows it
nb_execution_mode = "off"
nb_output_stderr = "show"
html_theme = "sphinx_book_theme"
html_title = {title!r}
html_static_path = ["_static"]
html_css_files = ["course/course.css"]
html_js_files = ["course/course_widgets.js"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_context = {{"default_mode": "auto"}}  # the reader's light or dark preference (unset, the theme logs an error)
html_theme_options = {{
    "home_page_in_toc": True,
    "footer_content_items": ["extra-footer.html"],
    "extra_footer": {footer!r},
    "use_download_button": False,
    "use_fullscreen_button": True,
    "show_toc_level": 2,
    "navigation_with_keys": True,
    "show_navbar_depth": 1,
}}
mathjax_path = "mathjax/{mathjax}"
mathjax3_config = {{
    "tex": {{"inlineMath": [["\\\\(", "\\\\)"]], "displayMath": [["\\\\[", "\\\\]"]],
            "processEscapes": True, "processEnvironments": True}},
    "options": {{"ignoreHtmlClass": "tex2jax_ignore|mathjax_ignore|document",
                "processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}},
    "loader": {{"load": []}},
}}
'''


def mathjax_source() -> Path:
    """The MathJax file the site ships, from the pinned package sphinx-mathjax-offline."""
    from importlib import metadata

    try:
        dist = metadata.distribution("sphinx-mathjax-offline")
    except metadata.PackageNotFoundError:
        raise BuildError(f"MathJax is missing (the package sphinx-mathjax-offline); install it with: {INSTALL_HINT}") \
            from None
    path = Path(dist.locate_file(f"sphinx-mathjax-offline/static/mathjax/{MATHJAX_FILE}"))
    if not path.is_file():
        raise BuildError(f"{path} is missing: reinstall sphinx-mathjax-offline ({INSTALL_HINT})")
    return path


def stage(found: list[Page], executed: dict[Path, Executed | None], src: Path) -> None:
    """Write the Sphinx project of the site into ``src``: conf.py, the staged notebooks, the assets."""
    static = src / "_static" / "course"
    static.mkdir(parents=True)
    for asset in ASSETS.iterdir():
        if asset.is_file():
            shutil.copyfile(asset, static / asset.name)
    (src / "_static" / "mathjax").mkdir()
    shutil.copyfile(mathjax_source(), src / "_static" / "mathjax" / MATHJAX_FILE)
    (src / "conf.py").write_text(CONF.format(title=TITLE, home=found[0].doc, mathjax=MATHJAX_FILE, footer=FOOTER),
                                 encoding="utf-8")
    docs = {p.doc for p in found}
    toc = toc_markdown(found)
    for page in found:
        nb = stage_notebook(page, executed.get(page.source), docs, static, toc if page.kind == "home" else "")
        dest = src / f"{page.doc}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)


def check_tools() -> None:
    """Raise BuildError naming the install command when Sphinx, myst-nb or the theme is missing."""
    import importlib.util

    missing = [name for module, name in NEEDS.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise BuildError(f"the website needs {', '.join(missing)}, which this environment lacks; install them "
                         f"with: {INSTALL_HINT}")


def sphinx(src: Path, out: Path) -> None:
    """Run Sphinx (HTML, warnings as errors, nitpicky); raise BuildError with its warnings."""
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q", "-j", "1",
           "-d", str(src / "_doctrees"), str(src), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if done.returncode != 0:
        text = (done.stderr.strip() or done.stdout.strip()).replace(str(src) + os.sep, "")
        raise BuildError(f"Sphinx failed (warnings are errors):\n{text[-4000:]}")
    for leftover in (out / ".buildinfo", out / "objects.inv"):
        leftover.unlink(missing_ok=True)


def swap(new: Path, out: Path) -> None:
    """Put the finished folder ``new`` in place of ``out`` (the old one is removed only then)."""
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------------- sizes
SRC_ATTR = re.compile(r'(?:src|href)="([^"]+)"')


def page_sizes(site: Path) -> dict[str, int]:
    """For every HTML page of ``site``: its bytes with every picture and widget frame it can show
    (scripts, styles and fonts are shared by all pages and counted once, in the site's total)."""
    sizes = {}
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        total = len(text.encode("utf-8"))
        seen = set()
        for url in SRC_ATTR.findall(text):
            if url.endswith((".webp", ".png", ".svg", ".jpg")) and not url.startswith(("http", "data:")):
                seen.add((page.parent / url.split("?")[0]).resolve())
        for manifest in re.findall(r'class="course-widget-manifest">(.*?)</script>', text, re.S):
            data = json.loads(manifest.replace("<\\/", "</"))
            seen |= {(page.parent / (data["base"] + f)).resolve() for f in data["frames"]}
        total += sum(p.stat().st_size for p in seen if p.is_file())
        sizes[page.relative_to(site).as_posix()] = total
    return sizes


def check_budgets(site: Path) -> list[str]:
    """The budgets the site breaks: the whole site over SITE_BUDGET_BYTES, a page with its pictures
    over PAGE_BUDGET_BYTES."""
    total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    problems = [f"the site holds {total / 1e6:.1f} MB, more than {SITE_BUDGET_BYTES / 1e6:.0f} MB"] \
        if total > SITE_BUDGET_BYTES else []
    problems += [f"{name} with its pictures holds {size / 1e6:.1f} MB, more than {PAGE_BUDGET_BYTES / 1e6:.0f} MB"
                 for name, size in page_sizes(site).items() if size > PAGE_BUDGET_BYTES]
    return problems


EXTERNAL = re.compile(r'<(?:script|link|img|iframe|source|video|audio)\b[^>]*?(?:src|href)="(?:https?:)?//', re.I)


def external_requests(site: Path) -> list[str]:
    """Pages that would load something from another origin (a script, style or picture by URL)."""
    return [p.relative_to(site).as_posix() for p in sorted(site.rglob("*.html"))
            if EXTERNAL.search(p.read_text(encoding="utf-8"))]


# ------------------------------------------------------------------------------- the build
@dataclass
class BuildReport:
    """What a build did: where the site is, how long each part took, how big it is."""

    out: Path
    pages: int
    seconds: dict
    executed: dict
    widgets: list
    bytes_total: int
    page_bytes: dict


def build(root: Path = ROOT, out: Path | None = None, *, executed: dict[Path, Executed] | None = None,
          execute_notebooks: bool = True, jobs: int = 2, say=print) -> BuildReport:
    """Build the site of the course under ``root`` into ``out`` (default ``root/site``).

    ``executed``: notebooks already executed with their captures (the tests pass nbval's); the
    others are executed here, unless ``execute_notebooks`` is False (rendered as committed).
    Raises BuildError; ``out`` is replaced only when the build succeeded."""
    check_tools()
    root = Path(root).resolve()
    out = (Path(out) if out is not None else root / "site").resolve()  # the kernels work in other folders
    found = pages(root)
    timings = {}
    start = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".site-build-", dir=out.parent))
    try:
        executed = dict(executed or {})
        todo = [p for p in found if p.source not in executed]
        if todo and execute_notebooks:
            say(f"executing {len(todo)} notebooks ({jobs} at a time)")
            executed.update(execute_all(todo, work / "capture", jobs, say))
        timings["execute"] = time.perf_counter() - start
        t = time.perf_counter()
        src = work / "src"
        stage(found, executed, src)
        timings["stage"] = time.perf_counter() - t
        t = time.perf_counter()
        html_dir = work / "html"
        say("rendering the pages with Sphinx")
        sphinx(src, html_dir)
        timings["sphinx"] = time.perf_counter() - t
        (html_dir / "index.html").write_text(_redirect(f"{found[0].doc}.html"), encoding="utf-8")
        problems = external_requests(html_dir)
        if problems:
            raise BuildError("these pages would load something from another origin: " + ", ".join(problems))
        problems = check_budgets(html_dir)
        if problems:
            raise BuildError("over budget: " + "; ".join(problems))
        sizes = page_sizes(html_dir)
        total = sum(p.stat().st_size for p in html_dir.rglob("*") if p.is_file())
        swap(html_dir, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    timings["total"] = time.perf_counter() - start
    widgets = [{"page": p.doc, "type": w["type"], "mode": w["mode"], "frames": len(w["frames"]),
                "states": len(w["states"]), "bytes": w["bytes"], "seconds": w["seconds"]}
               for p in found if executed.get(p.source) for w in executed[p.source].report.get("widgets", [])]
    return BuildReport(out, len(found), {k: round(v, 1) for k, v in timings.items()},
                       {p.doc: round(executed[p.source].seconds, 1) for p in found if executed.get(p.source)},
                       widgets, total, sizes)


def _redirect(target: str) -> str:
    url = html.escape(target, quote=True)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{TITLE}</title>'
            f'<meta http-equiv="refresh" content="0; url={url}"><link rel="canonical" href="{url}"></head>'
            f'<body><p><a href="{url}">{TITLE}: start here</a></p></body></html>\n')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.site_build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=SITE, help="where the site goes (default: site/)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at the same time (default 2)")
    parser.add_argument("--no-execute", action="store_true", help="render the notebooks as committed")
    args = parser.parse_args(argv)
    say = lambda msg: print(f"[site] {msg}", flush=True)  # noqa: E731
    try:
        report = build(ROOT, args.out, execute_notebooks=not args.no_execute, jobs=args.jobs, say=say)
    except BuildError as exc:
        print(f"[site] the build failed, {args.out} is unchanged: {exc}", file=sys.stderr)
        return 1
    say(f"built {report.pages} pages into {report.out} in {report.seconds['total']:.0f} s "
        f"({report.bytes_total / 1e6:.1f} MB); open {report.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
