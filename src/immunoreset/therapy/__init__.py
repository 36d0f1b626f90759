"""therapy."""
