"""Clinical instruments: iim family (each module registers its instruments on import).

``mmt8`` (:mod:`.mmt8`), ``myositis_tis_2016`` (:mod:`.tis`), ``imacs_doi_2004`` (:mod:`.doi`) and
``eular_acr_2017_iim`` (:mod:`.eular_acr_2017`); :mod:`.core_set` holds the six core set measures
shared by the two response definitions.
"""

from immunoreset.clinical.iim import core_set, doi, eular_acr_2017, mmt8, tis

__all__ = ["core_set", "doi", "eular_acr_2017", "mmt8", "tis"]
