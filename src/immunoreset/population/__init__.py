"""Virtual populations: sampling per-patient parameters from between-patient variability."""

from immunoreset.population.sampling import sample_parameters, variable_parameters

__all__ = ["sample_parameters", "variable_parameters"]
