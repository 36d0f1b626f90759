"""Exporting models to standard formats, so they open in the tools modellers already use.

:func:`export_sbml` writes SBML Level 3 Version 2 (COPASI, Tellurium, libRoadRunner), built from the
model's own equations evaluated on symbols (:mod:`.symbolic`), never typed a second time. The names
are imported on first use: the engine reads :mod:`.decisions` on every run and should not pay for
the computer algebra and SBML libraries behind an export.
"""

from immunoreset.lazy import lazy_attributes

_NAMES = {
    "SbmlExportError": "immunoreset.export.sbml",
    "export_sbml": "immunoreset.export.sbml",
    "export_scenario_sbml": "immunoreset.export.sbml",
}
__all__ = list(_NAMES)
__getattr__ = lazy_attributes(__name__, _NAMES)
