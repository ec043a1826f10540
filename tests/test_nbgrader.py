"""Grading with nbgrader: the course folder that coursekit.nbgrader_course writes from the solutions.

The first tests read the generated source notebooks and run their test cells in this process:
for every code task of every assignment, the cell passes the solution, and an answer that
memorized what the released notebook can show (a lookup table of the visible check's cases,
with the drawn case's seed pinned) passes the visible check but fails the hidden cases.

The tests marked ``teacher`` are nbgrader itself, end to end, in the teacher's environment
``.venv-teacher/`` (subprocesses): the folder is written, ``generate_assignment`` releases every
assignment, seven students' submissions of assignment 02 are autograded in one call, the
gradebook's SQLite database holds what each deserves, the teacher grades the reasoning answers,
and ``generate_feedback`` writes the feedback. Only assignment 02 is autograded: nbgrader's part
(cell metadata, checksums, locked and missing cells, hidden tests, gradebook, feedback) is the
same for every assignment, and what differs, each task's test cell, is run above for all of
them; 02 has four code tasks and two reasoning tasks and runs in seconds, while autograding 05
or 06 would train Keras networks in every submission (a minute each).
"""

from __future__ import annotations

import copy
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import nbformat
import pytest
from test_checks import _namespace, _task_function
from test_checks_drawn import _lookup_table

from coursekit import assignments, nbgrader_course
from coursekit.hub_install import TEACHER_PYTHON, teacher_problem
from coursekit.lab_browser import in_ci
from helpers.checks import CHECKS, check_task, draws
from helpers.checks.draws import check_hidden

ROOT = Path(__file__).resolve().parent.parent
SEED = 20270
"""The course folder's seed in these tests."""
SOLUTIONS = assignments.solution_paths()
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)
GRADED = {nbgrader_course.assignment_id(p): nbgrader_course.graded_notebook(nbformat.read(p, as_version=4),
                                                                             p.name, seed=SEED)
          for p in SOLUTIONS}


def _meta(cell) -> dict:
    return cell.metadata["nbgrader"]


TEST_CELLS = {_meta(c)["grade_id"][5:-5].replace("_", "."): c for nb in GRADED.values() for c in nb.cells
              if _meta(c)["grade_id"].endswith("_test")}
"""Task id -> its autograder test cell."""


# --- the course folder's notebooks, in this process -------------------------------------------------

@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_each_task_is_a_graded_cell_with_its_points(path):
    nb = GRADED[nbgrader_course.assignment_id(path)]
    tasks = assignments.tasks(nbformat.read(path, as_version=4))
    by_id = {_meta(c)["grade_id"]: c for c in nb.cells}
    assert len(by_id) == len(nb.cells), "grade ids must be unique"
    for task in tasks:
        slug = task.id.replace(".", "_")
        answer = by_id.pop(f"task_{slug}_answer")
        assert _meta(answer)["solution"] and not _meta(answer)["locked"]
        if task.kind == "Code":
            assert answer.cell_type == "code" and not _meta(answer)["grade"]
            test = by_id.pop(f"task_{slug}_test")
            assert _meta(test) == {"grade": True, "grade_id": f"task_{slug}_test", "locked": True, "task": False,
                                   "points": nbgrader_course.POINTS["Code"], "schema_version": 3, "solution": False}
            visible = HIDDEN.sub("", test.source)
            assert f'assert check_task("{task.id}", ' in visible and "check_hidden" not in visible
            assert "check_hidden" in HIDDEN.findall(test.source)[-1]
        else:
            assert answer.cell_type == "markdown" and _meta(answer)["grade"]
            assert _meta(answer)["points"] == nbgrader_course.POINTS["Reasoning"]
    assert by_id and all(_meta(c)["locked"] and not _meta(c)["grade"] and not _meta(c)["solution"]
                         for c in by_id.values())  # every other cell: read-only
    assert nbgrader_course.max_points(nb) == sum(nbgrader_course.POINTS[t.kind] for t in tasks)
    text = nbformat.writes(nb)
    assert "NBVAL_CHECK_OUTPUT" not in text and "solution-only" not in text
    assert all(not c.get("outputs") for c in nb.cells)


def test_every_code_task_has_one_test_cell():
    assert set(TEST_CELLS) == set(CHECKS)


def _run_test_cell(task_id: str, fn) -> None:
    """Run ``task_id``'s autograder test cell with ``fn`` as the learner's function, in a namespace
    holding the solution notebook's imports (as the notebook's kernel would)."""
    ns, calls = _namespace(task_id[:2], False)
    exec(TEST_CELLS[task_id].source, {**ns, calls[task_id]: fn, "get_ipython": _NoIPython})


class _NoIPython:
    """What the test cells ask of IPython (one-line tracebacks), outside a kernel."""

    class InteractiveTB:
        @staticmethod
        def set_mode(mode):
            assert mode == "Minimal"


@pytest.mark.parametrize("task_id", list(CHECKS))
def test_a_test_cell_passes_the_solution_and_a_lookup_table_fails_its_hidden_cases(task_id, monkeypatch, capsys):
    _run_test_cell(task_id, _task_function(task_id))
    assert f"✓ Task {task_id} passed its {nbgrader_course.HIDDEN_DRAWS} hidden cases." in capsys.readouterr().out

    # A learner who pins the drawn case's seed and memorizes every answer the visible check asks for:
    answer, state = _lookup_table(_task_function(task_id))
    monkeypatch.setattr(draws, "SEED", 11)
    assert check_task(task_id, answer, quiet=True)
    state["recording"] = False
    with pytest.raises(AssertionError, match=f"Task {task_id} fails a hidden case"):
        _run_test_cell(task_id, answer)
    out = capsys.readouterr().out
    assert f"✓ Task {task_id} passed" in out  # the visible check, fooled
    assert f"✗ Task {task_id}" in out and "drawn for grading" in out and "(hidden case " in out
    assert draws.SEED == 11  # the learner's own setting, restored


def test_check_hidden_refuses_bad_seeds_and_names_a_failing_case_without_its_seed(capsys):
    def l2_penalty(w, lam):
        return 2 * lam * float((w**2).sum())

    for seeds in (5, "12", [], [1.5], [-1], [True], [2**32], list(range(draws.MAX_HIDDEN + 1))):
        with pytest.raises(ValueError, match="seeds must"):
            check_hidden("02.1", l2_penalty, seeds)
    result = check_hidden("02.1", l2_penalty, [123456])
    assert not result and result.message == capsys.readouterr().out.strip()
    assert "123456" not in result.message and "(hidden case" not in result.message  # a fixed case failed
    result = check_hidden("02.1", lambda w, lam: lam * float((w**2).sum()) + (w.size > 4), [123456, 7])
    assert not result and "hidden case 1 of 2" in result.message and "123456" not in result.message
    assert not check_hidden("9.9", abs, [1], quiet=True)  # the learner's side: a result, as check_task


def test_the_folder_s_seed_fixes_the_hidden_seeds():
    assert nbgrader_course.hidden_seeds(SEED, "02.3") == nbgrader_course.hidden_seeds(SEED, "02.3")
    assert nbgrader_course.hidden_seeds(SEED, "02.3") != nbgrader_course.hidden_seeds(SEED + 1, "02.3")
    assert nbgrader_course.hidden_seeds(SEED, "02.3") != nbgrader_course.hidden_seeds(SEED, "02.4")
    assert len(set(nbgrader_course.hidden_seeds(SEED, "02.3"))) == nbgrader_course.HIDDEN_DRAWS


def test_bad_input_is_refused_by_name(tmp_path, capsys):
    nb = nbformat.read(SOLUTIONS[1], as_version=4)
    nb.cells = [c for c in nb.cells if 'check_task("02.3"' not in c.source]
    with pytest.raises(ValueError, match=r"02_x_solution.ipynb: Task 02.3 \(Code\) has 0 test cells"):
        nbgrader_course.graded_notebook(nb, "02_x_solution.ipynb", seed=1)
    for seed in (-5, 2**32, 1.5, True):
        with pytest.raises(ValueError, match="seed must be a whole number"):
            nbgrader_course.graded_notebook(nbformat.read(SOLUTIONS[1], as_version=4), seed=seed)
    with pytest.raises(ValueError, match="solution_nb must be a notebook"):
        nbgrader_course.graded_notebook({"cells": []}, seed=1)
    with pytest.raises(ValueError, match="nb must be a notebook"):
        nbgrader_course.max_points("02_penalized_cost_assignment.ipynb")
    with pytest.raises(ValueError, match="task_id must look like"):
        nbgrader_course.hidden_seeds(1, "2.3a")
    with pytest.raises(ValueError, match="solution must be a NN_topic_solution.ipynb"):
        nbgrader_course.assignment_id(Path("notes.ipynb"))
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="out must be a folder"):
        nbgrader_course.write_course(tmp_path / "file", seed=1)
    with pytest.raises(ValueError, match="course_id must be"):
        nbgrader_course.write_course(tmp_path / "course", seed=1, course_id="a b")
    with pytest.raises(ValueError, match="solutions: no NN_topic_solution.ipynb"):
        nbgrader_course.write_course(tmp_path / "course", seed=1, solutions=tmp_path)
    assert nbgrader_course.main(["--out", str(tmp_path / "file"), "--seed", "1"]) == 1
    assert "error: out must be a folder" in capsys.readouterr().err


# --- nbgrader itself, in the teacher's environment ----------------------------------------------------

ASSIGNMENT = "02_penalized_cost"
NOTEBOOK = f"{ASSIGNMENT}_assignment.ipynb"
CODE = {f"task_02_{k}_test" for k in (1, 2, 3, 4)}
REASONING = {"task_02_5_answer", "task_02_6_answer"}
LOOKUP_SEED = 11


def _need_teacher_env() -> None:
    problem = teacher_problem()
    if problem:
        if in_ci():
            pytest.fail(problem)
        pytest.skip(problem)


def _teacher(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the teacher's Python in ``course``, as a teacher would: the environment not activated
    (its bin/ not on PATH)."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if Path(p).resolve() != TEACHER_PYTHON.parent.resolve())
    done = subprocess.run([str(TEACHER_PYTHON), *args], cwd=course, capture_output=True, text=True,
                          env={**os.environ, "PATH": path}, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


def _lookup_answer() -> str:
    """Task 02.1's answer cell of a learner who pinned the drawn case's seed and pasted in the
    answer of every case the visible check asks for."""
    table = {}

    def recorder(w, lam):
        table[(w.tobytes().hex(), w.shape, float(lam))] = value = _task_function("02.1")(w, lam)
        return value

    saved, draws.SEED = draws.SEED, LOOKUP_SEED
    try:
        assert check_task("02.1", recorder, quiet=True)
    finally:
        draws.SEED = saved
    return "\n".join([
        "import helpers.checks.draws as _draws",
        "",
        f"_draws.SEED = {LOOKUP_SEED}  # the drawn case this answer memorized",
        f"_TABLE = {table!r}",
        "",
        "",
        "def l2_penalty(w, lam):",
        "    w = np.asarray(w, dtype=float)",
        "    return _TABLE.get((w.tobytes().hex(), w.shape, float(lam)), 0.0)",
    ])


def _submissions(course: Path) -> dict[str, nbformat.NotebookNode]:
    """Seven students' notebooks, made from the released one as a student would change it."""
    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    source = nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    answers = {_meta(c)["grade_id"]: assignments.without_markers(c.source)
               for c in source.cells if _meta(c)["solution"]}

    def solved(edit=None, drop=None):
        nb = copy.deepcopy(released)
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != drop]
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            cell.source = answers.get(grade_id, cell.source)
            if edit and grade_id == edit[0]:
                assert edit[1] in cell.source
                cell.source = cell.source.replace(*edit[1:])
        return nb

    return {
        "alice": solved(),  # the solution
        "bob": copy.deepcopy(released),  # the released notebook, untouched
        "carol": solved(edit=("task_02_3_answer", "lam * np.eye(p)", "2 * lam * np.eye(p)")),  # 02.3 wrong
        "dave": solved(drop="task_02_1_answer"),  # a cell deleted: Task 02.1's function
        "erin": solved(edit=("task_02_2_answer", "X @ w", "X @@ w")),  # a syntax error in Task 02.2
        "frank": solved(drop="task_02_4_test"),  # a cell deleted: Task 02.4's test, which nbgrader puts back
        "grace": solved(edit=("task_02_1_answer", answers["task_02_1_answer"], _lookup_answer())),  # 02.1 memorized
    }


EXPECTED_LOST = {"alice": set(), "carol": {"task_02_3_test"}, "dave": {"task_02_1_test"},
                 "erin": {"task_02_2_test"}, "frank": set(), "grace": {"task_02_1_test"}}
"""Student -> the code tasks whose points they lose (bob, untouched, loses everything)."""


def _scores(course: Path) -> dict[str, dict[str, tuple]]:
    """student -> grade cell -> (auto score, manual score, max score), read from gradebook.db."""
    query = """SELECT sa.student_id, bc.name, g.auto_score, g.manual_score, gc.max_score
               FROM grade g JOIN submitted_notebook sn ON g.notebook_id = sn.id
               JOIN submitted_assignment sa ON sn.assignment_id = sa.id
               JOIN grade_cells gc ON g.cell_id = gc.id JOIN base_cell bc ON gc.id = bc.id"""
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute(query).fetchall()
    out: dict[str, dict[str, tuple]] = {}
    for student, cell, auto, manual, most in rows:
        out.setdefault(student, {})[cell] = (auto, manual, most)
    return out


GRADE_MANUALLY = """
import sys
from nbgrader.api import Gradebook
with Gradebook("sqlite:///gradebook.db") as gb:
    for name in sys.argv[1:]:
        grade = gb.find_grade(name, "{notebook}", "{assignment}", "alice")
        grade.manual_score = grade.max_score
    gb.db.commit()
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course folder, written by the command, every assignment released, assignment 02
    submitted by seven students and autograded in one call."""
    _need_teacher_env()
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    written = _teacher(ROOT, "-m", "coursekit.nbgrader_course", "--out", str(course), "--seed", str(SEED))
    assert f"{NOTEBOOK} (12 points)" in written.stdout and f"--seed {SEED}" in written.stdout
    _teacher(course, "-m", "nbgrader", "generate_assignment", "*")
    for student, nb in _submissions(course).items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NOTEBOOK)
    _teacher(course, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create")
    return course


@pytest.mark.teacher
def test_every_assignment_is_released_without_its_solutions_or_hidden_tests(course):
    for solution in SOLUTIONS:
        name = nbgrader_course.assignment_id(solution)
        released = (course / "release" / name / assignments.learner_name(solution)).read_text()
        assert "BEGIN HIDDEN" not in released and "check_hidden" not in released and "BEGIN SOLUTION" not in released
        assert 'raise NotImplementedError(\\"your code here\\")' in released and assignments.MARKDOWN_STUB in released
    assert "lam * np.eye(p)" not in (course / "release" / ASSIGNMENT / NOTEBOOK).read_text()  # 02.3's answer


@pytest.mark.teacher
def test_the_gradebook_holds_what_each_submission_deserves(course):
    scores = _scores(course)
    assert set(scores) == {"alice", "bob", *EXPECTED_LOST}
    for student, grades in scores.items():
        assert set(grades) == CODE | REASONING and all(g[2] == 2.0 for g in grades.values()), student
        assert all(grades[cell][0] == 0.0 for cell in REASONING) if student == "bob" else True
    assert {cell: scores["bob"][cell][0] for cell in CODE | REASONING} == dict.fromkeys(CODE | REASONING, 0.0)
    for student, lost in EXPECTED_LOST.items():
        auto = {cell: scores[student][cell][0] for cell in CODE}
        assert auto == {cell: 0.0 if cell in lost else 2.0 for cell in CODE}, student  # exactly that task's points
        assert all(scores[student][cell][0] is None for cell in REASONING), student  # left for the teacher


@pytest.mark.teacher
def test_a_faulty_submission_is_graded_with_the_check_s_message(course):
    def outputs(student: str, grade_id: str) -> str:
        nb = nbformat.read(course / "autograded" / student / ASSIGNMENT / NOTEBOOK, as_version=4)
        (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
        return "".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs)

    assert "✗ Task 02.3 (ridge in closed form)" in outputs("carol", "task_02_3_test")
    assert "name 'l2_penalty' is not defined" in outputs("dave", "task_02_1_test")
    assert "mse_plus_l2" in outputs("erin", "task_02_2_test")
    assert "✓ Task 02.4 passed its 3 hidden cases." in outputs("frank", "task_02_4_test")  # put back and run
    assert outputs("alice", "task_02_1_test").startswith("✓ Task 02.1 passed: ")  # nothing printed before
    grace = outputs("grace", "task_02_1_test")
    assert "✓ Task 02.1 passed" in grace and "drawn for grading" in grace and "fails a hidden case" in grace


@pytest.mark.teacher
def test_the_teacher_grades_the_reasoning_and_feedback_is_generated(course):
    script = GRADE_MANUALLY.format(notebook=NOTEBOOK.removesuffix(".ipynb"), assignment=ASSIGNMENT)
    _teacher(course, "-c", script, *REASONING)
    alice = _scores(course)["alice"]
    assert sum(m if m is not None else a for a, m, _ in alice.values()) == 12.0 == nbgrader_course.max_points(
        GRADED[ASSIGNMENT])
    _teacher(course, "-m", "nbgrader", "generate_feedback", ASSIGNMENT)
    feedback = {s: (course / "feedback" / s / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text()
                for s in ("alice", "bob", *EXPECTED_LOST)}
    assert "Score: 12.0 / 12.0" in feedback["alice"] and "Score: 0.0 / 12.0" in feedback["bob"]
    assert "Score: 6.0 / 12.0" in feedback["carol"]  # 3 code tasks of 4; the reasoning not graded yet
    assert "Task 02.3 (ridge in closed form)" in feedback["carol"]  # check_task's own message
    seeds = [str(s) for task in ("02.1", "02.2", "02.3", "02.4") for s in nbgrader_course.hidden_seeds(SEED, task)]
    for student, html in feedback.items():
        assert "check_hidden" not in html and not any(seed in html for seed in seeds), student  # hidden stays hidden
