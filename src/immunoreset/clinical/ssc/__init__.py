"""Clinical instruments: ssc family (each module registers its instruments on import).

``mrss`` and ``mrss_skin_change`` (:mod:`.mrss`), ``eustar_ai_revised`` (:mod:`.eustar`),
``acr_eular_2013_ssc`` (:mod:`.acr_eular_2013`) and ``acr_criss`` (:mod:`.criss`).
"""

from immunoreset.clinical.ssc import acr_eular_2013, criss, eustar, mrss

__all__ = ["acr_eular_2013", "criss", "eustar", "mrss"]
