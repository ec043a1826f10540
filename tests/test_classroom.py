"""A class's server without course.py: repo2docker's files (binder/), each student's my_work/
(coursekit.classroom, what binder/start runs), the teacher's environment beside the learner's, and
course updates by ``git pull`` or an nbgitpuller link, which the read-only design keeps free of
conflicts."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from test_lab_server import run
from tornado.web import HTTPError
from traitlets.config import Config

from coursekit import assignments, classroom
from coursekit.hub_install import TEACHER_PYTHON, teacher_problem
from coursekit.lab_browser import in_ci
from coursekit.lab_server import CourseContentsManager

ROOT = Path(__file__).resolve().parent.parent
PREFERRED = re.search(r"^PREFERRED = \((\d+), (\d+)\)", (ROOT / "course.py").read_text(), re.MULTILINE)
BINDER = ROOT / "binder"
LESSON = "notebooks/01_overfitting.ipynb"


# ------------------------------------------------------------------------------------------------
# repo2docker's conventions
# ------------------------------------------------------------------------------------------------

def test_binder_installs_exactly_the_course_s_pinned_requirements():
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    assert [line for line in lines if line and not line.startswith("#")] == ["-r ../requirements.txt"]
    version = re.fullmatch(r"python-(\d+)\.(\d+)\s*", (BINDER / "runtime.txt").read_text())
    assert version and version.groups() == PREFERRED.groups()


def test_binder_scripts_are_executable_and_start_hands_over_to_the_server(tmp_path):
    for name in ("postBuild", "start"):
        assert os.access(BINDER / name, os.X_OK), f"binder/{name} must be executable (repo2docker runs it)"
    assert "-e ." in (BINDER / "postBuild").read_text() and "lab_server enable" in (BINDER / "postBuild").read_text()
    # start prepares the home, then execs its arguments, even when preparing fails.
    env = {**os.environ, "HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run([str(BINDER / "start"), "echo", "server started"], env=env, capture_output=True,
                          text=True, cwd=tmp_path, check=True)
    assert done.stdout.strip().endswith("server started")
    broken = {**env, "PATH": f"{tmp_path}:/usr/bin:/bin"}  # a python that fails
    (tmp_path / "python").write_text("#!/bin/sh\nexit 3\n")
    (tmp_path / "python").chmod(0o755)
    done = subprocess.run([str(BINDER / "start"), "echo", "server started"], env=broken, capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "server started"
    assert "could not prepare my_work/" in done.stderr


# ------------------------------------------------------------------------------------------------
# Each student's folder
# ------------------------------------------------------------------------------------------------

def _mini_course(root: Path) -> Path:
    for rel in ("notebooks/01_lesson.ipynb", "assignments/01_lesson_assignment.ipynb"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), root / rel)
    return root


def test_a_shared_course_gets_links_and_the_student_s_own_my_work(tmp_path):
    shared, home = _mini_course(tmp_path / "srv" / "course"), tmp_path / "home"
    home.mkdir()
    lines = classroom.start(home, shared)
    assert (home / "notebooks").resolve() == shared / "notebooks"
    assert (home / "assignments").resolve() == shared / "assignments"
    assert sorted(p.name for p in (home / "my_work").iterdir()) == ["01_lesson_assignment.ipynb"]
    assert lines[-1].startswith("my_work: 1 copied, 0 kept")


def test_start_never_overwrites_the_student_s_work_or_their_own_files(tmp_path):
    shared, home = _mini_course(tmp_path / "srv" / "course"), tmp_path / "home"
    (home / "my_work").mkdir(parents=True)
    (home / "my_work" / "01_lesson_assignment.ipynb").write_text("my answers")
    (home / "notebooks").mkdir()  # a folder of the student's own that happens to be called so
    (home / "notebooks" / "mine.txt").write_text("mine")
    lines = classroom.start(home, shared)
    assert (home / "my_work" / "01_lesson_assignment.ipynb").read_text() == "my answers"
    assert not (home / "notebooks").is_symlink() and (home / "notebooks" / "mine.txt").read_text() == "mine"
    assert any(line.startswith("kept:") for line in lines) and lines[-1].startswith("my_work: 0 copied, 1 kept")
    assert classroom.start(home, shared) == classroom.start(home, shared)  # a second start changes nothing


def test_a_course_inside_the_home_keeps_my_work_in_the_course_folder(tmp_path):
    home = tmp_path / "home"
    shared = _mini_course(home / "course")  # Binder: the repository is the home (or inside it)
    classroom.start(home, shared)
    assert (shared / "my_work" / "01_lesson_assignment.ipynb").is_file()
    assert not (home / "notebooks").exists() and not (home / "my_work").exists()


def test_start_names_what_it_cannot_use(tmp_path):
    with pytest.raises(ValueError, match="home"):
        classroom.prepare_home(tmp_path / "missing", _mini_course(tmp_path / "c"))
    with pytest.raises(ValueError, match="course"):
        classroom.prepare_home(tmp_path, tmp_path / "empty")
    (tmp_path / "h").mkdir()
    assert classroom.main(["start", "--home", str(tmp_path / "h")]) == 0


# ------------------------------------------------------------------------------------------------
# The teacher's environment
# ------------------------------------------------------------------------------------------------

def test_the_learner_s_environment_holds_none_of_the_teacher_s_extras():
    for name in ("jupyterhub", "nbgrader", "nbgitpuller"):
        assert importlib.util.find_spec(name) is None, f"{name} is in the learner's .venv"


def _teacher(code: str) -> str:
    problem = teacher_problem()
    if problem:
        if in_ci():
            pytest.fail(problem)
        pytest.skip(problem)
    return subprocess.run([str(TEACHER_PYTHON), "-c", code], capture_output=True, text=True, check=True).stdout


@pytest.mark.teacher
def test_the_teacher_s_environment_shares_the_learner_s_packages_file_for_file():
    """Where each package is found (find_spec: located, not imported, so TensorFlow does not load
    twice for this): the learner's packages are .venv's files, the teacher's extras its own."""
    shared = ("numpy", "keras", "jupyterlab", "helpers")
    found = json.loads(_teacher("import json, importlib.util as u; print(json.dumps("
                                f"{{m: u.find_spec(m).origin for m in {(*shared, 'nbgrader', 'jupyterhub')!r}}}))"))
    assert {m: found[m] for m in shared} == {m: importlib.util.find_spec(m).origin for m in shared}
    assert found["helpers"] == str(Path(assignments.ROOT / "helpers" / "__init__.py"))
    teacher_site = Path(_teacher("import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    own = {p.name.split("-")[0].lower() for p in teacher_site.glob("*.dist-info")}
    assert {"jupyterhub", "nbgrader", "nbgitpuller"} <= own and not own & {"numpy", "keras", "jupyterlab"}


# ------------------------------------------------------------------------------------------------
# Course updates: git pull and nbgitpuller
# ------------------------------------------------------------------------------------------------

def _git(folder: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True,
                          env=env).stdout


@pytest.fixture
def upstream_and_student(tmp_path):
    """The teacher's repository (a clone of this one's HEAD) and a student's clone of it, in which
    the student worked through JupyterLab's contents manager as the course runs it: opened and
    'saved' a lesson (refused), and answered an assignment in my_work/."""
    upstream, student = tmp_path / "upstream", tmp_path / "student"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(upstream)], check=True)
    _git(upstream, "checkout", "-q", "-B", "main")
    subprocess.run(["git", "clone", "-q", str(upstream), str(student)], check=True)
    classroom.start(student, student)  # binder/start: the student's copies, in the course folder
    cm = CourseContentsManager(root_dir=str(student), course_root=str(student), delete_to_trash=False,
                               config=Config({"NotebookNotary": {"db_file": ":memory:"}}))
    lesson = run(cm.get(LESSON))
    lesson["content"].cells.append(nbformat.v4.new_markdown_cell("my note"))
    with pytest.raises(HTTPError):
        run(cm.save({"type": "notebook", "format": "json", "content": lesson["content"]}, LESSON))
    work = "my_work/02_penalized_cost_assignment.ipynb"
    mine = run(cm.get(work))
    mine["content"].cells.append(nbformat.v4.new_markdown_cell("my answer"))
    run(cm.save({"type": "notebook", "format": "json", "content": mine["content"]}, work))
    # The teacher publishes a fix to a lesson and a new file.
    fixed = nbformat.read(upstream / LESSON, as_version=4)
    fixed.cells[0].source += "\n\n(Corrected in this update.)"
    nbformat.write(fixed, upstream / LESSON)
    (upstream / "notebooks" / "NEWS.md").write_text("What changed this week.\n")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "a fix")
    return upstream, student, (student / work).read_bytes()


def test_git_pull_after_a_session_in_jupyterlab_is_a_fast_forward(upstream_and_student):
    upstream, student, work = upstream_and_student
    assert _git(student, "status", "--porcelain") == ""  # my_work/ is ignored; nothing shipped changed
    _git(student, "pull", "--ff-only", "-q")
    assert (student / LESSON).read_bytes() == (upstream / LESSON).read_bytes()
    assert (student / "notebooks" / "NEWS.md").is_file()
    assert (student / "my_work" / "02_penalized_cost_assignment.ipynb").read_bytes() == work


@pytest.mark.teacher
def test_an_nbgitpuller_link_updates_the_course_and_keeps_the_student_s_work(upstream_and_student):
    upstream, student, work = upstream_and_student
    out = _teacher("from nbgitpuller.pull import GitPuller\n"
                   f"for line in GitPuller({str(upstream)!r}, {str(student)!r}, branch='main').pull():\n"
                   "    print(line, end='')")
    assert (student / LESSON).read_bytes() == (upstream / LESSON).read_bytes(), out
    assert (student / "my_work" / "02_penalized_cost_assignment.ipynb").read_bytes() == work
    assert _git(student, "rev-parse", "HEAD") == _git(upstream, "rev-parse", "HEAD")
