"""The course as a static website: ``python3 course.py site`` builds it into ``site/``.

Every page is a notebook of the course, executed once in a fresh kernel of the course's environment
(the folder it lives in as the working folder, as in JupyterLab), then rendered by Sphinx with
myst-nb and the book theme:

* the **home page** is ``notebooks/00_start_here.ipynb``; then the **lessons**, the **assignments**
  as a learner gets them, and the **worked solutions**, in three sections of the table of contents.
  All of it comes from the lesson registry (:func:`coursekit.lessons.lessons`): a new lesson appears
  with no edit anywhere but its notebook;
* **figures** are the pictures :mod:`coursekit.site.capture` drew in the kernel, at twice their
  resolution (sharp on high-density screens, shown at their JupyterLab size);
* **widgets** become a small static control (range inputs and buttons, ``coursekit/site/assets/course_widgets.js``)
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

    python -m coursekit.site.build [--out site] [--jobs 2] [--no-execute]

``--no-execute`` renders the notebooks as committed (no outputs, no pictures): a quick preview of
the text. The tests build the site from the notebooks nbval has just executed
(:mod:`coursekit.site.plugin`), so no notebook runs twice.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from coursekit.site.execute import Executed, execute_all
from coursekit.site.pages import ROOT, SITE, TITLE, BuildError, pages
from coursekit.site.staging import INSTALL_HINT, stage

__all__ = ["PAGE_BUDGET_BYTES", "SITE_BUDGET_BYTES", "BuildReport", "build", "check_budgets", "check_tools",
           "external_requests", "main", "page_sizes"]

PAGE_BUDGET_BYTES = 10_000_000  # a page with every picture it can show
SITE_BUDGET_BYTES = 60_000_000
NEEDS = {"sphinx": "Sphinx", "myst_nb": "myst-nb", "sphinx_book_theme": "sphinx-book-theme"}


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
    parser = argparse.ArgumentParser(prog="python -m coursekit.site.build", description=__doc__.split("\n\n")[0])
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
