"""Integrating models for batches of virtual patients: the compiled engine and a SciPy reference."""

from immunoreset.simulate.engine import BatchResult, SolverSettings, simulate, simulate_chunks

__all__ = ["BatchResult", "SolverSettings", "simulate", "simulate_chunks"]
