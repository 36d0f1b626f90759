"""Clinical instruments: toxicity family (each module registers its instruments on import)."""
