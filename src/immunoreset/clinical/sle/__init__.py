"""Clinical instruments: sle family (each module registers its instruments on import)."""
