"""Clinical instruments: toxicity family (each module registers its instruments on import).

ASTCT CRS and ICANS grades with the ICE score (Lee 2019), CAR-HEMATOTOX (Rejeski 2021) and the early
and late ICAHT grades (Rejeski 2023).
"""

from immunoreset.clinical.toxicity import crs, hematotox, icaht, icans, ice

__all__ = ["crs", "hematotox", "icaht", "icans", "ice"]
