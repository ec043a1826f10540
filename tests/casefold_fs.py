"""A case-insensitive view of a folder, through FUSE (as ``ciopfs`` gives one): what the default file
systems of macOS (APFS) and Windows (NTFS) do with names, for tests/test_lab_server.py.

This machine's kernel has no case-folding ext4 or tmpfs (built without ``CONFIG_UNICODE``), so the
test mounts this instead: every name is looked up ignoring case (``NOTEBOOKS/01_X.ipynb`` opens
``notebooks/01_x.ipynb``), names keep the case they were created with, and everything else passes
through to the folder underneath. It needs ``/dev/fuse``, libfuse 2 (Debian's ``libfuse2``,
installed by ``tools/install_fuse.sh``) and mfusepy (fusepy's maintained fork, which has a wheel);
:func:`fuse_problem` says what is missing.

Run as a script (``python tests/casefold_fs.py SOURCE MOUNTPOINT``) it serves in the foreground
until unmounted; :func:`mounted` does that in a child process for the duration of a ``with`` block.
"""

from __future__ import annotations

import ctypes.util
import errno
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path


def fuse_problem() -> str | None:
    """None when a FUSE file system can be mounted here, else what is missing."""
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse"
    if ctypes.util.find_library("fuse") is None:
        return "no libfuse 2 (apt-get install libfuse2, or bash tools/install_fuse.sh)"
    try:
        import mfusepy  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"mfusepy does not load ({exc})"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "mounting needs root here"
    return None


def _serve(source: str, mountpoint: str) -> None:
    from mfusepy import FUSE, FuseOSError, Operations

    class CaseFolding(Operations):
        def __init__(self, root: str):
            self.root = os.path.realpath(root)

        def _real(self, path: str) -> str:
            """The path underneath: each existing component found whatever its case."""
            current = self.root
            for part in [p for p in path.split("/") if p]:
                exact = os.path.join(current, part)
                if os.path.lexists(exact):
                    current = exact
                    continue
                try:
                    match = next((n for n in os.listdir(current) if n.lower() == part.lower()), None)
                except OSError:
                    match = None
                current = os.path.join(current, match or part)
            return current

        def access(self, path, mode):
            if not os.access(self._real(path), mode):
                raise FuseOSError(errno.EACCES)

        def getattr(self, path, fh=None):
            try:
                st = os.lstat(self._real(path))
            except OSError as exc:
                raise FuseOSError(exc.errno) from None
            keys = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size", "st_uid",
                    "st_ino")
            return {key: getattr(st, key) for key in keys}

        def readdir(self, path, fh):
            """Each entry with its mode and inode (mfusepy passes a bare name on with an empty mode)."""
            real = self._real(path)
            entries = []
            for name in (".", "..", *os.listdir(real)):
                st = os.lstat(os.path.join(real, name))
                entries.append((name, {"st_mode": st.st_mode, "st_ino": st.st_ino}, 0))
            return entries

        def readlink(self, path):
            return os.readlink(self._real(path))

        def mkdir(self, path, mode):
            return os.mkdir(self._real(path), mode)

        def rmdir(self, path):
            return os.rmdir(self._real(path))

        def unlink(self, path):
            return os.unlink(self._real(path))

        def symlink(self, name, target):
            return os.symlink(target, self._real(name))

        def rename(self, old, new):
            return os.rename(self._real(old), self._real(new))

        def link(self, target, name):
            return os.link(self._real(name), self._real(target))

        def chmod(self, path, mode):
            return os.chmod(self._real(path), mode)

        def chown(self, path, uid, gid):
            return os.chown(self._real(path), uid, gid)

        def utimens(self, path, times=None):
            return os.utime(self._real(path), times)

        def statfs(self, path):
            st = os.statvfs(self._real(path))
            keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag",
                    "f_frsize", "f_namemax")
            return {key: getattr(st, key) for key in keys}

        def open(self, path, flags):
            return os.open(self._real(path), flags)

        def create(self, path, mode, fi=None):
            return os.open(self._real(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

        def read(self, path, length, offset, fh):
            os.lseek(fh, offset, os.SEEK_SET)
            return os.read(fh, length)

        def write(self, path, data, offset, fh):
            os.lseek(fh, offset, os.SEEK_SET)
            return os.write(fh, data)

        def truncate(self, path, length, fh=None):
            with open(self._real(path), "r+b") as f:
                f.truncate(length)

        def flush(self, path, fh):
            return os.fsync(fh)

        def release(self, path, fh):
            return os.close(fh)

        def fsync(self, path, datasync, fh):
            return os.fsync(fh)

    # use_ino: stat reports the inode underneath, so both spellings of a name are one file, as on APFS
    FUSE(CaseFolding(source), mountpoint, foreground=True, nothreads=True, use_ino=True)


def _is_mount(path: Path) -> bool:
    return os.path.ismount(path)


@contextmanager
def mounted(source: Path, mountpoint: Path, timeout: float = 20.0):
    """Mount a case-insensitive view of ``source`` at ``mountpoint`` for the ``with`` block."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, __file__, str(source), str(mountpoint)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while not _is_mount(mountpoint):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the case-insensitive view did not mount: {proc.stderr.read().decode()[-500:]}")
        time.sleep(0.05)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], capture_output=True)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
