"""Clinical instruments: laboratory family (each module registers its instruments on import)."""
