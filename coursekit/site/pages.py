"""The pages of the course's website: every notebook of the course (the home page, the lessons, the
assignments, the solutions), from the lesson registry (:func:`coursekit.lessons.lessons`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from coursekit.lessons import Lesson, lessons

__all__ = ["HOME", "ROOT", "SITE", "TITLE", "BuildError", "Page", "pages"]

ROOT = Path(__file__).resolve().parents[2]  # coursekit/site/pages.py -> the course
SITE = ROOT / "site"
TITLE = "Regularization in machine learning"
HOME = "notebooks/00_start_here"


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
    the assignments, the solutions (from :func:`coursekit.lessons.lessons`)."""
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
