"""Calibration to clinical data, virtual-population selection and sensitivity analysis.

Modules, one job each (see ``docs/calibration.md``):

* ``data``: individual observations (NONMEM-style long CSV) and summary targets, validated;
* ``likelihood``: the log-likelihood of each kind of published statistic;
* ``fit``: maximum-likelihood fits with bounds, several starts and a convergence report;
* ``vpop``: virtual-population selection (acceptance-rejection, prevalence weighting);
* ``sensitivity``: global (SALib) and local sensitivity of endpoints to parameters.
"""
