"""Reports from result tables: population band plots."""
