"""The list of subcommand modules, in the order ``immunoreset --help`` shows them."""

from immunoreset.cli import score

MODULES = [score]
