"""immunoreset: in-silico trials of CAR-based cell therapy in systemic autoimmune rheumatic diseases."""

__version__ = "0.1.0"
