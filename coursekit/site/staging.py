"""The Sphinx project of the site: each notebook as the site shows it (links between pages, folded
``# extra code`` cells, a box on how to run it, its figures and static widgets), the table of
contents from the registry, the configuration, MathJax and the site's own script and style."""

from __future__ import annotations

import copy
import html
import json
import os
import re
import shutil
from pathlib import Path

import nbformat

from coursekit.site.capture import cell_key
from coursekit.site.execute import Executed
from coursekit.site.pages import TITLE, BuildError, Page

__all__ = ["ASSETS", "INSTALL_HINT", "MATHJAX_FILE", "WIDGET_VIEW", "mathjax_source", "rewrite_links", "stage",
           "stage_notebook", "toc_markdown", "widget_html", "widget_note"]

ASSETS = Path(__file__).resolve().parent / "assets"
MATHJAX_FILE = "tex-svg-full.js"  # MathJax 3.2.2, every TeX extension, SVG output: one file, no fonts
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
INSTALL_HINT = "python3 course.py site (it sets up the course's environment, website tools included, first)"


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
    ``coursekit/site/assets/course_widgets.js``. ``base``: the URL of the widget's pictures, relative to the page."""
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


CONF = '''"""Sphinx configuration of the course's website, written by coursekit/site/build.py (do not edit)."""
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
