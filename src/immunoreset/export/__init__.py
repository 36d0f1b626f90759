"""Exporting models to standard formats, so they open in the tools modellers already use.

:func:`export_sbml` writes SBML Level 3 Version 2 (COPASI, Tellurium, libRoadRunner), built from the
model's own equations evaluated on symbols (:mod:`.symbolic`), never typed a second time.
"""

from immunoreset.export.sbml import SbmlExportError, export_sbml, export_scenario_sbml

__all__ = ["SbmlExportError", "export_sbml", "export_scenario_sbml"]
