"""Clinical instruments: laboratory family (each module registers its instruments on import).

B-cell aplasia and reconstitution, hypogammaglobulinaemia and CAR-T cellular kinetics (NCA);
:mod:`~immunoreset.clinical.laboratory.measures` holds the unit and series checks they share with
the toxicity instruments.
"""

from immunoreset.clinical.laboratory import bcell, igg, measures, pk_nca

__all__ = ["bcell", "igg", "measures", "pk_nca"]
