"""Keep the course's own notebooks byte-identical in JupyterLab, and its file browser tidy.

JupyterLab rewrites an open notebook at every autosave (every 120 s): metadata it adds on
opening, execution counts, images, widget state. For the course's lessons that means a dirty
``git status`` and a conflict at the next ``git pull``. This module is the server side of the fix:

* :class:`CourseContentsManager` (the server's default contents manager, plus a rule) reports
  ``writable: false`` for every notebook under the course's ``notebooks/`` and ``assignments/``
  (lessons, assignment originals, solutions). JupyterLab 4's autosave skips a document whose
  context cannot save (``context.canSave`` is the contents model's ``writable``); Ctrl+S on it
  says "... is read-only. Use "Save as…" instead."; closing it asks only "discard?". Requests that
  would still write such a notebook (save, upload, new or duplicate inside those folders, rename,
  delete, revert to checkpoint) get an HTTP 403 whose message says to save a copy into
  ``my_work/``. Everything else (``my_work/``, new notebooks at the top, other files) behaves as
  usual, autosave included.
* Maintainer clutter at the top of the course (``tests/``, ``bench/``, ``tools/``, ``build/``,
  ``artifacts/``, ``site/`` (the website, read in a browser), ``conftest.py``, ``*.egg-info``) is left out of directory
  listings. Only those paths are hidden, not every folder that happens to be called ``tests`` or
  ``build`` (which is what adding the names to ``hide_globs`` would do); they stay reachable by URL.

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
a folder above it or one inside it. A path is compared with :attr:`CourseContentsManager.course_root`
both as written and with symlinks resolved, so a symlinked checkout, or a served copy whose
``assignments/`` is a symlink to the real one (the browser test's), is still recognised.

For maintainers who edit lessons in JupyterLab::

    jupyter lab --CourseContentsManager.read_only_course=False

Importing :mod:`helpers` does not import this module (nor jupyter_server).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
from pathlib import Path, PurePosixPath

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError
from traitlets import Bool, List, Unicode, default

import helpers

EXTENSION = "coursekit.lab_server"
READ_ONLY_DIRS = ("notebooks", "assignments")
MAINTAINER_CLUTTER = ("bench", "tests", "tools", "build", "artifacts", "site", "conftest.py", "*.egg-info")
CONFIG_NAME = "regularization-course.json"  # in {prefix}/etc/jupyter/jupyter_server_config.d/


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
        help="Folders, relative to course_root, whose notebooks (at any depth) are read-only.",
    )

    hidden_course_paths = List(
        Unicode(),
        list(MAINTAINER_CLUTTER),
        config=True,
        help="Glob patterns of names directly in course_root left out of directory listings.",
    )

    # ------------------------------------------------------------------ where a path sits
    def _pairs(self, path: str) -> list[tuple[Path, Path]]:
        """(file, course root) pairs of absolute paths for an API path: the file as written, fully
        resolved, and with only its folder resolved; the course root as written and resolved."""
        os_path = os.path.abspath(self._get_os_path(path.strip("/")))
        here = Path(os_path)
        files = {here, Path(os.path.realpath(os_path)), Path(os.path.realpath(here.parent)) / here.name}
        root = os.path.abspath(self.course_root)
        roots = {Path(root), Path(os.path.realpath(root))}
        return [(f, r) for f in files for r in roots]

    def _course_relative(self, path: str) -> list[PurePosixPath]:
        """Where the API path sits in the course, for every pair that fits (none: outside it)."""
        return [PurePosixPath(f.relative_to(r).as_posix()) for f, r in self._pairs(path) if f.is_relative_to(r)]

    def _read_only_dirs(self) -> list[PurePosixPath]:
        return [PurePosixPath(d.strip("/")) for d in self.read_only_dirs if d.strip("/")]

    def is_course_notebook(self, path: str) -> bool:
        """True for a notebook path (existing or not) inside one of the course's read-only folders."""
        if not self.read_only_course or not path.lower().endswith(".ipynb"):
            return False
        dirs = self._read_only_dirs()
        return any(rel != d and rel.is_relative_to(d) for rel in self._course_relative(path) for d in dirs)

    def _holds_course_notebooks(self, path: str) -> bool:
        """True for a folder whose renaming or deletion would take course notebooks with it: the
        course folder or one above it, a read-only folder or one above it, or a folder inside a
        read-only folder that holds a notebook."""
        if not self.read_only_course or not os.path.isdir(self._get_os_path(path.strip("/"))):
            return False
        if any(r.is_relative_to(f) for f, r in self._pairs(path)):
            return True
        dirs = self._read_only_dirs()
        for rel in self._course_relative(path):
            if any(d.is_relative_to(rel) for d in dirs):
                return True
            if any(rel.is_relative_to(d) for d in dirs):
                return any(Path(self._get_os_path(path.strip("/"))).rglob("*.ipynb"))
        return False

    def is_course_clutter(self, path: str) -> bool:
        """True for a maintainer file or folder directly in the course folder."""
        return any(
            len(rel.parts) == 1 and any(fnmatch.fnmatch(rel.name, g) for g in self.hidden_course_paths)
            for rel in self._course_relative(path)
        )

    def _refuse(self, path: str, action: str = "save") -> HTTPError:
        folders = ", ".join(f"{d}/" for d in self.read_only_dirs)
        return HTTPError(
            403,
            f"Cannot {action} {path}: the course's notebooks ({folders}) are read-only, so that "
            "course updates (git pull) never conflict with your changes. To keep your own version, "
            "use File > Save Notebook As… and save it into my_work/ (git ignores that folder); "
            "`python3 course.py my-work` copies all the assignments there for you.",
        )

    # ------------------------------------------------------------------ the contents API
    def is_writable(self, path):
        """What the contents model reports as ``writable`` (JupyterLab's ``canSave``)."""
        if self.is_course_notebook(path):
            return False
        return super().is_writable(path)

    async def save(self, model, path=""):
        """Save (also: upload, new, new untitled, copy); refused for course notebooks."""
        if self.is_course_notebook(path):
            raise self._refuse(path, "save")
        return await super().save(model, path)

    async def rename_file(self, old_path, new_path):
        for p in (old_path, new_path):
            if self.is_course_notebook(p):
                raise self._refuse(p, "rename")
        if self._holds_course_notebooks(old_path):
            raise self._refuse(old_path, "rename")
        return await super().rename_file(old_path, new_path)

    async def delete_file(self, path):
        if self.is_course_notebook(path) or self._holds_course_notebooks(path):
            raise self._refuse(path, "delete")
        return await super().delete_file(path)

    async def restore_checkpoint(self, checkpoint_id, path):
        if self.is_course_notebook(path):
            raise self._refuse(path, "revert")
        return await super().restore_checkpoint(checkpoint_id, path)

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
