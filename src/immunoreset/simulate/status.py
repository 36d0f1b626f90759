"""Per-patient outcome codes of the engine and what they mean to a user.

A failed patient keeps the outputs recorded before the failure (NaN after it), the rest of the
batch completes, and endpoints report the patient as not evaluable.
"""

from __future__ import annotations

OK = 0
MAX_STEPS = 1
STEP_TOO_SMALL = 2
NOT_FINITE = 3
SINGULAR = 4
CHATTERING = 5
NEGATIVE_OUTPUT = 6

STATUS_MESSAGES = {
    OK: "ok",
    MAX_STEPS: "maximum number of steps reached before the end of the horizon",
    STEP_TOO_SMALL: "step size fell below the minimum (the problem may be ill-posed here)",
    NOT_FINITE: "the right-hand side or state became NaN or infinite",
    SINGULAR: "the Rosenbrock iteration matrix stayed singular after repeated step halving",
    CHATTERING: "a switch flips back and forth without time advancing (chattering)",
    NEGATIVE_OUTPUT: "an output that cannot be negative went below zero by more than the tolerance",
}
