"""SBML Level 3 Version 2 export of a model, with its parameters' sources and, optionally, the
dosing of a scenario.

What is written:

* every state as a non-constant parameter with a rate rule (``d state/dt``) and an initial
  assignment (the model's pre-treatment state); every model parameter as a constant parameter
  with its value; every observable as a parameter defined by an assignment rule, in its clinical
  unit;
* for each discrete switch, a ``mode_<switch>`` parameter and two events that set it to 1 when the
  switch function becomes positive and to 0 when it stops being positive; the right-hand sides
  read the modes as factors (0 or 1), or through ``piecewise`` where the model branches on them;
* with a scenario, one event per dosing event of its typical patient (``time >= day``), whose
  assignments are the model's own ``dose`` function applied to symbols, with the amount as a
  parameter ``dose_<k>_amount`` that users may change.

A branch of the model on a state or on time (written with :func:`immunoreset.model.kernel.where`)
becomes a ``piecewise``; a branch on a parameter is decided by the value exported.

Time is in days (the model's ``timeUnits``). Other units are free text in this project (``cells/uL``,
``IU/mL``): each quantity carries its unit, meaning, source and confidence in its SBML notes rather
than as an SBML unit definition, which would misstate units such as ``percent`` or ``score``.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from immunoreset.export.symbolic import TIME, SymbolicError, rates, symbolic, symbols
from immunoreset.model.core import Model
from immunoreset.observables import OBSERVABLES
from immunoreset.therapy.regimen import DosingEvents


class SbmlExportError(ValueError):
    """The model cannot be written as SBML (a name clash, a function that cannot be traced)."""


class _L3Printer(StrPrinter):
    """sympy -> libSBML Level 3 infix formula (``^`` for powers, ``ln``, ``piecewise``)."""

    def _print_Pow(self, expr: sp.Pow) -> str:
        base, exp = expr.as_base_exp()
        if exp == sp.Rational(1, 2):
            return f"sqrt({self._print(base)})"
        return f"({self._print(base)})^({self._print(exp)})"

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))

    def _print_Rational(self, expr: sp.Rational) -> str:
        return f"({expr.p}/{expr.q})"

    def _print_Integer(self, expr: sp.Integer) -> str:
        return str(int(expr))

    def _print_log(self, expr: sp.log) -> str:
        return f"ln({self._print(expr.args[0])})"

    def _print_exp(self, expr: sp.exp) -> str:
        return f"exp({self._print(expr.args[0])})"

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Max(self, expr: sp.Max) -> str:
        # Level 3 Version 2 has max and min; written as piecewise they would make simulators
        # such as libRoadRunner track every branch as a root (slow near zero crossings).
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr: sp.Min) -> str:
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        parts = []
        for value, cond in expr.args:
            if cond is sp.true:
                parts.append(self._print(value))
            else:
                parts += [self._print(value), self._print(cond)]
        return f"piecewise({', '.join(parts)})"

    def _print_And(self, expr: sp.And) -> str:
        return " && ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Or(self, expr: sp.Or) -> str:
        return " || ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Not(self, expr: sp.Not) -> str:
        return f"!({self._print(expr.args[0])})"

    def _print_Relational(self, expr: sp.core.relational.Relational) -> str:
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"

    def _print_BooleanTrue(self, expr: Any) -> str:
        return "true"

    def _print_BooleanFalse(self, expr: Any) -> str:
        return "false"


def formula(expr: Any) -> str:
    """``expr`` as a libSBML Level 3 formula string."""
    return _L3Printer().doprint(sp.sympify(expr))


def _mode_ids(model: Model) -> list[str]:
    return [f"mode_{name}" for name in model.switch_names]


def output_ids(model: Model) -> list[str]:
    """SBML ids of the outputs: their names, with ``_output`` appended where a name is also a
    parameter."""
    return [o + "_output" if o in model.parameter_names else o for o in model.observables]


def state_ids(model: Model) -> list[str]:
    """SBML ids of the states: their names, with ``_state`` appended where a name is also an
    output or a parameter (Park 2025's state ``c3`` and output ``c3`` differ in unit)."""
    taken = set(model.observables) | set(model.parameter_names)
    return [s.name + "_state" if s.name in taken else s.name for s in model.states]


def _notes(text: str) -> str:
    return f'<body xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(text)}</p></body>'


def _check(code: int, what: str) -> None:
    import libsbml

    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise SbmlExportError(
            f"SBML: {what} failed ({libsbml.OperationReturnValue_toString(code)})"
        )


def _math(text: str, what: str) -> Any:
    import libsbml

    ast = libsbml.parseL3Formula(text)
    if ast is None:
        raise SbmlExportError(f"SBML: cannot write {what}: {libsbml.getLastParseL3Error()}")
    return ast


def _parameter(sbml_model: Any, pid: str, value: float | None, constant: bool, note: str) -> Any:
    par = sbml_model.createParameter()
    _check(par.setId(pid), f"id {pid}")
    par.setConstant(constant)
    if value is not None:
        par.setValue(float(value))
    if note:
        par.setNotes(_notes(note))
    return par


def export_sbml(
    model: Model,
    events: DosingEvents | None = None,
    parameters: np.ndarray | None = None,
    start: float = 0.0,
) -> str:
    """The SBML (Level 3 Version 2) text of ``model``.

    Args:
        model: the model.
        events: dosing events of one patient (row 0 of ``events.amounts``), e.g. a scenario's
            typical patient; None writes the model without dosing.
        parameters: parameter values to write (default: the typical patient).
        start: the day simulations start (a scenario's first day, -6 when lymphodepletion starts
            on day -5). The switch modes are set for that day after the doses given on it, and
            the doses of later days never fire at the simulator's initialisation: libRoadRunner
            initialises every model at time 0 before it moves to the start, which would give
            every dose of days up to 0 at once.

    Raises:
        SbmlExportError: an identifier clash, or a model function that branches on a value.
    """
    import libsbml

    values = model.typical_parameters() if parameters is None else np.asarray(parameters, float)
    ids = state_ids(model) + list(model.parameter_names) + _mode_ids(model)
    ids += output_ids(model)
    clashes = sorted({i for i in ids if ids.count(i) > 1})
    if clashes:
        raise SbmlExportError(f"model {model.name}: identifiers used twice: {', '.join(clashes)}")
    try:
        dydt = rates(model, values, state_ids(model), _mode_ids(model))
        y, p = symbols(state_ids(model)), symbols(list(model.parameter_names), values)
        y0 = np.zeros(model.n_states, dtype=object)
        symbolic(model.initial_state)(p, y0)
        g = np.zeros(len(model.switch_names), dtype=object)
        if len(g):
            symbolic(model.switches)(TIME, y, p, g)
        out = np.zeros(len(model.observables), dtype=object)
        symbolic(model.observe)(TIME, y, p, out)
    except SymbolicError as exc:
        raise SbmlExportError(f"model {model.name}: {exc}") from None

    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId(model.name)
    m.setName(model.title)
    m.setNotes(_notes(f"{model.title}. {model.reference}. Exported by immunoreset."))
    day = m.createUnitDefinition()
    day.setId("day")
    unit = day.createUnit()
    unit.setKind(libsbml.UNIT_KIND_SECOND)
    unit.setExponent(1)
    unit.setScale(0)
    unit.setMultiplier(86400.0)
    m.setTimeUnits("day")

    for param, value in zip(model.parameters, values, strict=True):
        _parameter(m, param.name, value, True,
                   f"{param.meaning} [{param.unit}]. Source: {param.source}. "
                   f"Confidence: {param.confidence}.")  # fmt: skip
    for sid, state, rate, init in zip(state_ids(model), model.states, dydt, y0, strict=True):
        par = _parameter(m, sid, 0.0, False, f"state: {state.description} [{state.unit}]")
        par.setName(state.name)
        rule = m.createRateRule()
        rule.setVariable(sid)
        _check(rule.setMath(_math(formula(rate), f"rate of {sid}")), sid)
        ia = m.createInitialAssignment()
        ia.setSymbol(sid)
        _check(ia.setMath(_math(formula(init), f"initial {sid}")), sid)
    g0 = _switches_after_start_doses(model, events, y, p, g, start)
    for k, (mode_id, gk, gk0) in enumerate(zip(_mode_ids(model), g, g0, strict=True)):
        _parameter(m, mode_id, 0.0, False,
                   f"switch {model.switch_names[k]}: 1 while its function is positive")  # fmt: skip
        ia = m.createInitialAssignment()
        ia.setSymbol(mode_id)
        _check(ia.setMath(_math(formula(sp.Piecewise((1, gk0 > 0), (0, True))), mode_id)), mode_id)
        for value, trigger in ((1, f"{formula(gk)} > 0"), (0, f"{formula(gk)} <= 0")):
            # Never fire at initialisation (initial value true): the initial assignment already
            # holds the mode after any dose given at the start (simulators cascade start events
            # differently).
            ev = _event(m, f"{mode_id}_{'on' if value else 'off'}", trigger, initial_value=True)
            _assign(ev, mode_id, str(value))
    for oid, name, expr in zip(output_ids(model), model.observables, out, strict=True):
        obs = OBSERVABLES[name]
        par = _parameter(m, oid, None, False, f"output: {obs.description} [{obs.unit}]")
        par.setName(name)
        rule = m.createAssignmentRule()
        rule.setVariable(oid)
        _check(rule.setMath(_math(formula(expr), f"output {name}")), name)
    if events is not None:
        _dosing(m, model, events, y, p, start)
    errors = doc.checkInternalConsistency()
    if errors:
        raise SbmlExportError(f"SBML: {doc.getError(0).getMessage().strip()}")
    return libsbml.writeSBMLToString(doc)


def _event(m: Any, eid: str, trigger: str, initial_value: bool) -> Any:
    """A persistent event with ``trigger``, using values from its trigger time."""
    ev = m.createEvent()
    _check(ev.setId(eid), f"event {eid}")
    ev.setUseValuesFromTriggerTime(True)
    trig = ev.createTrigger()
    trig.setInitialValue(initial_value)
    trig.setPersistent(True)
    _check(trig.setMath(_math(trigger, f"trigger of {eid}")), eid)
    return ev


def _assign(event: Any, variable: str, text: str) -> None:
    ea = event.createEventAssignment()
    ea.setVariable(variable)
    _check(ea.setMath(_math(text, f"{event.getId()} on {variable}")), variable)


def _switches_after_start_doses(model: Model, events: DosingEvents | None, y: np.ndarray,
                                p: np.ndarray, g: np.ndarray, start: float) -> np.ndarray:  # fmt: skip
    """Switch functions at the start after the doses given then, as the engine sets its modes
    (doses first, then the modes)."""
    if not len(g):
        return g
    after = y.copy()
    if events is not None:
        dose = symbolic(model.dose)
        for k in np.flatnonzero(events.times == start):
            dose(int(events.inputs[k]), sp.Symbol(f"dose_{k}_amount"), p, after)
    g0 = np.zeros(len(g), dtype=object)
    symbolic(model.switches)(sp.Float(start) if start else sp.Integer(0), after, p, g0)
    return g0


def _dosing(m: Any, model: Model, events: DosingEvents, y: np.ndarray, p: np.ndarray,
            start: float) -> None:  # fmt: skip
    """One event per dose. A dose on the start day fires at initialisation (initial value false);
    a later one only when time reaches its day (initial value true), even if a simulator
    initialises at a time after that day."""
    dose = symbolic(model.dose)
    for k, (time, index) in enumerate(zip(events.times, events.inputs, strict=True)):
        amount_id = f"dose_{k}_amount"
        inp = model.inputs[int(index)]
        _parameter(m, amount_id, float(events.amounts[0, k]), True,
                   f"dose {k}: {inp.description} at day {time:g} [{inp.unit}]")  # fmt: skip
        after = y.copy()
        dose(int(index), sp.Symbol(amount_id), p, after)
        ev = _event(m, f"dose_{k}", f"time >= {float(time)!r}", initial_value=bool(time > start))
        for sid, before, new in zip(state_ids(model), y, after, strict=True):
            if sp.simplify(new - before) != 0:
                _assign(ev, sid, formula(new))


def export_scenario_sbml(scenario: Any) -> str:
    """SBML of a scenario's model with its typical patient (product composition and parameter
    overrides applied) and that patient's dosing events."""
    from immunoreset.runs.inputs import prepare

    inputs = prepare(scenario)
    params = inputs.model.typical_parameters(inputs.overrides)
    return export_sbml(inputs.model, inputs.events(params[None, :]), params, inputs.t_start)
