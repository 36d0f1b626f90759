"""The list of subcommand modules, in the order ``immunoreset --help`` shows them."""

from immunoreset.cli import (
    calibrate,
    endpoints,
    export,
    models,
    products,
    score,
    simulate,
    trial,
    validate,
    vpop,
)

MODULES = [simulate, validate, models, products, score, endpoints, export, trial, calibrate, vpop]
