"""coursekit.assignments: learner notebooks are generated from the solutions (no drift), and the
copy into a learner's own folder never overwrites their work."""

from __future__ import annotations

import os
import re
import shutil
import stat

import nbformat
import pytest

from coursekit import assignments, notebook_files
from coursekit.assignments import BEGIN, END, MarkerError, copy_to, learner_notebook, replace_regions
from coursekit.lessons import lessons

COURSE = lessons()
WITH_ASSIGNMENT = [lesson for lesson in COURSE if lesson.solution is not None]


# --------------------------------------------------------------------------------------------
# Single source: solutions -> learner notebooks
# --------------------------------------------------------------------------------------------

def test_one_solution_and_one_learner_notebook_per_lesson_after_the_start():
    assert [lesson.number for lesson in WITH_ASSIGNMENT] == [lesson.number for lesson in COURSE[1:]]
    assert assignments.solution_paths() == [lesson.solution for lesson in WITH_ASSIGNMENT]
    assert assignments.learner_paths() == [lesson.assignment for lesson in WITH_ASSIGNMENT]


def test_committed_learner_notebooks_equal_what_generate_writes():
    stale = assignments.generate(check=True)
    assert stale == [], f"out of date: {stale}; run: python -m coursekit.assignments generate"


def test_generate_check_cli_reports_drift(tmp_path, capsys):
    for path in assignments.learner_paths():
        shutil.copy(path, tmp_path / path.name)
    assert assignments.generate(tmp_path, check=True) == []
    victim = tmp_path / "03_weight_decay_assignment.ipynb"
    victim.write_text(victim.read_text().replace("Task 03.2", "Task 03.9"))
    assert assignments.generate(tmp_path, check=True) == [victim.name]
    assert assignments.generate(tmp_path) == [victim.name]  # rewrites it
    assert assignments.generate(tmp_path, check=True) == []
    assert assignments.main(["generate", "--check"]) == 0
    assert "match their solutions" in capsys.readouterr().out


@pytest.mark.parametrize("lesson", WITH_ASSIGNMENT, ids=[lesson.number for lesson in WITH_ASSIGNMENT])
def test_solution_notebook_shape(lesson):
    nn = lesson.number
    nb = nbformat.read(lesson.solution, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    tasks = re.findall(r"^## Task (\d\d)\.(\d+) · (Code|Reasoning)", text, flags=re.MULTILINE)
    assert 3 <= len(tasks) <= 6
    assert [t.id for t in lesson.tasks] == [f"{a}.{b}" for a, b, _ in tasks], "every heading has a title"
    assert {lesson for lesson, _, _ in tasks} == {nn}
    assert [int(k) for _, k, _ in tasks] == list(range(1, len(tasks) + 1))  # numbered in order
    kinds = {kind for _, _, kind in tasks}
    assert kinds == {"Code", "Reasoning"}, "each assignment mixes code and reasoning"
    lines = [line.strip() for line in text.splitlines()]
    assert lines.count(BEGIN) == lines.count(END) == len(tasks)  # one answer per task
    assert nb.cells[0].source.startswith("# ")
    assert f"../../notebooks/{lesson.name}" in nb.cells[0].source
    assert "check_task" in nb.cells[0].source  # says how feedback works


@pytest.mark.parametrize("lesson", WITH_ASSIGNMENT, ids=[lesson.number for lesson in WITH_ASSIGNMENT])
def test_learner_notebook_has_stubs_not_answers(lesson):
    nn, path = lesson.number, lesson.assignment
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "SOLUTION" not in text and "solution notebook.**" not in text
    assert "# NBVAL_CHECK_OUTPUT" not in text
    code_tasks = re.findall(rf"^## Task ({nn}\.\d+) · Code", text, flags=re.MULTILINE)
    reasoning = re.findall(rf"^## Task ({nn}\.\d+) · Reasoning", text, flags=re.MULTILINE)
    for task in code_tasks:
        assert f'raise NotImplementedError("Task {task}: your code here")' in text
    assert [line.strip() for line in text.splitlines()].count(assignments.MARKDOWN_STUB) == len(reasoning)
    assert f"](../notebooks/{lesson.name})" in text  # links work from assignments/
    assert "](../../" not in text
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert notebook_files.is_clean(path)


def test_no_top_level_cell_calls_a_stub_directly():
    """Learner functions are only called through check_task or behind an is_done guard."""
    for path in assignments.learner_paths():
        nb = nbformat.read(path, as_version=4)
        names = set()
        for cell in nb.cells:
            if cell.cell_type == "code" and "NotImplementedError" in cell.source:
                names |= set(re.findall(r"^def (\w+)\(", cell.source, flags=re.MULTILINE))
        for cell in nb.cells:
            src = cell.source
            if cell.cell_type != "code" or "NotImplementedError" in src or "is_done(" in src:
                continue
            for name in names:
                assert not re.search(rf"\b{name}\(", src), f"{path.name}: {name}() called unguarded"


def test_replace_regions_keeps_indentation_and_the_rest():
    source = f"def f(x):\n    \"\"\"Doc.\"\"\"\n    {BEGIN}\n    y = 2 * x\n    return y\n    {END}\n"
    out, count = replace_regions(source, lambda indent: f"{indent}raise NotImplementedError", where="t")
    assert count == 1
    assert out == "def f(x):\n    \"\"\"Doc.\"\"\"\n    raise NotImplementedError\n"


@pytest.mark.parametrize("source", [f"{BEGIN}\nx", f"x\n{END}", f"{BEGIN}\n{BEGIN}\n{END}\n{END}"])
def test_unbalanced_markers_are_rejected(source):
    with pytest.raises(MarkerError):
        replace_regions(source, lambda indent: "", where="t")


def test_learner_notebook_transform():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Do it\n[lesson](../../notebooks/01_x.ipynb)"),
        nbformat.v4.new_markdown_cell("only for solutions"),
        nbformat.v4.new_markdown_cell("## Task 07.2 · Code: f"),
        nbformat.v4.new_code_cell(f"def f():\n    {BEGIN}\n    return 1\n    {END}"),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\ncheck_task(\"07.2\", f)"),
        nbformat.v4.new_markdown_cell(f"**Your answer:**\n\n{BEGIN}\nBecause.\n{END}"),
    ])
    nb.cells[1].metadata["tags"] = ["solution-only"]
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", text="✓\n")]
    out = learner_notebook(nb)
    sources = [c.source for c in out.cells]
    assert sources == ["# Do it\n[lesson](../notebooks/01_x.ipynb)", "## Task 07.2 · Code: f",
                       'def f():\n    raise NotImplementedError("Task 07.2: your code here")',
                       'check_task("07.2", f)', "**Your answer:**\n\n*Your answer here.*"]
    assert out.cells[3].outputs == []


def test_a_solution_region_outside_a_task_is_an_error():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"{BEGIN}\nx = 1\n{END}")])
    with pytest.raises(MarkerError, match="before any"):
        learner_notebook(nb)


# --------------------------------------------------------------------------------------------
# A learner's work is never lost
# --------------------------------------------------------------------------------------------

def _fake_course(folder, names):
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(f"original {name}\n")
    return folder


def test_copy_never_overwrites_and_adds_only_new_assignments(tmp_path):
    source = _fake_course(tmp_path / "assignments", ["01_a_assignment.ipynb", "02_b_assignment.ipynb"])
    dest = tmp_path / "my_work"
    copied, kept = copy_to(dest, source)
    assert (copied, kept) == (["01_a_assignment.ipynb", "02_b_assignment.ipynb"], [])

    mine = dest / "01_a_assignment.ipynb"
    mine.write_text("my answers\n")
    (source / "01_a_assignment.ipynb").write_text("a newer course version\n")
    copied, kept = copy_to(dest, source)
    assert copied == [] and kept == ["01_a_assignment.ipynb", "02_b_assignment.ipynb"]
    assert mine.read_text() == "my answers\n"

    _fake_course(source, ["03_c_assignment.ipynb"])  # the course gains an assignment
    before = {p.name: p.read_text() for p in dest.iterdir()}
    copied, kept = copy_to(dest, source)
    assert copied == ["03_c_assignment.ipynb"] and len(kept) == 2
    assert {p.name: p.read_text() for p in dest.iterdir() if p.name in before} == before
    assert (dest / "03_c_assignment.ipynb").read_text() == "original 03_c_assignment.ipynb\n"


def test_copy_cli_copies_the_real_assignments_and_keeps_existing(tmp_path, capsys):
    dest = tmp_path / "work"
    assert assignments.main(["copy", "--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert out.count("copied: ") == len(WITH_ASSIGNMENT) and "kept" in out.splitlines()[-1]
    mine = dest / "04_l1_vs_l2_assignment.ipynb"
    mine.write_text("{}")
    assert assignments.main(["copy", "--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert "copied: " not in out and out.count("kept (already there, not touched)") == len(WITH_ASSIGNMENT)
    assert mine.read_text() == "{}"


def test_copy_refuses_a_file_as_destination(tmp_path, capsys):
    target = tmp_path / "a_file"
    target.write_text("x")
    with pytest.raises(ValueError, match="dest"):
        copy_to(target)
    assert assignments.main(["copy", "--dest", str(target)]) == 1
    assert "error:" in capsys.readouterr().err


def test_my_work_is_ignored_by_git():
    assert "my_work/" in (assignments.ROOT / ".gitignore").read_text().splitlines()


def test_copies_of_read_only_originals_are_writable(tmp_path):
    """Issue 26: a read-only checkout (or a packaged install) gave r--r--r-- copies in my_work/, which
    JupyterLab's autosave skips. A copy gets the learner's usual mode for a new file."""
    source = tmp_path / "assignments"
    source.mkdir()
    original = source / "01_topic_assignment.ipynb"
    original.write_text("{}")
    original.chmod(0o444)
    old = os.umask(0o022)
    try:
        copied, _ = assignments.copy_to(tmp_path / "my_work", source)
    finally:
        os.umask(old)
    assert copied == ["01_topic_assignment.ipynb"]
    assert stat.S_IMODE((tmp_path / "my_work" / "01_topic_assignment.ipynb").stat().st_mode) == 0o644
