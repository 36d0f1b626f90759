"""The integrators are compiled at the engine's LLVM optimisation level, and numba's own setting is
left as it was (:func:`immunoreset.simulate.kernels.compile_settings`)."""

from __future__ import annotations

from numba.core import config

from immunoreset.simulate.kernels import OPT_LEVEL, compile_settings


def test_the_level_holds_inside_the_block_and_numbas_returns_after(monkeypatch) -> None:
    monkeypatch.delenv("NUMBA_OPT", raising=False)
    before = config.OPT
    with compile_settings():
        assert int(config.OPT) == OPT_LEVEL
        assert not config.OPT.is_opt_max  # numba's code generator reads this attribute
    assert config.OPT is before


def test_a_users_numba_opt_wins(monkeypatch) -> None:
    monkeypatch.setenv("NUMBA_OPT", "3")
    before = config.OPT
    with compile_settings():
        assert config.OPT is before
    assert config.OPT is before


def test_numbas_level_is_restored_after_an_error(monkeypatch) -> None:
    monkeypatch.delenv("NUMBA_OPT", raising=False)
    before = config.OPT
    try:
        with compile_settings():
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert config.OPT is before
