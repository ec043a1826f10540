"""Keep everything the course ships byte-identical in JupyterLab, and its file browser tidy.

JupyterLab rewrites an open notebook at every autosave (every 120 s): metadata it adds on
opening, execution counts, images, widget state; its text editor autosaves a README just the same.
For the course's files that means a dirty ``git status`` and a conflict at the next ``git pull``.
This module is the server side of the fix:

* :class:`CourseContentsManager` (the server's default contents manager, plus a rule) reports
  ``writable: false`` for every file the course ships (in a git checkout: every tracked file;
  elsewhere every file of its read-only folders ``notebooks/``, ``assignments/``, ``helpers/``,
  ``coursekit/``, ``data/`` and at its top). JupyterLab 4's autosave skips a document whose
  context cannot save (``context.canSave`` is the contents model's ``writable``); Ctrl+S on it
  says "... is read-only. Use "Save as…" instead."; closing it asks only "discard?". Requests that
  would still write one (save, upload, rename, delete, checkpoint, revert) get an HTTP 403 whose
  message says to save a copy into ``my_work/``; so does creating anything new inside a read-only
  folder (a new or duplicated notebook, a folder, an upload) and moving anything into one. What a
  learner makes elsewhere (``my_work/``, a new notebook at the top) behaves as usual, autosave
  included, and stays theirs to move: it can never land in a read-only folder.
* A notebook is served with the ``kernelspec`` and ``language_info`` its kernel will report
  (:meth:`CourseContentsManager.kernel_metadata`): the files keep machine-neutral ones, which
  JupyterLab replaced when the kernel started, marking every lesson modified as it opened. A
  notebook is served without the widget views it cannot show
  (:func:`~coursekit.served_notebooks.without_dead_widget_views`; "Error displaying widget: model
  not found" in a copy saved with *Save Notebook As…*): all of them,
  unless it was last saved while the kernel its session has now was running (a page reloaded, when
  JupyterLab restores the widgets from the kernel). Their pictures stay, with a note to run the cell again.
* **By identity, not by spelling**: a path is compared with the course's files by device and inode
  (``os.stat``, following symlinks and ``..``), never as a string. On the case-insensitive file
  systems of macOS and Windows, ``NOTEBOOKS/01_overfitting.ipynb`` is the lesson, and it is refused;
  a symlink into the course, or a hard link, is the course's file too.
* Maintainer clutter at the top of the course (``tests/``, ``bench/``, ``tools/``, ``build/``,
  ``artifacts/``, ``site/`` (the website, read in a browser), ``conftest.py``, ``*.egg-info``) is
  left out of directory listings. Only those paths are hidden, not every folder that happens to be
  called ``tests`` or ``build``; they stay reachable by URL.

How it is switched on: ``python -m coursekit.lab_server enable`` (what ``python3 course.py lab`` /
``test`` / ``setup`` run after installing, and the conda route's last step) writes
``{sys.prefix}/etc/jupyter/jupyter_server_config.d/regularization-course.json``, which enables this
module as a Jupyter server extension for every JupyterLab started from that environment. Its link
hook, which runs before the server creates its contents manager, makes
:class:`CourseContentsManager` the contents manager unless the server's configuration names
another one. (A ``jupyter_server_config.d`` file can only enable extensions: jupyter_server reads
nothing else from it. ``jupyter server extension enable`` cannot write the first such file, it only
toggles extensions already listed; and setuptools leaves data files out of editable installs.)

Paths: the server speaks in API paths relative to its ``root_dir``, which may be the course folder,
a folder above it or one inside it; :attr:`CourseContentsManager.course_root` says where the course
is. The shipped files' identities are read once and again whenever git's index changes (a pull).

For maintainers who edit lessons in JupyterLab::

    jupyter lab --CourseContentsManager.read_only_course=False

Importing :mod:`helpers` does not import this module (nor jupyter_server).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError
from traitlets import Bool, List, Unicode, default

import helpers
from coursekit.served_notebooks import (  # noqa: F401 -- WIDGET_* and RERUN_NOTE: tests read them here
    RERUN_NOTE,
    WIDGET_STATE,
    WIDGET_VIEW,
    kernel_metadata,
    without_dead_widget_views,
)

EXTENSION = "coursekit.lab_server"
READ_ONLY_DIRS = ("notebooks", "assignments", "helpers", "coursekit", "data")
MAINTAINER_CLUTTER = ("bench", "tests", "tools", "build", "artifacts", "site", "conftest.py", "*.egg-info")
CONFIG_NAME = "regularization-course.json"  # in {prefix}/etc/jupyter/jupyter_server_config.d/


def _identity(path: str) -> tuple[int, int] | None:
    """A file's identity, (device, inode), following symlinks; None when there is no such file."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


class _Shipped:
    """What the course at ``root`` ships, as identities: ``files`` (in a git checkout, every tracked
    file; elsewhere every file in the read-only folders and at the top, when first asked),
    ``folders`` (the read-only folders) and ``above`` (the folders that hold them: the course folder,
    up to the file system's root). Identities, not path strings: on a case-insensitive file system
    ``NOTEBOOKS/01_x.ipynb`` is the lesson, and a symlink or a ``..`` leads to the same inode."""

    CHECK_EVERY_S = 2.0

    def __init__(self, root: str, dirs) -> None:
        self.root = os.path.realpath(root)
        self.folders = {i for d in dirs if (i := _identity(os.path.join(self.root, d.strip("/")))) is not None}
        self.above = {i for p in (Path(self.root), *Path(self.root).parents) if (i := _identity(str(p))) is not None}
        self.index = os.path.join(self.root, ".git", "index")
        self.index_state = self._index_state()
        self.checked = time.monotonic()
        tracked = self._tracked()
        if tracked is None:  # not a git checkout (a download, a packaged copy): what is there now
            tracked = [os.path.join(folder, name) for d in dirs
                       for folder, _sub, names in os.walk(os.path.join(self.root, d.strip("/")), followlinks=True)
                       for name in names]
            tracked += [entry.path for entry in os.scandir(self.root) if entry.is_file()]
        self.files = {i for path in tracked if (i := _identity(path)) is not None}

    def _index_state(self):
        try:
            st = os.stat(self.index)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _tracked(self) -> list[str] | None:
        if self.index_state is None:
            return None
        try:
            done = subprocess.run(["git", "-C", self.root, "ls-files", "-z"], capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        if done.returncode != 0:
            return None
        return [os.path.join(self.root, name) for name in done.stdout.decode("utf-8", "replace").split("\0") if name]

    def stale(self) -> bool:
        """True when git's index changed (a pull, a checkout) since these identities were read."""
        now = time.monotonic()
        if now - self.checked < self.CHECK_EVERY_S:
            return False
        self.checked = now
        return self._index_state() != self.index_state


class CourseContentsManager(AsyncLargeFileManager):
    """jupyter_server's default contents manager (``AsyncLargeFileManager``) that never writes the
    course's own notebooks and lists no maintainer files. See the module docstring."""

    course_root = Unicode(
        config=True,
        help="The course folder (the one holding notebooks/ and assignments/). Default: the "
        "repository of the installed helpers package.",
    )

    @default("course_root")
    def _default_course_root(self) -> str:
        return str(Path(helpers.__file__).parent.parent)

    read_only_course = Bool(
        True,
        config=True,
        help="Refuse to write the notebooks in read_only_dirs (False: behave like the default "
        "contents manager, e.g. for maintainers editing lessons).",
    )

    read_only_dirs = List(
        Unicode(),
        list(READ_ONLY_DIRS),
        config=True,
        help="Folders, relative to course_root, in which nothing can be created, and whose files (at "
        "any depth) are read-only when the course ships them.",
    )

    hidden_course_paths = List(
        Unicode(),
        list(MAINTAINER_CLUTTER),
        config=True,
        help="Glob patterns of names directly in course_root left out of directory listings.",
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._saved_with_kernel: dict[str, str | None] = {}  # API path -> its session's kernel at the last save
        self._kernel_metadata: dict[str, dict] = {}  # kernel name -> kernel_metadata(name)

    # ------------------------------------------------------------------ what the course ships, by identity
    def _shipped(self) -> _Shipped:
        """The course's shipped files and read-only folders as (device, inode) identities, kept up to date."""
        cached = getattr(self, "_shipped_cache", None)
        if cached is None or cached.root != os.path.realpath(self.course_root) or cached.stale():
            cached = _Shipped(self.course_root, self.read_only_dirs)
            self._shipped_cache = cached
        return cached

    def _os(self, path: str) -> str:
        """The file system path of an API path (``..`` and the server's root resolved by jupyter_server)."""
        return os.path.abspath(self._get_os_path(path.strip("/")))

    def is_course_file(self, path: str) -> bool:
        """True when the API path, however it is spelled (case, symlinks, ``..``), is a file the course
        ships: the same file (device and inode) as one of them."""
        if not self.read_only_course:
            return False
        return _identity(self._os(path)) in self._shipped().files

    def is_course_notebook(self, path: str) -> bool:
        """:meth:`is_course_file` for a notebook (kept for the name the tests and the browser driver use)."""
        return self.is_course_file(path)

    def _inside_read_only_dir(self, path: str) -> bool:
        """True when the API path (existing or not) lies inside one of the course's read-only folders:
        one of its existing ancestors is, by identity, such a folder."""
        if not self.read_only_course:
            return False
        folders = self._shipped().folders
        here = Path(self._os(path))
        return any(_identity(str(ancestor)) in folders for ancestor in here.parents)

    def _holds_course_files(self, path: str) -> bool:
        """True for a folder whose renaming or deletion would take course files with it: a read-only
        folder, one above it (the course folder, or above), or a folder holding a shipped file."""
        if not self.read_only_course:
            return False
        os_path = self._os(path)
        if not os.path.isdir(os_path):
            return False
        shipped = self._shipped()
        if _identity(os_path) in shipped.folders | shipped.above:
            return True
        for folder, _dirs, names in os.walk(os_path):
            if any(_identity(os.path.join(folder, name)) in shipped.files for name in names):
                return True
        return False

    def is_course_clutter(self, path: str) -> bool:
        """True for a maintainer file or folder directly in the course folder."""
        os_path = Path(self._os(path))
        return (_identity(str(os_path.parent)) == _identity(self.course_root)
                and any(fnmatch.fnmatch(os_path.name, g) for g in self.hidden_course_paths))

    def _refuse(self, path: str, action: str = "save") -> HTTPError:
        folders = ", ".join(f"{d}/" for d in self.read_only_dirs)
        return HTTPError(
            403,
            f"Cannot {action} {path}: the course's files ({folders} and everything else it ships) are "
            "read-only, so that course updates (git pull) never conflict with your changes. To keep your "
            "own version, use File > Save Notebook As… and save it into my_work/ (git ignores that "
            "folder); `python3 course.py my-work` copies all the assignments there for you.",
        )

    def _check_write(self, path: str, action: str) -> None:
        """Refuse writing ``path``: a course file, or a new file or folder in a read-only folder."""
        if self.is_course_file(path):
            raise self._refuse(path, action)
        if self._inside_read_only_dir(path) and not os.path.lexists(self._os(path)):
            raise self._refuse(path, "create" if action == "save" else action)

    # ------------------------------------------------------------------ the contents API
    def is_writable(self, path):
        """What the contents model reports as ``writable`` (JupyterLab's ``canSave``)."""
        if self.is_course_file(path):
            return False
        return super().is_writable(path)

    async def save(self, model, path=""):
        """Save (also: upload, new, new untitled, copy, a new folder): refused for a course file and
        for anything new in a read-only folder."""
        self._check_write(path, "save")
        saved = await super().save(model, path)
        if model.get("type") == "notebook":  # whose widgets a page reloaded now can restore from the kernel
            self._saved_with_kernel[path.strip("/")] = await self._kernel_of(path)
        return saved

    async def rename_file(self, old_path, new_path):
        """Refused for a course file or a folder holding one, and for anything moved into a
        read-only folder (what a learner made stays theirs to move: it never lands there)."""
        if self.is_course_file(old_path) or self._holds_course_files(old_path):
            raise self._refuse(old_path, "rename")
        if self.is_course_file(new_path) or self._inside_read_only_dir(new_path):
            raise self._refuse(new_path, "move anything into")
        return await super().rename_file(old_path, new_path)

    async def delete_file(self, path):
        if self.is_course_file(path) or self._holds_course_files(path):
            raise self._refuse(path, "delete")
        return await super().delete_file(path)

    async def create_checkpoint(self, path):
        """A checkpoint is a new file beside the notebook (``.ipynb_checkpoints/``): not of a course
        file, not in a read-only folder."""
        if self.is_course_file(path) or self._inside_read_only_dir(path):
            raise self._refuse(path, "checkpoint")
        return await super().create_checkpoint(path)

    async def restore_checkpoint(self, checkpoint_id, path):
        if self.is_course_file(path):
            raise self._refuse(path, "revert")
        return await super().restore_checkpoint(checkpoint_id, path)

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        """A notebook as JupyterLab can show it: with the metadata its kernel will report
        (:meth:`kernel_metadata`), so that opening it changes nothing and it is not marked modified;
        without the widget views whose models no kernel holds (:func:`without_dead_widget_views`),
        unless the notebook was last saved with the kernel its session has now."""
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if model.get("type") == "notebook" and model.get("content") is not None:
            self._as_the_kernel_reports(model["content"])
            kernel = await self._kernel_of(path)
            if kernel is None or self._saved_with_kernel.get(path.strip("/")) != kernel:
                without_dead_widget_views(model["content"])
        return model

    async def _kernel_of(self, path: str) -> str | None:
        """The id of the live kernel of the notebook's session, if it has one."""
        sessions = getattr(self.parent, "session_manager", None)
        if sessions is None:
            return None
        try:
            if not await sessions.session_exists(path.strip("/")):
                return None
            return (await sessions.get_session(path=path.strip("/")))["kernel"]["id"]
        except Exception:  # no session after all, or a session without a kernel
            return None

    def _as_the_kernel_reports(self, nb) -> None:
        metadata = nb.setdefault("metadata", {})
        name = (metadata.get("kernelspec") or {}).get("name")
        found = self.kernel_metadata(name) if isinstance(name, str) else {}
        language = (metadata.get("language_info") or {}).get("name")
        for key, value in found.items():
            if key != "language_info" or language in (None, value["name"]):
                metadata[key] = value

    def kernel_metadata(self, name: str) -> dict:
        """What JupyterLab writes into a notebook's metadata when kernel ``name`` starts:
        ``kernelspec`` (name, display name, language of the kernel spec) and, when the kernel is
        ipykernel on this server's Python, ``language_info`` (with this Python's version). The course's
        notebooks carry a machine-neutral version of both (``coursekit.notebook_files``); served
        as they are, JupyterLab updated them the moment the kernel started and marked every lesson
        modified on opening, so closing one asked about unsaved changes, and *Save As* was followed
        by "Save changes in ... before closing?". ``{}`` for a kernel this server does not know."""
        if name not in self._kernel_metadata:
            self._kernel_metadata[name] = kernel_metadata(getattr(self.parent, "kernel_spec_manager", None), name)
        return self._kernel_metadata[name]

    async def _dir_model(self, path, content=True):
        model = await super()._dir_model(path, content=content)
        if content and model.get("content"):
            model["content"] = [m for m in model["content"] if not self.is_course_clutter(m["path"])]
        return model


# ---------------------------------------------------------------------- the server extension
def _jupyter_server_extension_points():
    return [{"module": EXTENSION}]


def _link_jupyter_server_extension(serverapp) -> None:
    """Runs before the server creates its contents manager: make it a CourseContentsManager,
    unless the configuration (command line, config files) names a contents manager already."""
    configured = serverapp.config.get("ServerApp", {}).get("contents_manager_class")
    if configured is not None:
        serverapp.log.info("%s: contents_manager_class is configured (%s); left as it is", EXTENSION, configured)
        return
    serverapp.contents_manager_class = CourseContentsManager


def _load_jupyter_server_extension(serverapp) -> None:
    cm = serverapp.contents_manager
    if not isinstance(cm, CourseContentsManager):
        serverapp.log.info("%s: contents manager is %s; course notebooks are not protected",
                           EXTENSION, type(cm).__name__)
        return
    if not cm.read_only_course:
        serverapp.log.info("%s: read_only_course is off; course notebooks can be saved", EXTENSION)
        return
    root = Path(cm.course_root)
    if not (root / "notebooks").is_dir():
        serverapp.log.warning("%s: %s has no notebooks/ folder; set CourseContentsManager.course_root",
                              EXTENSION, root)
    serverapp.log.info("%s: notebooks in %s of %s are read-only; save your own work in my_work/",
                       EXTENSION, ", ".join(f"{d}/" for d in cm.read_only_dirs), root)


# ---------------------------------------------------------------------- switching it on
def config_path(prefix: str | Path = sys.prefix) -> Path:
    """The Jupyter config file that enables the extension for the environment at ``prefix``."""
    return Path(prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / CONFIG_NAME


def config_text() -> str:
    """What :func:`enable` writes: the extension, enabled."""
    return json.dumps({"ServerApp": {"jpserver_extensions": {EXTENSION: True}}}, indent=2) + "\n"


def is_enabled(prefix: str | Path = sys.prefix) -> bool:
    """Whether the environment at ``prefix`` has the config file that :func:`enable` writes."""
    path = config_path(prefix)
    return path.is_file() and path.read_text() == config_text()


def enable(prefix: str | Path = sys.prefix) -> Path:
    """Write the config file that enables the extension for the environment at ``prefix``."""
    path = config_path(prefix)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_text())
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.lab_server",
                                     description="Make the course's notebooks read-only in JupyterLab "
                                                 "(for every JupyterLab of this environment).")
    parser.add_argument("command", choices=["enable", "status"])
    args = parser.parse_args(argv)
    if args.command == "enable":
        print(f"enabled {EXTENSION}: wrote {enable()}")
        return 0
    print(f"{EXTENSION} is {'enabled' if is_enabled() else 'not enabled'} ({config_path()})")
    return 0 if is_enabled() else 1


if __name__ == "__main__":
    sys.exit(main())
