"""A Ctrl-C that a library callback swallows is not printed as "Exception ignored" once the
request is recorded (it is acted on by raise_if_requested), nor is the failing finaliser of a
compiler object the signal left half-built; other unraisable errors still are."""

from __future__ import annotations

import signal
import sys

import pytest

from immunoreset.runs import interrupt


class _Raises:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __del__(self) -> None:
        raise self.exc


class _HalfBuilt(_Raises):
    """Stands for an llvmlite object whose construction a signal interrupted. Its own finaliser
    (not the inherited one) so that only it is marked as llvmlite's below."""

    def __del__(self) -> None:
        raise self.exc


_HalfBuilt.__del__.__module__ = "llvmlite.binding.passmanagers"


def test_swallowed_interrupt_is_quiet_and_other_errors_are_not(monkeypatch, capsys) -> None:
    monkeypatch.setattr(signal, "signal", lambda *_: None)
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    interrupt.install_handlers()
    interrupt._requested.append(signal.SIGINT)
    try:
        _Raises(KeyboardInterrupt())  # dropped at once: its __del__ raises inside a finaliser
        assert "KeyboardInterrupt" not in capsys.readouterr().err
        _Raises(ValueError("shown"))
        assert "ValueError: shown" in capsys.readouterr().err
        _Raises(AttributeError("also shown"))  # not the compiler's: still printed
        assert "AttributeError: also shown" in capsys.readouterr().err
        _HalfBuilt(AttributeError("'PassBuilder' object has no attribute '_as_parameter_'"))
        assert "_as_parameter_" not in capsys.readouterr().err
        with pytest.raises(KeyboardInterrupt):
            interrupt.raise_if_requested()
    finally:
        interrupt.reset()
