"""Help text from docstrings, without the reStructuredText markup that suits API docs only."""

from __future__ import annotations

import re

_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")


def plain(text: str) -> str:
    """``text`` with reST roles (``:class:`X```) and inline literals (````x````) made plain."""
    return _LITERAL.sub(r"\1", _ROLE.sub(r"\1", text))
