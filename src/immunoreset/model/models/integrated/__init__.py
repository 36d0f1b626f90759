"""The integrated model of CAR cell therapy in autoimmune disease (``integrated``).

One file per biological module (:mod:`.conditioning`, :mod:`.host`, :mod:`.car`, :mod:`.binding`,
:mod:`.blineage`, :mod:`.tumour`, :mod:`.antibodies`, :mod:`.sle`, :mod:`.observation`), each with
its states, its parameter table (value, unit, meaning, source, confidence, prior range for every
assumption) and its part of the equations; :mod:`.model` assembles them. See docs/model.md.
"""

from immunoreset.model.models.integrated.definition import MODEL

__all__ = ["MODEL"]
