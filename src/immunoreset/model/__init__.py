"""Mechanistic models as data (states, sourced parameters) plus pure numerical functions."""

from immunoreset.model.core import DoseInput, Model, Parameter, State
from immunoreset.model.registry import MODELS, get_model

__all__ = ["MODELS", "DoseInput", "Model", "Parameter", "State", "get_model"]
