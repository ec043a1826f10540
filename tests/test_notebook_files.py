"""coursekit.notebook_files: what a clean notebook is, and tools/nbtools.py, its command line."""

from __future__ import annotations

import json

import nbformat

from coursekit import notebook_files
from coursekit.notebook_files import CHECK_MARK, clean, course_notebooks, dumps, is_clean, notebook_code

ROOT = notebook_files.ROOT


def _dirty_notebook() -> nbformat.NotebookNode:
    checked = nbformat.v4.new_code_cell(f"{CHECK_MARK}\nprint(1)", execution_count=7, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="1\n"),
        nbformat.v4.new_output("stream", name="stderr", text="a warning\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>", "image/png": "iVBOR"}),
    ])
    plain = nbformat.v4.new_code_cell("x = 1", execution_count=3,
                                      outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "1"})])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), checked, plain])
    nb.cells[2].metadata = {"tags": ["keep"], "scrolled": True}
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python", "version": "3.11.9"}, "widgets": {"state": {}},
                   "course": {"teaches": "t", "minutes": 5, "widgets": []}}
    return nb


def test_clean_keeps_checked_text_outputs_and_the_course_metadata_only():
    nb = clean(_dirty_notebook())
    assert set(nb.metadata) == {"course", "kernelspec", "language_info"}
    assert nb.metadata["language_info"] == {"name": "python"}
    assert nb.metadata["course"] == {"teaches": "t", "minutes": 5, "widgets": []}
    checked, plain = nb.cells[1], nb.cells[2]
    assert checked.execution_count == 1
    assert [o.get("text", o.get("data")) for o in checked.outputs] == ["1\n", {"text/plain": "<Figure>"}]
    assert plain.execution_count is None and plain.outputs == []
    assert plain.metadata == {"tags": ["keep"]}
    assert len({c.id for c in nb.cells}) == 3


def test_is_clean_and_the_text_of_a_clean_notebook(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(nbformat.writes(_dirty_notebook()))
    assert not is_clean(path)
    notebook_files.clean_file(path)
    assert is_clean(path)
    text = path.read_text()
    assert text.endswith("}\n") and text == dumps(nbformat.reads(text, as_version=4))


def test_course_notebooks_are_lessons_assignments_and_solutions(tmp_path):
    for rel in ("notebooks/00_a.ipynb", "assignments/01_b_assignment.ipynb",
                "assignments/solutions/01_b_solution.ipynb", "notebooks/.ipynb_checkpoints/00_a.ipynb",
                "my_work/01_b_assignment.ipynb"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    found = [p.relative_to(tmp_path).as_posix() for p in course_notebooks(tmp_path)]
    assert found == ["assignments/01_b_assignment.ipynb", "assignments/solutions/01_b_solution.ipynb",
                     "notebooks/00_a.ipynb"]
    assert ROOT / "notebooks" / "00_start_here.ipynb" in course_notebooks()


def test_notebook_code_joins_code_cells_in_either_json_form(tmp_path):
    path = tmp_path / "n.ipynb"
    cells = [{"cell_type": "code", "source": ["a = 1\n", "b = 2"]}, {"cell_type": "markdown", "source": "# no"},
             {"cell_type": "code", "source": "c = 3"}]
    path.write_text(json.dumps({"cells": cells}))
    assert notebook_code(path) == "a = 1\nb = 2\nc = 3"


def test_the_command_line_checks_and_cleans(tmp_path, capsys):
    """``python tools/nbtools.py clean [--check]`` (tools/nbtools.py only calls notebook_files.main)."""
    path = tmp_path / "n.ipynb"
    path.write_text(nbformat.writes(_dirty_notebook()))
    assert notebook_files.main(["clean", "--check", str(path)]) == 1
    assert f"not clean: {path} (run: python tools/nbtools.py clean {path})" in capsys.readouterr().out
    assert notebook_files.main(["clean", str(path)]) == 0
    assert notebook_files.main(["clean", "--check", str(path)]) == 0
    assert "from coursekit.notebook_files import main" in (ROOT / "tools" / "nbtools.py").read_text()
