"""Clinical instruments: sle family (each module registers its instruments on import).

Registry keys: ``sledai_2k`` (:mod:`.sledai`), ``doris_2021`` (:mod:`.doris`), ``lldas``
(:mod:`.lldas`), ``sri_4`` (:mod:`.sri`), ``bicla`` (:mod:`.bicla`) and ``eular_acr_2019_sle``
(:mod:`.classification`).
"""

from immunoreset.clinical.sle import bicla, classification, doris, lldas, sledai, sri

__all__ = ["bicla", "classification", "doris", "lldas", "sledai", "sri"]
