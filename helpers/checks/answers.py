"""Calling the learner's code and reading what it returns, for :mod:`helpers.checks`: :func:`_call`
runs it within the check's time limit (:mod:`helpers.checks.time_limit`; any exception becomes a
one-line :class:`_Fail`), :func:`_as_array` refuses anything but real numbers, and :func:`_close`,
:func:`_fmt` and :func:`_fmt_pair` compare and print numbers the way every message does."""

from __future__ import annotations

import numbers
from contextvars import ContextVar

import numpy as np

from helpers.checks.time_limit import Guard, TimeUp


class _Fail(Exception):
    """A test case failed; ``what`` says what is wrong, ``hint`` what to look at."""

    def __init__(self, what: str, hint: str = ""):
        super().__init__(what)
        self.what, self.hint = what, hint


class _NotDone(Exception):
    """The learner's function still raises a stub's ``NotImplementedError`` (message kept)."""


_GUARD: ContextVar[Guard | None] = ContextVar("_GUARD", default=None)
"""The time limit and interrupt watch of the check running now (None outside a check)."""


# --------------------------------------------------------------------------------------------
# Calling the learner's code and comparing what it returns
# --------------------------------------------------------------------------------------------

def _one_line(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call(fn, *args, **kwargs):
    """Call the learner's ``fn`` within the check's time limit; every exception becomes one line.

    Inside a check (:func:`check_task`) the call goes through the check's
    :class:`~helpers.checks.time_limit.Guard`: past the time limit it fails with "did not return
    within 10 s". ``SystemExit`` and a ``KeyboardInterrupt`` raised by ``fn`` itself are reported
    like any exception; a real interrupt (Ctrl+C, the kernel's ■) propagates and stops the check.
    """
    guard = _GUARD.get()
    try:
        return fn(*args, **kwargs) if guard is None else guard.run(fn, *args, **kwargs)
    except NotImplementedError as exc:
        raise _NotDone(str(exc)) from None
    except _Fail:
        raise
    except TimeUp:
        raise _Fail(f"your function did not return within {guard.limit:g} s: is there a loop that never ends?",
                    "Run it on a small example in a new cell; if that hangs too, stop it with ■ and check "
                    "when each loop ends.") from None
    except KeyboardInterrupt:
        if guard is None or guard.interrupted:
            raise  # a real interrupt: stop the check, as in any cell
        raise _Fail("your function raised KeyboardInterrupt.",
                    "Hand the result back with `return`; to stop a cell, use the ■ button.") from None
    except SystemExit:
        raise _Fail("your function raised SystemExit (as exit() and sys.exit() do).",
                    "Hand the result back with `return`: exit() ends a script, not a function.") from None
    except Exception as exc:  # the learner's bug, reported in one line
        kind = type(exc).__name__
        msg = _one_line(exc)
        hint = "Run your function on a small example in a new cell to see where it fails."
        if isinstance(exc, TypeError) and ("argument" in msg or "positional" in msg):
            hint = "Keep the function's signature exactly as given in the task."
        elif isinstance(exc, ValueError) and ("shape" in msg or "align" in msg or "broadcast" in msg):
            hint = "Check the shapes: print `X.shape`, `w.shape` and what you multiply."
        elif isinstance(exc, NameError):
            hint = "Run the Setup cell first, and use only names defined there or in your function."
        raise _Fail(f"your function raised {kind}: {msg}", hint) from None
    except BaseException as exc:  # noqa: B036 -- e.g. GeneratorExit: still the learner's, still one line
        raise _Fail(f"your function raised {type(exc).__name__}: {_one_line(exc)}",
                    "Run your function on a small example in a new cell to see where it fails.") from None


def _not_real(x) -> tuple[str, str] | None:
    """``(name, example)`` of an entry ``x`` that is not a real number; None when it is one."""
    if isinstance(x, bool | np.bool_):
        return "True/False values", ""
    if isinstance(x, str | bytes):
        return "text", f" ({_one_line(repr(x), 30)})"
    if isinstance(x, complex | np.complexfloating):
        return "complex numbers", f" ({x.real:.4g}{x.imag:+.4g}j)"
    if isinstance(x, numbers.Real):
        return None
    return ("None", "") if x is None else (f"a {type(x).__name__}", "")


def _entries(items):
    """The entries of nested lists, tuples and arrays, in order, as Python objects."""
    for x in items:
        if isinstance(x, list | tuple):
            yield from _entries(x)
        elif isinstance(x, np.ndarray):
            yield from _entries(x.ravel().tolist())
        else:
            yield x


_NOT_REAL_HINTS = {
    "True/False values": "A comparison gives True or False: return the number itself "
                         "(or count the Trues with np.sum / np.mean).",
    "text": "Return the numbers themselves, not str(...) or an f-string of them.",
    "complex numbers": "Return real numbers: look for a 1j, or a fractional power (** 0.5) of a negative number.",
}


def _as_array(got) -> np.ndarray:
    """The learner's answer as a float array, or :class:`_Fail` saying what it is instead.

    Numbers, arrays and (nested) lists of real numbers pass (integers too, and anything NumPy
    reads as numbers, e.g. a TensorFlow tensor). Refused, each with its own message: ``None``;
    text (never parsed, so ``"0.5"`` is not 0.5); True/False, even one among numbers; complex
    numbers, even with a zero imaginary part; any other object, alone or in a list or array.
    """
    if got is None:
        raise _Fail("your function returned None.", "Add a `return` statement at the end.")
    kind = "NumPy array" if isinstance(got, np.ndarray) else type(got).__name__
    arr = _read(got, kind)
    if arr.dtype.kind in "iuf" and not isinstance(got, list | tuple):  # NumPy reads [0.5, True] as numbers
        return arr.astype(float)
    entries = list(_entries([got])) if arr.ndim or isinstance(got, list | tuple) else [got]
    odd = [(x, name) for x in entries if (name := _not_real(x))]
    whole = len(odd) == len(entries)  # every entry is of the wrong kind, or one among numbers
    if not odd:
        if arr.dtype.kind in "iuf":
            return arr.astype(float)
        odd, whole = [(None, (f"{type(entries[0]).__name__} objects" if entries else f"{arr.dtype} values", ""))], True
    imaginary = [name for x, name in odd if isinstance(x, complex) and x.imag]
    name, example = imaginary[0] if imaginary else odd[0][1]  # show a 1j rather than a +0j
    what = f"{name}{example}, not real numbers" if whole else f"a {kind} holding {name}{example}, not only real numbers"
    raise _Fail(f"your function returned {what}.",
                _NOT_REAL_HINTS.get(name, "Return a NumPy array (or a float), as the task says."))


def _read(got, kind: str) -> np.ndarray:
    """``np.asarray(got)``: reading the value is the learner's code too (an object's ``__array__``,
    ``__len__`` or ``__getitem__``), so it runs under the check's time limit, and whatever it raises
    is said as what it is: the returned value could not be read, not a failure of the check."""
    guard = _GUARD.get()
    try:
        return np.asarray(got) if guard is None else guard.run(np.asarray, got)
    except (TypeError, ValueError):  # rows of different lengths, or an object NumPy cannot read
        raise _Fail(f"your function returned a {kind} that is not an array of numbers.",
                    "Return a NumPy array (or a float), as the task says; rows must have equal lengths.") from None
    except TimeUp:
        raise _Fail(f"reading the {kind} your function returned as numbers did not finish within "
                    f"{guard.limit:g} s.", "Return a NumPy array (or a float), as the task says.") from None
    except KeyboardInterrupt:
        if guard is None or guard.interrupted:
            raise
        raise _Fail(f"reading the {kind} your function returned raised KeyboardInterrupt.",
                    "Return a NumPy array (or a float), as the task says.") from None
    except BaseException as exc:  # noqa: B036 -- the learner's object (even its sys.exit()), in one line
        raise _Fail(f"your function returned a {kind} that raised {type(exc).__name__} when read as numbers: "
                    f"{_one_line(exc)}", "Return a NumPy array (or a float), as the task says.") from None


def _close(a, b, rtol=1e-6, atol=1e-9) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _fmt(x) -> str:
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return f"{float(x):.4g}"
    flat = ", ".join(f"{v + 0.0:.4g}" for v in x.ravel()[:4])  # + 0.0: no "-0"
    return f"[{flat}{', …' if x.size > 4 else ''}]"


def _fmt_pair(expected: float, got: float) -> tuple[str, str]:
    """Two numbers with the fewest significant digits (4 at least) that tell them apart."""
    for digits in range(4, 18):
        a, b = f"{float(expected):.{digits}g}", f"{float(got):.{digits}g}"
        if a != b:
            break
    return a, b
