"""coursekit.lessons: the one list of lessons, read from the notebooks, with errors that name the file."""

from __future__ import annotations

import json

import nbformat
import pytest

from coursekit import lessons as registry
from coursekit.lessons import Lesson, LessonError, lessons, read_lesson

ROOT = registry.ROOT
META = {"teaches": "one thing, then another", "minutes": 20, "widgets": ["λ slider"]}


def _lesson_nb(path, title="# Do a thing", meta=None, tasks=()):
    """Write a small notebook: a first markdown cell (``title``), metadata ``course`` = ``meta``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"{title}\n\n*One sentence.*")])
    nb.cells += [nbformat.v4.new_markdown_cell(f"## Task {t}\n\nDo it.") for t in tasks]
    if meta is not None:
        nb.metadata["course"] = meta
    nbformat.write(nb, path)
    return path


# ------------------------------------------------------------------------------- the real course
def test_the_course_lessons_are_numbered_in_order_from_00():
    course = lessons()
    numbers = [int(x.number) for x in course]
    # increasing from 00, each number once; a number may stay free while its lesson is written
    # elsewhere (the navigation and the tables simply link the neighbours that exist)
    assert numbers[0] == 0 and numbers == sorted(set(numbers))
    assert course[0].name == "00_start_here.ipynb" and len(course) >= 6
    assert [x.path for x in course] == sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_titles_are_the_notebooks_own_h1():
    for lesson in lessons():
        first = json.loads(lesson.path.read_text())["cells"][0]
        assert "".join(first["source"]).split("\n")[0] == f"# {lesson.title}"
    assert lessons()[2].title == "Charge a model for large weights"


def test_each_lesson_says_what_it_teaches_how_long_it_takes_and_its_widgets():
    for lesson in lessons():
        assert lesson.teaches and 0 < lesson.minutes <= 90, lesson.name
        assert isinstance(lesson.widgets, tuple)
    by_name = {x.name: x for x in lessons()}
    assert by_name["01_overfitting.ipynb"].widgets == ("degree", "training size", "noise")
    assert by_name["03_weight_decay.ipynb"].widgets == ()


def test_the_link_to_the_learners_copy_looks_like_a_link():
    """Issue 25: the Exercises link to ``my_work/`` was styled as inline code and did not look like a link."""
    import re

    for lesson in lessons():
        if lesson.name.startswith("00"):
            continue
        text = "".join("".join(c["source"]) for c in json.loads(lesson.path.read_text())["cells"]
                       if c["cell_type"] == "markdown")
        links = re.findall(r"\[([^\]]*)\]\(\.\./my_work/[^)]+\)", text)
        assert links, f"{lesson.name}: no link to the learner's copy in my_work/"
        assert not [t for t in links if "`" in t], f"{lesson.name}: a link to my_work/ styled as code: {links}"


def test_assignments_and_tasks_come_from_the_solution_notebooks():
    start, *rest = lessons()
    assert start.solution is start.assignment is None and start.tasks == ()
    for lesson in rest:
        assert lesson.solution == ROOT / "assignments" / "solutions" / f"{lesson.path.stem}_solution.ipynb"
        assert lesson.assignment == ROOT / "assignments" / f"{lesson.path.stem}_assignment.ipynb"
        assert lesson.tasks and all(t.id.startswith(f"{lesson.number}.") for t in lesson.tasks)
    first = rest[0].tasks[0]
    assert (first.id, first.kind, first.title) == ("01.1", "Code", "the mean squared error")


# ------------------------------------------------------------------------------- temp courses
def test_a_new_lesson_is_discovered_from_its_files(tmp_path):
    _lesson_nb(tmp_path / "notebooks" / "00_start.ipynb", "# Start", {**META, "widgets": []})
    new = _lesson_nb(tmp_path / "notebooks" / "01_new_topic.ipynb", "# Try the new thing", META)
    _lesson_nb(tmp_path / "assignments" / "solutions" / "01_new_topic_solution.ipynb", "# Practise it",
               tasks=["01.1 · Code: write f", "01.2 · Reasoning: explain f"])
    start, lesson = lessons(tmp_path)
    assert start.widgets == () and start.solution is None
    assert lesson == Lesson("01", "new_topic", new, "Try the new thing", META["teaches"], 20, ("λ slider",),
                            tmp_path / "assignments" / "solutions" / "01_new_topic_solution.ipynb",
                            tmp_path / "assignments" / "01_new_topic_assignment.ipynb", lesson.tasks)
    assert [(t.id, t.kind, t.title) for t in lesson.tasks] == [("01.1", "Code", "write f"),
                                                                ("01.2", "Reasoning", "explain f")]
    assert lesson.name == "01_new_topic.ipynb"


@pytest.mark.parametrize(("meta", "said"), [
    (None, "has no 'course' entry; add \"course\": {\"teaches\""),
    ({"teaches": "x", "widgets": []}, "missing 'minutes'"),
    ({**META, "minuts": 3}, "unknown 'minuts'"),
    ({**META, "minutes": "20"}, "course.minutes must be a whole number"),
    ({**META, "minutes": True}, "course.minutes must be a whole number"),
    ({**META, "teaches": "a | b"}, "course.teaches must be one line of text without '|'"),
    ({**META, "widgets": "slider"}, "course.widgets must be a list of widget names"),
])
def test_a_lesson_without_its_metadata_names_the_file_and_what_is_missing(tmp_path, meta, said):
    _lesson_nb(tmp_path / "notebooks" / "07_new.ipynb", meta=meta)
    with pytest.raises(LessonError) as info:
        lessons(tmp_path)
    assert str(info.value).startswith("notebooks/07_new.ipynb: ") and said in str(info.value), info.value


@pytest.mark.parametrize("title", ["Do a thing", "## Do a thing", "#Do a thing", "# "])
def test_a_lesson_without_an_h1_title_is_an_error(tmp_path, title):
    path = _lesson_nb(tmp_path / "notebooks" / "01_x.ipynb", title, META)
    with pytest.raises(LessonError, match=r"01_x.ipynb: the first cell must be a markdown cell .* H1"):
        read_lesson(path, tmp_path)


def test_badly_named_lessons_shared_numbers_and_orphan_solutions_are_errors(tmp_path):
    bad = _lesson_nb(tmp_path / "notebooks" / "1_Overfit.ipynb", meta=META)
    with pytest.raises(LessonError, match=r"1_Overfit.ipynb: a lesson notebook is named NN_topic.ipynb"):
        lessons(tmp_path)
    bad.unlink()
    _lesson_nb(tmp_path / "notebooks" / "01_a.ipynb", meta=META)
    _lesson_nb(tmp_path / "notebooks" / "01_b.ipynb", meta=META)
    with pytest.raises(LessonError, match=r"notebooks/01_a.ipynb and notebooks/01_b.ipynb share the number 01"):
        lessons(tmp_path)
    (tmp_path / "notebooks" / "01_b.ipynb").unlink()
    _lesson_nb(tmp_path / "assignments" / "solutions" / "02_gone_solution.ipynb", tasks=["02.1 · Code: f"])
    with pytest.raises(LessonError, match=r"02_gone_solution.ipynb: .* there is no such lesson"):
        lessons(tmp_path)


def test_a_solution_without_task_headings_is_an_error(tmp_path):
    _lesson_nb(tmp_path / "notebooks" / "01_a.ipynb", meta=META)
    _lesson_nb(tmp_path / "assignments" / "solutions" / "01_a_solution.ipynb", tasks=["01.1 Code f"])
    with pytest.raises(LessonError, match=r"assignments/solutions/01_a_solution.ipynb: no task heading"):
        lessons(tmp_path)

