"""A model's own right-hand side as a C function, written once and specialised per model (see
:mod:`.kernels`, which replaces the binding line with an import of the model's ``rhs`` and the
model's sizes).

The integrator calls the right-hand side through an address (:mod:`.native`): this function serves
the patients whose parameters take other decisions than the traced equations of
:mod:`.analytic` rest on, and models whose equations cannot be traced.
"""

import numba

from immunoreset.simulate.native import SIGNATURE

_rhs = _N_STATES = _N_PARAMETERS = _N_SWITCHES = None  # @bind-model


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
