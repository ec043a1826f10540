"""The course installed on one class server, as a teacher installs it, and its students.

This is the one-machine layout of README's "Teaching a class" (The Littlest JupyterHub style), made
for real by the hub test (``tests/test_hub.py``) and bench (``bench/bench_hub.py``):

* :func:`install_course` copies the course (the files git tracks) into a folder owned by root,
  folders 755 and files 644 (scripts 755): one read-only course for every student.
* :func:`install_environment` makes the students' Python environment beside it, as a teacher's
  ``sudo pip install -r requirements.txt -r requirements-teacher.txt`` into a shared environment
  would: a virtual environment of a Python every user can run (:func:`shared_python`; the course's
  own ``.venv`` is often built by a Python under ``/root``, which students cannot run), holding the
  same packages as ``.venv`` and ``.venv-teacher`` (hard links, so it costs a second and no disk),
  then the repository's own ``binder/postBuild``: the course's packages (editable, so they find
  the course's data and notebooks) and JupyterLab's read-only protection; nbgrader's teacher tools
  are switched off for students (:data:`TEACHER_ONLY`).
* :func:`add_student` makes a system user (``useradd``) whose home is a tmpfs of a fixed size (the
  student's disk quota), mode 700; :func:`remove_student` undoes it. Where the machine allows no
  mount, the home is a plain folder and :attr:`Student.quota_mb` is None.

Everything here needs Linux and root: :func:`hub_problem` says what is missing.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from coursekit import assignments

ROOT = assignments.ROOT
LEARNER_VENV = ROOT / ".venv"
TEACHER_VENV = ROOT / ".venv-teacher"  # course.py's teacher_setup(): jupyterhub, nbgrader, nbgitpuller
TEACHER_PYTHON = TEACHER_VENV / "bin" / "python"
PROXY = TEACHER_VENV / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
EDITABLE_COURSE = ("__editable__.regularization_course", "__editable___regularization_course",
                   "regularization_course-")  # the learner's editable install, which points at its clone


# nbgrader's teacher tools, switched off in the students' environment as nbgrader's installation
# guide says (students keep the assignment list and "Validate"): `jupyter labextension disable ...`
# and `jupyter server extension disable ...`, as modules (the environment has no bin/ scripts).
TEACHER_ONLY = (
    ["jupyterlab.labextensions", "disable", "--level=sys_prefix", "@jupyter/nbgrader:formgrader",
     "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:create-assignment"],
    ["jupyter_server.extension.serverextension", "disable", "--sys-prefix", "nbgrader.server_extensions.formgrader",
     "nbgrader.server_extensions.course_list"],
)


def others_can_run(path) -> bool:
    """Whether users other than its owner can run ``path`` (the file and every folder above it,
    symlinks resolved, open to others)."""
    real = Path(os.path.realpath(path))
    try:
        return all(p.stat().st_mode & stat.S_IXOTH for p in (real, *real.parents))
    except OSError:
        return False


def shared_python(version: tuple[int, int] = sys.version_info[:2]) -> str | None:
    """A Python ``version`` (major, minor) that every user can run: this one when it qualifies,
    else the first ``pythonX.Y`` on the PATH that does (Debian's ``/usr/bin/python3.11``); None."""
    if others_can_run(sys._base_executable):
        return os.path.realpath(sys._base_executable)
    name = "python{}.{}".format(*version)
    for folder in os.get_exec_path():
        candidate = Path(folder) / name
        if candidate.is_file() and others_can_run(candidate):
            return os.path.realpath(candidate)
    return None


def teacher_problem() -> str | None:
    """Why the teacher's environment cannot be used (a sentence naming the command that makes it), or None."""
    if not TEACHER_PYTHON.exists():
        return f"the teacher's environment {TEACHER_VENV} is missing: python3 course.py test (or nbgrader) makes it"
    return None


def hub_problem() -> str | None:
    """Why a hub with system users cannot run here (one sentence naming the fix), or None."""
    if not sys.platform.startswith("linux"):
        return "the hub test needs Linux (system users, a local process spawner)"
    if os.geteuid() != 0:
        return "the hub test needs root (it adds system users and runs their servers as them)"
    if shutil.which("useradd") is None:
        return "the hub test needs useradd (Debian's passwd package)"
    if problem := teacher_problem():
        return problem
    if not PROXY.exists():
        return f"configurable-http-proxy is missing from {PROXY.parent}: run bash tools/install_hub_proxy.sh"
    if shared_python() is None:
        return ("no Python {}.{} that every user can run (students run it): install Debian's "
                "python3 or build the course with one outside /root".format(*sys.version_info[:2]))
    return None


# ------------------------------------------------------------------------------------------------
# The course and its environment, installed once
# ------------------------------------------------------------------------------------------------

def _tracked_files(source: Path) -> list[str]:
    done = subprocess.run(["git", "ls-files", "-z", "--cached"], cwd=source, capture_output=True, text=True,
                          check=True)
    return [name for name in done.stdout.split("\0") if name and (source / name).is_file()]


def course_digest(course: Path) -> dict[str, str]:
    """SHA-256 of every file below ``course``, by path relative to it (to show nothing changed)."""
    course = Path(course)
    if not course.is_dir():
        raise ValueError(f"course must be a folder, got {course}")
    return {p.relative_to(course).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(course.rglob("*")) if p.is_file() and not p.is_symlink()}


def _own_by_root_read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, 0, 0, follow_symlinks=False)
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)


def install_course(dest: Path, source: Path = ROOT) -> None:
    """Copy the course's tracked files from ``source`` (a git checkout) to ``dest`` (a new
    folder), owned by root, folders 755, files 644 and executables 755."""
    dest, source = Path(dest), Path(source)
    if dest.exists():
        raise ValueError(f"dest must not exist yet, got {dest}")
    if not (source / ".git").exists():
        raise ValueError(f"source must be a git checkout of the course, got {source}")
    for name in _tracked_files(source):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)
        target.chmod(0o755 if os.access(source / name, os.X_OK) else 0o644)
    _own_by_root_read_only(dest)


def _site_packages(prefix: Path) -> Path:
    return Path(sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)}))


def _link_tree(source: Path, dest: Path, copy: bool = False) -> None:
    """Hard-link (``copy``: copy) every file of ``source`` into ``dest`` (copies where links cannot
    cross devices), keeping what ``dest`` already has."""
    for folder, _, files in os.walk(source):
        target = dest / Path(folder).relative_to(source)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            if (target / name).exists() or (target / name).is_symlink():
                continue
            if not copy:
                try:
                    os.link(Path(folder) / name, target / name, follow_symlinks=False)
                    continue
                except OSError:  # another device: copy
                    pass
            shutil.copy2(Path(folder) / name, target / name, follow_symlinks=False)


def install_environment(env: Path, course: Path, learner: Path = LEARNER_VENV, teacher: Path = TEACHER_VENV) -> Path:
    """The students' environment at ``env`` (a new folder): a venv of :func:`shared_python` with
    ``learner``'s and ``teacher``'s packages (the course's own editable install left out), then
    ``course/binder/postBuild`` run in ``course`` with it first on the PATH; owned by root,
    read-only to others. Returns its Python."""
    env, course = Path(env), Path(course)
    if env.exists():
        raise ValueError(f"env must not exist yet, got {env}")
    python = shared_python()
    if python is None:
        raise ValueError("no Python that every user can run was found (see hub_problem())")
    subprocess.run([python, "-m", "venv", "--without-pip", str(env)], check=True, capture_output=True)
    site = _site_packages(env)
    for venv in (learner, teacher):
        _link_tree(_site_packages(venv), site)
        if (venv / "share").is_dir():  # JupyterLab's pages, kernels, nbconvert's templates
            _link_tree(venv / "share", env / "share")
        if (venv / "etc").is_dir():  # the extensions each enables: copies, since they are rewritten below
            _link_tree(venv / "etc", env / "etc", copy=True)
    for path in site.iterdir():
        if path.name.startswith(EDITABLE_COURSE) or path.name == "learner-environment.pth":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    env_vars = {**os.environ, "PATH": f"{env / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                "PYTHONWARNINGS": "ignore"}
    env_vars.pop("VIRTUAL_ENV", None)
    subprocess.run([str(course / "binder" / "postBuild")], cwd=course, env=env_vars, check=True,
                   capture_output=True)
    python = env / "bin" / "python"
    for command in TEACHER_ONLY:
        subprocess.run([str(python), "-m", *command], env=env_vars, check=True, capture_output=True)
    _own_by_root_read_only(env)
    _own_by_root_read_only(course)  # postBuild's editable install wrote its egg-info there
    return python


# ------------------------------------------------------------------------------------------------
# Students: system users with a size-limited home
# ------------------------------------------------------------------------------------------------

@dataclass
class Student:
    """A student's system account: ``name``, ``uid``, ``home`` and the home's size limit in MB
    (None: a plain folder, the machine allowed no mount)."""

    name: str
    uid: int
    home: Path
    quota_mb: int | None
    token: str = field(default="", repr=False)  # their hub API token, once the hub made one


def add_student(name: str, homes: Path, quota_mb: int = 128) -> Student:
    """Add the system user ``name`` with home ``homes/name``: a tmpfs of ``quota_mb`` MB when the
    machine allows the mount, else a plain folder. Both owned by the student, mode 700."""
    if not name.isidentifier() or not name.islower():
        raise ValueError(f"name must be a lowercase user name, got {name!r}")
    if quota_mb < 1:
        raise ValueError(f"quota_mb must be at least 1, got {quota_mb}")
    home = Path(homes) / name
    home.mkdir(parents=True)
    subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/bash",
                    "--user-group", name], check=True, capture_output=True)
    entry = pwd.getpwnam(name)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={quota_mb}m,uid={entry.pw_uid},"
                              f"gid={entry.pw_gid},mode=700", f"home-{name}", str(home)],
                             capture_output=True).returncode == 0
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    return Student(name, entry.pw_uid, home, quota_mb if mounted else None)


def student_processes(student: Student) -> list:
    """The student's running processes (psutil), e.g. their server and kernels."""
    import psutil

    found = []
    for proc in psutil.process_iter(["uids"]):
        uids = proc.info.get("uids")
        if uids is not None and uids.real == student.uid:
            found.append(proc)
    return found


def remove_student(student: Student) -> None:
    """Stop what still runs as ``student``, unmount and delete their home, delete the user."""
    for proc in student_processes(student):
        try:
            proc.kill()
        except Exception:  # gone meanwhile
            pass
    if student.quota_mb is not None:
        subprocess.run(["umount", "--lazy", str(student.home)], capture_output=True)
    subprocess.run(["userdel", student.name], capture_output=True)
    shutil.rmtree(student.home, ignore_errors=True)
