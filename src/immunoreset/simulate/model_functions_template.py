"""A model's own right-hand side, observables and switch functions as C functions, written once and
specialised per model (see :mod:`.kernels`, which replaces the binding line with an import of the
model's functions and the model's sizes).

The integrator calls these functions through their addresses (:mod:`.native`): the ones here serve
the patients whose parameters take other decisions than the traced functions of :mod:`.analytic`
rest on, models whose functions cannot be traced, and runs that ask for the model's own functions
(``solver: {rhs: model}``).
"""

import numba

from immunoreset.simulate.native import SIGNATURE

_rhs = _observe = _switches = None  # @bind-model
_N_STATES = _N_PARAMETERS = _N_SWITCHES = _N_OBSERVABLES = None  # @bind-sizes


@numba.cfunc(SIGNATURE, cache=True)
def rhs(y, p, mode, t, out):
    """The model's ``rhs(t, y, p, mode, out)`` on arrays over the pointers of the C call."""
    _rhs(
        t,
        numba.carray(y, _N_STATES),
        numba.carray(p, _N_PARAMETERS),
        numba.carray(mode, _N_SWITCHES),
        numba.carray(out, _N_STATES),
    )


@numba.cfunc(SIGNATURE, cache=True)
def observe(y, p, mode, t, out):
    """The model's ``observe(t, y, p, out)``; ``mode`` is not read."""
    _observe(
        t,
        numba.carray(y, _N_STATES),
        numba.carray(p, _N_PARAMETERS),
        numba.carray(out, _N_OBSERVABLES),
    )


@numba.cfunc(SIGNATURE, cache=True)
def switches(y, p, mode, t, out):
    """The model's ``switches(t, y, p, g)``; ``mode`` is not read."""
    _switches(
        t,
        numba.carray(y, _N_STATES),
        numba.carray(p, _N_PARAMETERS),
        numba.carray(out, _N_SWITCHES),
    )
