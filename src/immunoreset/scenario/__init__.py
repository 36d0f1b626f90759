"""Scenario files: schema, validation with field-naming errors, and translation to run inputs."""

from immunoreset.scenario.load import ScenarioError, load_scenario, parse_scenario
from immunoreset.scenario.schema import Scenario

__all__ = ["Scenario", "ScenarioError", "load_scenario", "parse_scenario"]
