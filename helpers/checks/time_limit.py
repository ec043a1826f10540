"""Running the learner's code inside a check: a time limit, and a real interrupt told apart.

A check calls the learner's function in the notebook's own kernel (it has to: the function lives
there), so a function that never returns would hang the notebook. :class:`Guard` gives the
learner's code of one check :data:`TIME_LIMIT` seconds in all (every call of the check together;
the check's own work is not counted), then interrupts it with :class:`TimeUp`, which
:mod:`helpers.checks.core` turns into a one-line ✗ message. How it interrupts:

- **POSIX (Linux, macOS) in the main thread**, which is where a Jupyter kernel runs a cell
  (ipykernel 6 and 7): a ``SIGALRM`` timer (``signal.setitimer``) whose handler raises
  :class:`TimeUp` in the learner's code. It stops Python loops and also waits such as
  ``time.sleep``. If ``SIGALRM`` already has a handler or its timer is running (someone else
  uses it), they are left alone and the next way is used.
- **Elsewhere on CPython** (Windows, or a check run from another thread): a watchdog thread
  raises :class:`TimeUp` in the checking thread with ``PyThreadState_SetAsyncExc``. It stops
  Python code at its next bytecode; a blocking call (``time.sleep``) only when it returns.
- **Other Python implementations**: no time limit; a function that never returns is stopped
  with the kernel's interrupt button (■), as in any cell.

Neither way can stop one long call into compiled code (a NumPy routine on a huge array): the
interruption lands when it returns. Code that catches every exception (a bare ``except:``, or
``except BaseException:``) and carries on can swallow the interruption; :class:`TimeUp` is a
``BaseException`` so that the usual ``except Exception:`` does not.

**Interrupts.** ``KeyboardInterrupt`` (and ``SystemExit``) raised by the learner's code itself
(``raise KeyboardInterrupt``, ``sys.exit()``) is reported by the check like any other exception.
A real interrupt (Ctrl+C, or the kernel's interrupt button: ``SIGINT``, and on Windows
ipykernel's interrupt event, which calls the same Python-level ``SIGINT`` handler) must still
stop the check: while a check runs in the main thread, :class:`Guard` puts a ``SIGINT`` handler
in front of the one there, which notes that a real interrupt came (:attr:`Guard.interrupted`)
and passes it on, and the check lets that ``KeyboardInterrupt`` propagate, as any cell does. In
another thread no real interrupt can arrive, so every ``KeyboardInterrupt`` there is the
learner's.
"""

from __future__ import annotations

import ctypes
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

__all__ = ["TIME_LIMIT", "Guard", "TimeUp"]

TIME_LIMIT = 10.0
"""Seconds the learner's code may run during one check, all its calls together."""


class TimeUp(BaseException):
    """Raised in the learner's code when its check's time is up (a ``BaseException``, see above)."""


def _alarm_is_free() -> bool:
    """True when ``SIGALRM`` can be used here: POSIX, the main thread, nobody else using it."""
    return (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
            and signal.getitimer(signal.ITIMER_REAL)[0] == 0)


def _raise_time_up(signum, frame):
    raise TimeUp


class Guard:
    """The time limit and the interrupt watch of one check.

    ``with Guard() as guard:`` around the check, then ``guard.run(fn, *args)`` for each call of
    the learner's function: returns what ``fn`` returns, or raises :class:`TimeUp` once the
    calls together have used ``limit`` seconds (:data:`TIME_LIMIT` by default).
    ``guard.interrupted`` is true once a real interrupt (``SIGINT``) arrived during the check.
    """

    def __init__(self, limit: float | None = None):
        self.limit = TIME_LIMIT if limit is None else float(limit)
        self.used = 0.0
        self.interrupted = False
        self._restore: list[Callable[[], object]] = []
        self._alarm = False

    def __enter__(self) -> Guard:
        if threading.current_thread() is threading.main_thread():
            self._watch_interrupts()
        self._alarm = _alarm_is_free()
        if self._alarm:
            signal.signal(signal.SIGALRM, _raise_time_up)
            self._restore.append(lambda: signal.signal(signal.SIGALRM, signal.SIG_DFL))
        return self

    def __exit__(self, *exc) -> None:
        while self._restore:
            self._restore.pop()()

    def _watch_interrupts(self) -> None:
        previous = signal.getsignal(signal.SIGINT)

        def on_sigint(signum, frame):
            if previous is signal.SIG_IGN:
                return
            self.interrupted = True
            if callable(previous):  # Python's default_int_handler (a kernel's, pytest's) raises
                return previous(signum, frame)  # KeyboardInterrupt; another handler does its own thing
            raise KeyboardInterrupt  # SIG_DFL would end the process: stop the check instead

        try:
            signal.signal(signal.SIGINT, on_sigint)
        except (ValueError, OSError):  # an embedding that forbids it: no watch, nothing to restore
            return
        self._restore.append(lambda: signal.signal(signal.SIGINT, previous))

    def run(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` within what is left of the time limit."""
        left = self.limit - self.used
        if left <= 0:
            raise TimeUp
        start = time.monotonic()
        try:
            with self._deadline(left):
                return fn(*args, **kwargs)
        finally:
            self.used += time.monotonic() - start

    def _deadline(self, seconds: float):
        if self._alarm:
            return _alarm_deadline(seconds)
        if sys.implementation.name == "cpython":
            return _thread_deadline(seconds)
        return _no_deadline()


@contextmanager
def _alarm_deadline(seconds: float):
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _set_async_exc(thread_id: int, exc) -> None:
    """Raise ``exc`` in thread ``thread_id`` at its next bytecode (``None``: cancel a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc) if exc else None)


@contextmanager
def _thread_deadline(seconds: float):
    target, lock = threading.get_ident(), threading.Lock()
    state = {"running": True, "fired": False}

    def fire():
        with lock:
            if state["running"]:
                state["fired"] = True
                _set_async_exc(target, TimeUp)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["running"] = False
        timer.cancel()
        if state["fired"]:
            _set_async_exc(target, None)  # fired as the call returned: not delivered, cancel it


@contextmanager
def _no_deadline():
    yield
