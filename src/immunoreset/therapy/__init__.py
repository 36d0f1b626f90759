"""Therapies: CAR product doses and regimens (infusions, lymphodepletion) as dosing events."""

from immunoreset.therapy.regimen import (
    DosingEvents,
    Infusion,
    LymphodepletionDose,
    ProductDose,
    Regimen,
    dosing_events,
)

__all__ = [
    "DosingEvents",
    "Infusion",
    "LymphodepletionDose",
    "ProductDose",
    "Regimen",
    "dosing_events",
]
