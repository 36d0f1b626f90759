"""Published reference models, each a module with its parameter table beside it."""
