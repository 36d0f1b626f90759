"""Clinical instruments: ssc family (each module registers its instruments on import)."""
