"""coursekit.generated_files and tools/generate.py: navigation, tables and learner notebooks are
generated from the lessons, stale ones are found, and adding a lesson is one command."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from coursekit import generated_files as gen
from coursekit.assignments import Task
from coursekit.lessons import Lesson, lessons

ROOT = gen.ROOT


def _lesson(number, title, widgets=(), tasks=()):
    topic = f"topic{number}"
    solution = Path(f"solutions/{number}_{topic}_solution.ipynb") if tasks else None
    assignment = Path(f"{number}_{topic}_assignment.ipynb") if tasks else None
    return Lesson(number, topic, Path(f"notebooks/{number}_{topic}.ipynb"), title, f"teaches {number}", 10,
                  tuple(widgets), solution, assignment, tuple(tasks))


COURSE = [_lesson("00", "Start"), _lesson("01", "One", ["a", "b"], [Task("01.1", "Code", "f")]),
          _lesson("02", "Two", tasks=[Task("02.1", "Reasoning", "why"), Task("02.2", "Code", "g")])]


@pytest.fixture
def course(tmp_path) -> Path:
    """A copy of the course's generated and generating files (notebooks, assignments, READMEs)."""
    ignore = shutil.ignore_patterns(".ipynb_checkpoints")
    for folder in ("notebooks", "assignments"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=ignore)
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


# ------------------------------------------------------------------------------- what is generated
def test_navigation_links_previous_start_and_next():
    texts = [gen.navigation_text(COURSE, i) for i in range(3)]
    # through the lessons' folder: the same link from a learner's copy in my_work/ (Save Notebook As)
    assert texts == ["---\nNext: [01 · One](../notebooks/01_topic01.ipynb) →",
                     "---\n← Previous: [00 · Start](../notebooks/00_topic00.ipynb) | "
                     "Next: [02 · Two](../notebooks/02_topic02.ipynb) →",
                     "---\n← Previous: [01 · One](../notebooks/01_topic01.ipynb) | "
                     "[Start here](../notebooks/00_topic00.ipynb) | You have reached the end of the course."]


def test_tables_list_every_lesson_from_the_registry():
    assert gen.readme_table(COURSE).splitlines()[2:] == [
        "| 00 | [Start](notebooks/00_topic00.ipynb) | teaches 00 | 10 min | — |",
        "| 01 | [One](notebooks/01_topic01.ipynb) | teaches 01 | 10 min | a · b |",
        "| 02 | [Two](notebooks/02_topic02.ipynb) | teaches 02 | 10 min | — |"]
    start = gen.start_table(COURSE)
    assert "| 01 | [One](../notebooks/01_topic01.ipynb) | teaches 01 | 10 min |" in start and "[Start]" not in start
    assert gen.assignment_table(COURSE).splitlines()[2:] == [
        "| [01_topic01_assignment.ipynb](01_topic01_assignment.ipynb) | [01 · One](../notebooks/01_topic01.ipynb) "
        "| 01.1 f | — |",
        "| [02_topic02_assignment.ipynb](02_topic02_assignment.ipynb) | [02 · Two](../notebooks/02_topic02.ipynb) "
        "| 02.2 g | 02.1 why |"]


def test_tables_go_between_their_markers_only():
    start, end = gen.README_MARKERS
    text = f"intro\n{start}\nold table\n{end}\noutro\n"
    expected = f"intro\n{start}\n| new |\n{end}\noutro\n"
    assert gen.with_table(text, "| new |", gen.README_MARKERS, "README.md") == expected
    with pytest.raises(ValueError, match=r"README.md needs the marker lines .*course-table:start"):
        gen.with_table("no markers\n", "| new |", gen.README_MARKERS, "README.md")


def test_the_real_course_lists_the_lessons_titles_everywhere():
    readme = (ROOT / "README.md").read_text()
    start_here = (ROOT / "notebooks" / "00_start_here.ipynb").read_text()
    assignments_readme = (ROOT / "assignments" / "README.md").read_text()
    for lesson in lessons():
        assert f"[{lesson.title}](notebooks/{lesson.name})" in readme
        if lesson.number != "00":
            assert f"[{lesson.title}](../notebooks/{lesson.name})" in start_here
        if lesson.assignment is not None:
            assert f"[{lesson.number} · {lesson.title}](../notebooks/{lesson.name})" in assignments_readme
            assert all(f"{t.id} {t.title}" in assignments_readme for t in lesson.tasks)


# ------------------------------------------------------------------------------- stale and write
def test_a_copy_of_the_course_is_current_and_each_kind_of_drift_is_found(course):
    assert gen.stale(course) == []
    lesson = course / "notebooks" / "03_weight_decay.ipynb"
    lesson.write_text(lesson.read_text().replace("[02 · Charge a model", "[02 · Put a price on a model"))
    readme = course / "README.md"
    readme.write_text(readme.read_text().replace("| 30 min |", "| 31 min |"))
    learner = course / "assignments" / "02_penalized_cost_assignment.ipynb"
    learner.write_text(learner.read_text().replace("Task 02.2", "Task 02.9"))
    (course / "assignments" / "01_overfitting_assignment.ipynb").unlink()
    tasks = course / "assignments" / "README.md"
    tasks.write_text(tasks.read_text().replace("01.1 the mean squared error", "01.1 MSE"))
    drifted = [lesson, readme, tasks, learner, course / "assignments" / "01_overfitting_assignment.ipynb"]
    assert sorted(gen.stale(course)) == sorted(drifted)
    assert sorted(gen.write(course)) == sorted(drifted)
    assert gen.stale(course) == [] and gen.write(course) == []
    for path in drifted:
        assert path.read_text() == (ROOT / path.relative_to(course)).read_text(), path


def test_adding_a_lesson_is_one_command(course, capsys):
    """Write the notebook (with its metadata) and its solution; tools/generate.py does the rest."""
    last = lessons(course)[-1]
    nn = f"{int(last.number) + 1:02d}"  # the new lesson comes after the last one
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Stop training early\n\n*Why.*")])
    nb.metadata["course"] = {"teaches": "early stopping as a regularizer", "minutes": 30, "widgets": []}
    nbformat.write(nb, course / "notebooks" / f"{nn}_early_stopping.ipynb")
    solution = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# Stop early: assignment {nn}"),
        nbformat.v4.new_markdown_cell(f"## Task {nn}.1 · Code: the stopping rule"),
        nbformat.v4.new_code_cell("def stop(losses):\n    ### BEGIN SOLUTION\n    return True\n    ### END SOLUTION")])
    nbformat.write(solution, course / "assignments" / "solutions" / f"{nn}_early_stopping_solution.ipynb")
    assert gen.main(["--check", "--root", str(course)]) == 1
    assert f"stale: notebooks/{last.name} (run: python tools/generate.py)" in capsys.readouterr().out
    assert gen.main(["--root", str(course)]) == 0

    assert f"Next: [{nn} · Stop training early](../notebooks/{nn}_early_stopping.ipynb) →" in \
        (course / "notebooks" / last.name).read_text()
    new = nbformat.read(course / "notebooks" / f"{nn}_early_stopping.ipynb", as_version=4)
    assert new.cells[-1].source.endswith("You have reached the end of the course.")
    assert f"| {nn} | [Stop training early](notebooks/{nn}_early_stopping.ipynb) | early stopping as a regularizer " \
           "| 30 min | — |" in (course / "README.md").read_text()
    assert f"[Stop training early](../notebooks/{nn}_early_stopping.ipynb)" in \
        (course / "notebooks" / "00_start_here.ipynb").read_text()
    assert f"{nn}.1 the stopping rule" in (course / "assignments" / "README.md").read_text()
    learner = (course / "assignments" / f"{nn}_early_stopping_assignment.ipynb").read_text()
    assert f'raise NotImplementedError(\\"Task {nn}.1: your code here\\")' in learner
    assert gen.main(["--check", "--root", str(course)]) == 0


def test_the_command_names_a_lesson_without_metadata(course, capsys):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# New")]),
                   course / "notebooks" / "06_new.ipynb")
    assert gen.main(["--root", str(course)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: notebooks/06_new.ipynb: the notebook metadata has no 'course' entry"), err


def test_tools_generate_is_only_the_command_line():
    """The one command; the hygiene test runs it with --check on the real course."""
    assert "from coursekit.generated_files import main" in (ROOT / "tools" / "generate.py").read_text()
