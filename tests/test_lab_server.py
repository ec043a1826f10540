"""coursekit.lab_server: the course's notebooks are read-only in JupyterLab, maintainer files hidden.

No browser here (tests/test_browser.py proves in Chromium that autosave skips the lessons and saves
my_work/). In-process tests of CourseContentsManager on a temporary course; the Jupyter config
that `python -m coursekit.lab_server enable` writes (course.py's set-up runs it); and a real JupyterLab
started from this environment, over its REST API, on a temporary copy of the course.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import platform
import subprocess
import sys
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from tornado.web import HTTPError
from traitlets.config import Config, Configurable

from coursekit import lab_browser as bs
from coursekit import lab_server
from coursekit.lab_server import CourseContentsManager

REPO = Path(__file__).resolve().parent.parent
REENABLE = f"{sys.executable} -m coursekit.lab_server enable  (or: python3 course.py setup)"

COURSE_NOTEBOOKS = (
    "notebooks/00_start_here.ipynb",
    "notebooks/01_lesson.ipynb",
    "assignments/01_lesson_assignment.ipynb",
    "assignments/solutions/01_lesson_solution.ipynb",
)
CLUTTER = ("tests", "bench", "tools", "build", "artifacts", "site", "conftest.py", "regularization_course.egg-info")
LEARNER_VISIBLE = ("notebooks", "assignments", "my_work", "helpers", "data", "README.md", "course.py")


# One worker thread for every coroutine of this file: the browser test's session-wide Playwright
# keeps an event loop running in the main thread, where asyncio.run() refuses; and a manager's
# sqlite connection (notebook signatures) may only be used by the thread that opened it.
_WORKER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="contents")


def run(coro):
    """Run ``coro`` to completion on the file's worker thread."""
    return _WORKER.submit(asyncio.run, coro).result()


def _write_nb(path: Path, source: str = "x = 1") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nbformat.write(nb, path)


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every course notebook under root's notebooks/ and assignments/, by relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for folder in ("notebooks", "assignments")
        for p in sorted((root / folder).rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in p.parts
    }


@pytest.fixture(autouse=True)
def private_jupyter_data(tmp_path, monkeypatch):
    """Reading or saving a notebook signs / checks it in the notary's database under the Jupyter
    data folder: keep that out of the user's home."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))


@pytest.fixture
def course(tmp_path) -> Path:
    """A small course: lessons, assignments, solutions, a learner's my_work/ and maintainer files."""
    root = tmp_path / "course"
    for rel in COURSE_NOTEBOOKS:
        _write_nb(root / rel)
    _write_nb(root / "my_work" / "mine.ipynb", "y = 2")
    (root / "my_work" / "tests").mkdir()  # a learner's own folder called "tests" stays visible
    (root / "notebooks" / "notes.txt").write_text("not a notebook\n")
    for name in CLUTTER:
        if "." in name and not name.endswith(".egg-info"):
            (root / name).write_text("# maintainer file\n")
        else:
            (root / name).mkdir()
    for name in ("helpers", "data"):
        (root / name).mkdir()
    for name in ("README.md", "course.py", "assignments/README.md", "helpers/linear.py", "data/moons.csv"):
        (root / name).write_text("x\n")
    return root


def manager(root_dir: Path, course_root: Path | str | None = None, **kw) -> CourseContentsManager:
    """A manager for a temporary course; deletes unlink (no trash folder in the user's home), and
    notebook signatures stay in memory (not in the user's sqlite file, which another Jupyter
    process may hold locked)."""
    config = Config({"NotebookNotary": {"db_file": ":memory:"}})
    return CourseContentsManager(root_dir=str(root_dir), course_root=str(course_root or root_dir),
                                 delete_to_trash=False, config=config, **kw)  # fmt: skip


def refused(coro) -> HTTPError:
    with pytest.raises(HTTPError) as info:
        run(coro)
    assert info.value.status_code == 403, info.value
    return info.value


# ----------------------------------------------------------------------------- import, defaults
def test_importing_helpers_does_not_import_jupyter_server():
    code = "import sys, helpers; print('jupyter_server' in sys.modules, 'coursekit.lab_server' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr


def test_default_course_root_is_this_repository():
    """Read-only checks on the real repository (nothing here can write)."""
    cm = CourseContentsManager(root_dir=str(REPO))
    assert Path(cm.course_root).resolve() == REPO
    assert cm.read_only_course and list(cm.read_only_dirs) == ["notebooks", "assignments", "helpers", "coursekit",
                                                                "data"]
    model = run(cm.get("notebooks/00_start_here.ipynb", content=False))
    assert model["writable"] is False
    for shipped in ("README.md", "assignments/README.md", "helpers/linear.py", "data/SHA256SUMS", "course.py"):
        assert cm.is_writable(shipped) is False, shipped  # tracked by git: the course ships it


# ----------------------------------------------------------------------------- course notebooks
@pytest.mark.parametrize("rel", COURSE_NOTEBOOKS)
def test_course_notebooks_report_writable_false(course, rel):
    cm = manager(course)
    assert run(cm.get(rel, content=False))["writable"] is False
    assert run(cm.get(rel))["writable"] is False  # the model JupyterLab opens (canSave = writable)
    folder = rel.rsplit("/", 1)[0]
    listed = {m["path"]: m["writable"] for m in run(cm.get(folder))["content"]}
    assert listed[rel] is False


def test_the_learners_files_stay_writable_and_every_shipped_file_is_read_only(course):
    cm = manager(course)
    for rel in ("my_work/mine.ipynb", "my_work", "notebooks"):
        assert run(cm.get(rel, content=False))["writable"] is True, rel
    for rel in ("README.md", "course.py", "notebooks/notes.txt", "assignments/README.md", "helpers/linear.py",
                "data/moons.csv"):
        assert run(cm.get(rel, content=False))["writable"] is False, rel


@pytest.mark.parametrize("rel", COURSE_NOTEBOOKS)
def test_saving_a_course_notebook_is_refused_with_a_way_out(course, rel):
    cm = manager(course)
    before = (course / rel).read_bytes()
    model = run(cm.get(rel))
    model["content"]["metadata"]["edited"] = True
    err = refused(cm.save(model, rel))
    for hint in ("read-only", "Save Notebook As", "my_work/", "python3 course.py my-work", "git pull"):
        assert hint in err.log_message, err.log_message
    assert (course / rel).read_bytes() == before


def test_no_other_request_writes_a_course_notebook(course):
    cm = manager(course)
    before = _snapshot(course)
    lesson = "notebooks/01_lesson.ipynb"
    refused(cm.create_checkpoint(lesson))  # it would write notebooks/.ipynb_checkpoints/
    refused(cm.restore_checkpoint("checkpoint", lesson))
    refused(cm.rename(lesson, "notebooks/renamed.ipynb"))
    refused(cm.rename(lesson, "my_work/moved.ipynb"))
    refused(cm.rename("my_work/mine.ipynb", "notebooks/mine.ipynb"))  # would become read-only
    refused(cm.delete(lesson))
    refused(cm.delete("assignments/solutions/01_lesson_solution.ipynb"))
    for folder in ("notebooks", "assignments", "assignments/solutions"):
        refused(cm.delete(folder))
        refused(cm.rename(folder, folder + "_old"))
    refused(cm.new_untitled("notebooks", type="notebook"))  # launcher's "new notebook" in notebooks/
    refused(cm.copy(lesson))  # file browser's "Duplicate" next to the lesson
    refused(cm.new(path="assignments/new.ipynb"))  # upload
    assert _snapshot(course) == before
    assert not (course / "my_work" / "moved.ipynb").exists()


def test_learner_notebooks_behave_as_usual(course):
    cm = manager(course)
    mine = run(cm.get("my_work/mine.ipynb"))
    mine["content"]["cells"][0]["source"] = "y = 3"
    assert run(cm.save(mine, "my_work/mine.ipynb"))["writable"] is True
    assert "y = 3" in (course / "my_work" / "mine.ipynb").read_text()
    copied = run(cm.copy("notebooks/01_lesson.ipynb", "my_work"))  # copying a lesson out is fine
    assert copied["path"] == "my_work/01_lesson.ipynb" and copied["writable"] is True
    run(cm.save(run(cm.get(copied["path"])), copied["path"]))
    untitled = run(cm.new_untitled("", type="notebook"))
    assert untitled["path"] == "Untitled.ipynb" and untitled["writable"] is True
    run(cm.rename("Untitled.ipynb", "my_work/later.ipynb"))
    run(cm.delete("my_work/later.ipynb"))
    run(cm.save({"type": "directory"}, "my_work/project"))
    run(cm.save({"type": "file", "format": "text", "content": "notes\n"}, "my_work/project/notes.txt"))
    run(cm.create_checkpoint("my_work/mine.ipynb"))


def _kernel_info_language():
    """The language_info this environment's python3 kernel reports (what JupyterLab writes on start)."""
    from ipykernel.ipkernel import IPythonKernel

    return json.loads(json.dumps(IPythonKernel.language_info))


def test_a_notebook_is_served_as_its_kernel_will_report_it(course):
    """The lessons keep a machine-neutral kernelspec and language_info (coursekit.notebook_files);
    JupyterLab replaced them with the kernel's the moment it started and marked every lesson modified
    on opening (● on the tab, "Save changes ... before closing?" after Save As). Served with the
    kernel's, opening a lesson changes nothing. The file itself is not touched."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    lesson = course / "notebooks" / "01_lesson.ipynb"
    for path in (lesson, course / "my_work" / "mine.ipynb"):  # as the course ships its notebooks
        nb = nbformat.read(path, as_version=4)
        nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                       "language_info": {"name": "python"}, "course": {"minutes": 5}}
        nbformat.write(nb, path)
    before = lesson.read_bytes()
    cm = manager(course)
    for rel in ("notebooks/01_lesson.ipynb", "my_work/mine.ipynb"):
        served = run(cm.get(rel))["content"]["metadata"]
        assert served["kernelspec"] == {"name": "python3", "display_name": spec.display_name,
                                        "language": spec.language}, rel
        assert served["language_info"] == _kernel_info_language(), rel
        assert served["language_info"]["version"] == platform.python_version(), rel
    assert run(cm.get("notebooks/01_lesson.ipynb"))["content"]["metadata"]["course"] == {"minutes": 5}
    assert lesson.read_bytes() == before


def test_a_notebook_for_another_kernel_is_served_as_it_is(course):
    path = course / "my_work" / "other.ipynb"
    metadata = {"kernelspec": {"name": "no-such-kernel", "display_name": "Other", "language": "other"},
                "language_info": {"name": "other"}}
    nbformat.write(nbformat.v4.new_notebook(metadata=metadata), path)
    assert run(manager(course).get("my_work/other.ipynb"))["content"]["metadata"] == metadata
    nbformat.write(nbformat.v4.new_notebook(), path)  # no kernel named: nothing to fill in
    assert run(manager(course).get("my_work/other.ipynb"))["content"]["metadata"] == {}


def _widget_output(model_id: str, picture: bool) -> dict:
    """A widget's output as JupyterLab saves it: its view, and for an ipympl figure its picture."""
    data = {lab_server.WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0},
            "text/plain": "Canvas(toolbar=...)" if picture else "VBox(children=(IntSlider(...),))"}
    if picture:
        data.update({"image/png": "iVBORw0KGgo=", "text/html": "<div>Figure</div><img src='data:...'>"})
    return nbformat.v4.new_output("display_data", data=data)


def _copy_with_widgets() -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell("figure", outputs=[_widget_output("fig", picture=True)]),
             nbformat.v4.new_code_cell("controls", outputs=[_widget_output("ui", picture=False),
                                                            nbformat.v4.new_output("stream", text="hi\n")]),
             nbformat.v4.new_code_cell("kept", outputs=[_widget_output("kept", picture=False)])]
    state = {lab_server.WIDGET_STATE: {"state": {"kept": {"model_name": "IntSliderModel"}},
                                       "version_major": 2, "version_minor": 0}}
    return nbformat.v4.new_notebook(cells=cells, metadata={"widgets": state})


def test_widget_views_without_their_models_become_their_picture_and_a_note():
    """A widget's view in a saved notebook needs its model, which lives in the kernel (JupyterLab saves
    no widget state by default): in a copy made with Save As it read "Error displaying widget: model
    not found". What can be shown stays: the figure's picture, and a note to run the cell again."""
    nb = json.loads(nbformat.writes(_copy_with_widgets()))
    assert lab_server.without_dead_widget_views(nb) == 2
    figure, controls, kept = (cell["outputs"] for cell in nb["cells"])
    assert figure[0]["data"] == {"image/png": "iVBORw0KGgo=", "text/plain": lab_server.RERUN_NOTE}
    assert controls[0]["data"] == {"text/plain": lab_server.RERUN_NOTE}
    assert controls[1]["output_type"] == "stream"  # other outputs stay as they are
    assert lab_server.WIDGET_VIEW in kept[0]["data"]  # its model is stored in the notebook: it shows
    assert "run this cell again" in lab_server.RERUN_NOTE
    assert lab_server.without_dead_widget_views(nb) == 0
    nbformat.validate(nbformat.from_dict(nb))


def test_a_notebook_without_a_kernel_is_served_without_the_views_it_cannot_show(course):
    path = course / "my_work" / "01_lesson.ipynb"
    nbformat.write(_copy_with_widgets(), path)
    before = path.read_bytes()
    cm = manager(course)
    served = run(cm.get("my_work/01_lesson.ipynb"))["content"]
    assert [list(c["outputs"][0]["data"]) for c in served["cells"]] == [
        ["image/png", "text/plain"], ["text/plain"], [lab_server.WIDGET_VIEW, "text/plain"]]
    assert path.read_bytes() == before  # the file changes only when the learner saves it

    class Sessions:  # the notebook's session and its kernel, as jupyter_server's session manager says
        kernel = "k1"

        async def session_exists(self, path):
            return path == "my_work/01_lesson.ipynb"

        async def get_session(self, path):
            return {"path": path, "kernel": {"id": self.kernel}}

    class Server(Configurable):
        session_manager = Sessions()

    cm.parent = Server()
    served = run(cm.get("my_work/01_lesson.ipynb"))["content"]  # a new session: a kernel without the widgets
    assert sum(lab_server.WIDGET_VIEW in c["outputs"][0]["data"] for c in served["cells"]) == 1
    run(cm.save({"type": "notebook", "content": _copy_with_widgets()}, "my_work/01_lesson.ipynb"))
    served = run(cm.get("my_work/01_lesson.ipynb"))["content"]  # the page reloaded: its kernel restores them
    assert all(lab_server.WIDGET_VIEW in c["outputs"][0]["data"] for c in served["cells"])
    Server.session_manager.kernel = "k2"  # another kernel since (the copy opened in its own session)
    served = run(cm.get("my_work/01_lesson.ipynb"))["content"]
    assert sum(lab_server.WIDGET_VIEW in c["outputs"][0]["data"] for c in served["cells"]) == 1


def test_read_only_course_false_is_the_default_manager(course):
    cm = manager(course, read_only_course=False)
    rel = "notebooks/01_lesson.ipynb"
    model = run(cm.get(rel))
    assert model["writable"] is True
    model["content"]["metadata"]["edited"] = True
    run(cm.save(model, rel))
    assert "edited" in (course / rel).read_text()


# ----------------------------------------------------------------------------- issue 26: by identity
TEXT = {"type": "file", "format": "text", "content": "changed\n"}


def test_every_shipped_file_is_read_only_not_only_notebooks(course):
    """Before: PUT of assignments/README.md was 200 (the file changed), DELETE 204, renaming it out 200."""
    cm = manager(course)
    for rel in ("assignments/README.md", "helpers/linear.py", "data/moons.csv", "README.md"):
        before = (course / rel).read_bytes()
        refused(cm.save(TEXT, rel))
        refused(cm.delete(rel))
        refused(cm.rename(rel, "my_work/" + rel.replace("/", "_")))
        assert (course / rel).read_bytes() == before, rel


def test_nothing_new_in_the_read_only_folders(course):
    """Before: new files and folders in notebooks/ and assignments/ were 201; a lesson's checkpoint
    went into notebooks/.ipynb_checkpoints/."""
    cm = manager(course)
    for folder in ("notebooks", "assignments", "assignments/solutions", "helpers", "data"):
        refused(cm.save(TEXT, f"{folder}/new.txt"))
        refused(cm.save({"type": "directory"}, f"{folder}/new_folder"))
        refused(cm.new_untitled(folder, type="file"))
        assert not (course / folder / "new.txt").exists() and not (course / folder / "new_folder").exists()
    refused(cm.create_checkpoint("notebooks/01_lesson.ipynb"))
    assert not (course / "notebooks" / ".ipynb_checkpoints").exists()


def test_moving_into_a_read_only_folder_is_refused_so_nothing_is_trapped_there(course):
    """Before: PATCH my_work/proj -> notebooks/proj succeeded, and then every save, move back or delete
    of it was refused: a one-way trap. Renaming my_work itself into notebooks/ did the same."""
    cm = manager(course)
    run(cm.save({"type": "directory"}, "my_work/proj"))
    run(cm.save(TEXT, "my_work/proj/notes.txt"))
    refused(cm.rename("my_work/proj", "notebooks/proj"))
    refused(cm.rename("my_work", "notebooks/my_work"))
    refused(cm.rename("my_work/mine.ipynb", "assignments/mine.ipynb"))
    run(cm.rename("my_work/proj", "my_work/project"))  # what the learner made stays theirs to move
    run(cm.save(TEXT, "my_work/project/notes.txt"))
    run(cm.delete("my_work/project/notes.txt"))
    run(cm.delete("my_work/project"))


def test_a_learner_file_found_inside_a_read_only_folder_can_leave_it(tmp_path):
    """A file the course does not ship (made there by other means, in a git checkout: untracked) is
    not trapped: it can be moved out or deleted, while the lesson beside it cannot."""
    root = tmp_path / "course"
    _write_nb(root / "notebooks" / "01_lesson.ipynb")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    (root / "my_work").mkdir()
    _write_nb(root / "notebooks" / "mine.ipynb", "y = 1")  # untracked
    cm = manager(root)
    assert cm.is_writable("notebooks/mine.ipynb") is True
    assert cm.is_writable("notebooks/01_lesson.ipynb") is False
    run(cm.rename("notebooks/mine.ipynb", "my_work/mine.ipynb"))
    refused(cm.rename("notebooks/01_lesson.ipynb", "my_work/01_lesson.ipynb"))


def test_shipped_files_follow_git_when_the_course_is_updated(tmp_path):
    root = tmp_path / "course"
    _write_nb(root / "notebooks" / "01_lesson.ipynb")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    cm = manager(root)
    assert cm.is_writable("notebooks/01_lesson.ipynb") is False
    (root / "README.md").write_text("new in this version\n")  # what a pull brings: a new tracked file
    assert cm.is_writable("README.md") is True
    subprocess.run(["git", "-C", str(root), "add", "README.md"], check=True)
    cm._shipped().checked -= 10  # as if the check interval had passed
    assert cm.is_writable("README.md") is False


@pytest.mark.parametrize("spelling", ["my_work/../notebooks/01_lesson.ipynb", "my_work/link.ipynb",
                                      "my_work/hardlink.ipynb", "my_work/linked_folder/01_lesson.ipynb"])
def test_a_lesson_is_refused_however_its_path_is_spelled(course, spelling):
    (course / "my_work" / "link.ipynb").symlink_to(course / "notebooks" / "01_lesson.ipynb")
    os.link(course / "notebooks" / "01_lesson.ipynb", course / "my_work" / "hardlink.ipynb")
    (course / "my_work" / "linked_folder").symlink_to(course / "notebooks")
    cm = manager(course)
    before = (course / "notebooks" / "01_lesson.ipynb").read_bytes()
    assert cm.is_writable(spelling) is False
    refused(cm.save(run(cm.get(spelling)), spelling))
    refused(cm.delete(spelling))
    assert (course / "notebooks" / "01_lesson.ipynb").read_bytes() == before


def test_on_a_case_insensitive_file_system_another_spelling_is_the_lesson(course, tmp_path):
    """The default file systems of macOS and Windows ignore case: before, is_course_notebook compared
    path strings, so a PUT to NOTEBOOKS/01_lesson.ipynb would have overwritten the lesson. Here on a
    real case-insensitive view of the course (FUSE; this kernel has no case-folding ext4 or tmpfs)."""
    import casefold_fs

    problem = casefold_fs.fuse_problem()
    if problem:
        if bs.in_ci():
            pytest.fail(f"cannot mount a case-insensitive file system: {problem}")
        pytest.skip(problem)
    with casefold_fs.mounted(course, tmp_path / "mnt") as view:
        cm = manager(view)
        before = (course / "notebooks" / "01_lesson.ipynb").read_bytes()
        for spelling in ("NOTEBOOKS/01_lesson.ipynb", "notebooks/01_LESSON.ipynb", "Notebooks/01_Lesson.IPYNB"):
            assert (view / spelling).read_bytes() == before, "the view is not case-insensitive"
            assert cm.is_writable(spelling) is False, spelling
            refused(cm.save(run(cm.get(spelling)), spelling))
            refused(cm.delete(spelling))
        refused(cm.save(TEXT, "ASSIGNMENTS/new.txt"))  # a new file in a read-only folder, spelled otherwise
        refused(cm.rename("my_work/mine.ipynb", "NoteBooks/mine.ipynb"))
        assert (course / "notebooks" / "01_lesson.ipynb").read_bytes() == before
        assert not (course / "assignments" / "new.txt").exists()


# ----------------------------------------------------------------------------- the file browser
def test_maintainer_clutter_is_hidden_only_at_the_course_top(course):
    cm = manager(course)
    names = {m["name"] for m in run(cm.get(""))["content"]}
    assert not names & set(CLUTTER), names & set(CLUTTER)
    assert names >= set(LEARNER_VISIBLE), set(LEARNER_VISIBLE) - names
    assert "tests" in {m["name"] for m in run(cm.get("my_work"))["content"]}
    assert run(cm.get("tests"))["type"] == "directory"  # hidden from the listing, still reachable


# ----------------------------------------------------------------------------- how paths compare
def test_server_root_above_the_course(course):
    cm = manager(course.parent, course_root=course)
    assert cm.is_writable("course/notebooks/00_start_here.ipynb") is False
    assert cm.is_writable("course/my_work/mine.ipynb") is True
    assert not {m["name"] for m in run(cm.get("course"))["content"]} & set(CLUTTER)
    refused(cm.delete("course"))  # would take the lessons with it
    refused(cm.rename("course", "course_old"))


def test_server_root_inside_the_course(course):
    cm = manager(course / "notebooks", course_root=course)
    assert cm.is_writable("00_start_here.ipynb") is False
    assert cm.is_writable("notes.txt") is False  # shipped too
    refused(cm.new_untitled("", type="notebook"))


def test_symlinked_course_and_served_copy(course, tmp_path):
    """The browser test's layout: a served copy with notebooks/ copied and assignments/ a symlink
    to the real one; and a course root given through a symlink."""
    served = tmp_path / "served"
    served.mkdir()
    _write_nb(served / "notebooks" / "00_start_here.ipynb")
    (served / "assignments").symlink_to(course / "assignments")
    (served / "tests").symlink_to(course / "tests")
    cm = manager(served, course_root=served)
    assert cm.is_writable("notebooks/00_start_here.ipynb") is False
    assert cm.is_writable("assignments/solutions/01_lesson_solution.ipynb") is False
    assert "tests" not in {m["name"] for m in run(cm.get(""))["content"]}
    link = tmp_path / "link-to-course"
    link.symlink_to(course)
    for root_dir, course_root in ((course, link), (link, course)):
        cm = manager(root_dir, course_root=course_root)
        assert cm.is_writable("notebooks/01_lesson.ipynb") is False, (root_dir, course_root)
        assert cm.is_writable("my_work/mine.ipynb") is True, (root_dir, course_root)
        assert "bench" not in {m["name"] for m in run(cm.get(""))["content"]}


# ----------------------------------------------------------------------------- switching it on
def test_extension_makes_it_the_contents_manager_unless_one_is_configured():
    assert lab_server._jupyter_server_extension_points() == [{"module": "coursekit.lab_server"}]
    app = SimpleNamespace(config=Config(), contents_manager_class=None, log=logging.getLogger("test"))
    lab_server._link_jupyter_server_extension(app)
    assert app.contents_manager_class is CourseContentsManager
    config = Config({"ServerApp": {"contents_manager_class": "x.Other"}})
    app = SimpleNamespace(config=config, contents_manager_class="unchanged", log=logging.getLogger("test"))
    lab_server._link_jupyter_server_extension(app)
    assert app.contents_manager_class == "unchanged"


def test_this_environment_has_the_extension_enabled():
    assert lab_server.is_enabled(), f"{lab_server.config_path()} is missing or stale; run: {REENABLE}"
    config = json.loads(lab_server.config_path().read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"coursekit.lab_server": True}}}


def test_enable_writes_the_config_into_a_prefix(tmp_path, capsys):
    assert not lab_server.is_enabled(tmp_path)
    path = lab_server.enable(tmp_path)
    assert path == tmp_path / "etc" / "jupyter" / "jupyter_server_config.d" / "regularization-course.json"
    assert lab_server.is_enabled(tmp_path)
    path.write_text("{}")
    assert not lab_server.is_enabled(tmp_path)  # stale
    assert lab_server.main(["status"]) == 0 and "is enabled" in capsys.readouterr().out


# ----------------------------------------------------------------------------- a real server
def test_real_jupyterlab_from_this_environment_protects_the_lessons():
    """JupyterLab started as a learner's would be (only the installed config names the contents
    manager), serving a temporary copy of the course: REST says writable false and refuses a PUT."""
    with bs.JupyterServer(installed_config_only=True) as server:
        rel = "notebooks/00_start_here.ipynb"
        served = server.root / rel
        before = served.read_bytes()
        model = server.api("GET", f"/api/contents/{rel}")
        assert model["writable"] is False
        assert model["content"]["metadata"]["language_info"] == _kernel_info_language()  # the server's kernels
        model["content"]["metadata"]["edited"] = True
        with pytest.raises(urllib.error.HTTPError) as info:
            server.api("PUT", f"/api/contents/{rel}", {"type": "notebook", "content": model["content"]})
        assert info.value.code == 403
        assert "Save Notebook As" in json.loads(info.value.read())["message"]
        assert served.read_bytes() == before
        created = server.api("PUT", "/api/contents/my_work/mine.ipynb",
                             {"type": "notebook", "content": model["content"]})
        assert created["writable"] is True and (server.root / "my_work" / "mine.ipynb").is_file()
        names = {m["name"] for m in server.api("GET", "/api/contents")["content"]}
        assert {"notebooks", "my_work", "assignments"} <= names and not names & set(CLUTTER), names
        log = server.log_tail(200)
    assert "coursekit.lab_server | extension was successfully loaded" in log, log
