"""model/models."""
