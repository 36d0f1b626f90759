"""Clean stops: Ctrl-C (SIGINT) and SIGTERM become exceptions that every layer lets through.

The command line installs :func:`install_handlers`; each handler records the signal and raises
(``KeyboardInterrupt`` for SIGINT, :class:`Terminated` for SIGTERM). Code that may swallow an
exception while it runs (a compiler, a library callback) cannot hide the request for long: the run
loop calls :func:`raise_if_requested` after each compiled call and each chunk, which raises again.
An exception that such a callback swallows (llvmlite's object-cache callback during compilation,
say) would be printed by Python as "Exception ignored" with a traceback; the installed
``sys.unraisablehook`` keeps those quiet, since the request is recorded and acted on, and so are
the failing finalisers of compiler objects the signal left half-built. Notebooks
keep their own Ctrl-C handling; nothing is installed unless asked.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

_requested: list[int] = []


class Terminated(BaseException):
    """The process received SIGTERM."""


def _exception(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated()


def _handler(signum: int, frame: FrameType | None) -> None:
    _requested.append(signum)
    raise _exception(signum)


def install_handlers() -> None:
    """Route SIGINT and SIGTERM through :func:`_handler` (main thread only), and keep the
    exceptions that a callback swallows from being printed (see the module docstring)."""
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    previous = sys.unraisablehook

    def quiet(unraisable: sys.UnraisableHookArgs) -> None:
        if _requested and isinstance(unraisable.exc_value, (KeyboardInterrupt, Terminated)):
            return
        if _requested and _from_the_compiler(unraisable.object):
            return
        previous(unraisable)

    sys.unraisablehook = quiet


def _from_the_compiler(obj: object) -> bool:
    """True for a finaliser of llvmlite (the compiler's LLVM binding). A signal that lands while
    llvmlite builds an object leaves it half-built; its finaliser then fails when the object is
    collected (``AttributeError: 'PassBuilder' object has no attribute '_as_parameter_'``) and
    Python would print that after the stop message. It is a consequence of the stop, not news."""
    return (getattr(obj, "__module__", None) or "").startswith("llvmlite")


def raise_if_requested() -> None:
    """Raise for a signal received earlier, even if its first exception was swallowed."""
    if _requested:
        raise _exception(_requested[0])


def requested_signal() -> int | None:
    """The first signal received since :func:`reset`, or None. A signal that arrives while a
    compiled function runs can come back as another exception: the function returns with the
    handler's exception set and Python reports a ``SystemError``; callers that catch exceptions
    ask this to tell such a stop from a bug."""
    return _requested[0] if _requested else None


def reset() -> None:
    """Forget received signals (for a new run in the same process)."""
    _requested.clear()
