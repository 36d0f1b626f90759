"""Clinical instruments: iim family (each module registers its instruments on import)."""
