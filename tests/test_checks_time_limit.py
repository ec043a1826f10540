"""A check's time limit, exits and interrupts (helpers/checks/time_limit.py), also in a real kernel.

The limit is lowered to a fraction of a second here (``TIME_LIMIT`` is read when a check starts),
so nothing waits 10 s.
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from helpers.checks import check_task, time_limit

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 0.3


@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(time_limit, "TIME_LIMIT", LIMIT)


def _forever(w, lam):
    x = 0
    while True:
        x += 1


def _sleeps(w, lam):
    time.sleep(60)


def _timed_check(fn, task_id="03.1"):
    start = time.monotonic()
    result = check_task(task_id, fn, quiet=True)
    return result, time.monotonic() - start


def test_the_limit_is_one_constant_of_about_ten_seconds():
    assert time_limit.TIME_LIMIT == 10.0
    assert time_limit.Guard().limit == 10.0


@pytest.mark.parametrize("fn", [_forever, _sleeps], ids=["a loop", "a sleep"])
def test_a_function_that_never_returns_fails_in_one_line(short_limit, fn):
    result, seconds = _timed_check(fn)
    assert not result.passed
    assert result.message.startswith("✗ Task 03.1 (the gradient of the L2 penalty): your function did not "
                                     f"return within {LIMIT:g} s: is there a loop that never ends?")
    assert len(result.message.splitlines()) == 2 and "Traceback" not in result.message
    assert LIMIT <= seconds < LIMIT + 2


def test_the_limit_counts_every_call_of_one_check(short_limit):
    def slow(w, lam):  # each call well within the limit, all of them together not
        time.sleep(0.2)
        return 2 * lam * np.asarray(w)

    result, seconds = _timed_check(slow)
    assert not result.passed and "did not return within" in result.message
    assert seconds < 1.5


def test_nothing_is_left_behind(short_limit):
    sigint = signal.getsignal(signal.SIGINT)
    check_task("03.1", _forever, quiet=True)
    assert signal.getsignal(signal.SIGINT) is sigint
    if hasattr(signal, "SIGALRM"):
        assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    time.sleep(LIMIT + 0.1)  # no late interruption of the code that follows
    assert check_task("03.1", lambda w, lam: 2 * lam * np.asarray(w), quiet=True).passed


def test_in_another_thread_a_watchdog_stops_it(short_limit):
    results = []
    worker = threading.Thread(target=lambda: results.append(_timed_check(_forever)))
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive()
    (result, seconds), = results
    assert "did not return within" in result.message and seconds < LIMIT + 2


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="POSIX only")
def test_a_sigalrm_in_use_is_left_alone(short_limit):
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        result, _ = _timed_check(_forever)
        assert "did not return within" in result.message  # the watchdog thread did it
        assert signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL and not fired
    finally:
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("leave, expected", [
    (lambda: sys.exit(1), "your function raised SystemExit (as exit() and sys.exit() do)."),
    (lambda: exit(), "your function raised SystemExit"),  # noqa: PLR1722 -- the learner's exit()
    (lambda: (_ for _ in ()).throw(KeyboardInterrupt), "your function raised KeyboardInterrupt."),
    (lambda: (_ for _ in ()).throw(GeneratorExit), "your function raised GeneratorExit"),
])
def test_exits_raised_by_the_learner_are_one_line(leave, expected, capsys):
    result = check_task("03.1", lambda w, lam: leave())
    out = capsys.readouterr().out
    assert not result.passed and expected in out
    assert len(out.strip().splitlines()) == 2 and "Traceback" not in out


class _Reading:
    """A returned object whose reading as numbers is the learner's code too (NumPy calls ``__array__``)."""

    def __init__(self, read):
        self.read = read

    def __array__(self, dtype=None, copy=None):
        return self.read()


@pytest.mark.parametrize("read, expected", [
    (lambda: 1 / 0, "your function returned a _Reading that raised ZeroDivisionError when read as numbers: "
                    "division by zero"),
    (lambda: sys.exit(1), "your function returned a _Reading that raised SystemExit when read as numbers"),
    (lambda: time.sleep(60), f"reading the _Reading your function returned as numbers did not finish within "
                             f"{LIMIT:g} s."),
], ids=["raises", "exits", "hangs"])
def test_an_answer_whose_reading_fails_or_hangs_is_one_line(short_limit, read, expected):
    start = time.monotonic()
    result = check_task("03.1", lambda w, lam: _Reading(read), quiet=True)
    assert not result.passed and expected in result.message, result.message
    assert len(result.message.splitlines()) == 2 and "Traceback" not in result.message
    assert time.monotonic() - start < LIMIT + 2


@pytest.mark.parametrize("interrupt", [lambda: signal.raise_signal(signal.SIGINT), _thread.interrupt_main],
                         ids=["SIGINT", "interrupt_main"])
def test_a_real_interrupt_stops_the_check(interrupt):
    def interrupted(w, lam):
        interrupt()  # Ctrl+C, or the kernel's ■ (on Windows ipykernel calls interrupt_main)
        time.sleep(5)

    # Ctrl+C raises KeyboardInterrupt, as in a kernel, even when the shell that started pytest in the
    # background left SIGINT ignored (then neither raise_signal nor interrupt_main would do anything)
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        sigint = signal.getsignal(signal.SIGINT)
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            check_task("03.1", interrupted)
        assert time.monotonic() - start < 2
        assert signal.getsignal(signal.SIGINT) is sigint
    finally:
        signal.signal(signal.SIGINT, outer)


def _kernel_output(kc, code: str, timeout: float = 60) -> tuple[str, str | None]:
    """Run ``code`` in the kernel: (its printed text, the name of its error or None)."""
    msg_id = kc.execute(code)
    text, error = [], None
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "stream":
            text.append(msg["content"]["text"])
        elif kind == "error":
            error = msg["content"]["ename"]
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(text), error


@pytest.mark.skipif(sys.platform == "win32", reason="the kernel test drives a POSIX kernel")
def test_in_a_jupyter_kernel_a_loop_is_stopped_and_the_interrupt_button_still_works():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT), env=dict(os.environ))
    try:
        setup = ("import numpy as np\nfrom helpers.checks import check_task, time_limit\n"
                 f"time_limit.TIME_LIMIT = {LIMIT}\n"
                 "def forever(w, lam):\n    print('running', flush=True)\n    while True:\n        pass\n")
        assert _kernel_output(kc, setup) == ("", None)
        text, error = _kernel_output(kc, "check_task('03.1', forever)")
        assert error is None and text.startswith(f"running\n✗ Task 03.1 (the gradient of the L2 penalty): your "
                                                 f"function did not return within {LIMIT:g} s")
        msg_id = kc.execute("time_limit.TIME_LIMIT = 60\ncheck_task('03.1', forever)")
        errors = []
        while True:  # interrupt once the learner's loop runs: that stops the check, as in any cell
            msg = kc.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream" and "running" in msg["content"]["text"]:
                km.interrupt_kernel()
            if msg["msg_type"] == "error":
                errors.append(msg["content"]["ename"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        assert errors == ["KeyboardInterrupt"]
        assert _kernel_output(kc, "print(check_task('03.1', lambda w, lam: 2 * lam * np.asarray(w)).passed)") \
            == ("✓ Task 03.1 passed: your gradient 2λw matches on a vector, a matrix and weights drawn at random."
                "\nTrue\n", None)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
