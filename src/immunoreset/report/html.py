"""Page helpers shared by the HTML reports (the virtual-trial and the credibility report).

A report is one self-contained HTML page that opens offline: one stylesheet (:data:`CSS`), tables
rendered from DataFrames (:func:`table`, numbers right-aligned and formatted by :func:`fmt`,
:class:`Markup` cells kept as HTML), figures embedded as base64 PNG data URLs and also written to
a figures folder (:class:`Figures`), and the page around them (:func:`document`). Everything else
is escaped (:func:`escape`).

This module imports no model, engine, scenario or calibration code (nor matplotlib), so a report
that reads files only stays free of them.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "CSS",
    "Figures",
    "Markup",
    "document",
    "escape",
    "fmt",
    "is_number",
    "table",
]

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;
color:#1d2433;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;border-bottom:2px solid #1f3b73}h2{font-size:1.25em;color:#1f3b73;margin-top:1.8em}
h3{font-size:1.05em;margin-top:1.3em}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #c8cfdc;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#eef1f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.flag{background:#fbe3e1}
img{max-width:100%;height:auto;display:block;margin:.6em 0}
.ok{color:#1b7d2b;font-weight:bold}.no{color:#b3261e;font-weight:bold}
.notrun{color:#6b5a00;font-style:italic}
.small{font-size:.85em;color:#555}
nav{font-size:.9em}nav a{margin-right:1em;color:#1f3b73}
"""
"""The stylesheet of every report page: tables (``td.n`` numbers, ``td.flag`` flagged cells),
verdicts (``.ok``, ``.no``), messages (``.notrun``), small print (``.small``) and navigation."""


@dataclass(frozen=True)
class Markup:
    """A table cell that is already HTML (every value inside it escaped), with an optional class
    for its ``<td>``. Not a ``str``: pandas keeps it as it is in a column of objects (a ``str``
    subclass would come back as a plain ``str`` and be escaped)."""

    html: str
    css: str = ""

    def __str__(self) -> str:
        return self.html


def escape(value: object) -> str:
    """``value`` as escaped HTML text (quotes included)."""
    return html.escape(str(value))


def _scalar(value: object) -> object:
    """A plain Python value for a numpy scalar."""
    return value.item() if isinstance(value, np.generic) else value


def fmt(value: object, digits: int = 4) -> str:
    """A cell's HTML text: numbers to ``digits`` significant digits, missing values (None, NaN,
    ``pd.NA``, ``pd.NaT``) as NE, infinities as inf/-inf, booleans as yes/no, :class:`Markup` as
    it is, anything else escaped."""
    value = _scalar(value)
    if isinstance(value, Markup):
        return value.html
    if value is None or value is pd.NA or value is pd.NaT:
        return "NE"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "NE"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.{digits}g}"
    return escape(value)


def is_number(value: object) -> bool:
    """Whether a cell holds a number, numpy scalars included (a boolean is not one)."""
    value = _scalar(value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def table(frame: pd.DataFrame, digits: int | dict[str, int] = 4) -> str:
    """An HTML table of ``frame`` (the index left out): numbers right-aligned (``td.n``) and
    formatted by :func:`fmt` to ``digits`` significant digits (one number for every column, or
    per column name with 4 for the others), :class:`Markup` cells kept as HTML with their class."""
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            d = digits.get(column, 4) if isinstance(digits, dict) else digits
            css = value.css if isinstance(value, Markup) else ("n" if is_number(value) else "")
            attr = f' class="{css}"' if css else ""
            cells.append(f"<td{attr}>{fmt(value, d)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def document(title: str, body: str) -> str:
    """The whole page: ``title`` (plain text, escaped here) in its head with :data:`CSS`, and
    ``body`` (HTML) as its body."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}</body></html>"
    )


class Figures:
    """Collects the figures of a page: each is embedded as a base64 PNG data URL and written to
    ``folder`` (when given) as ``<prefix>NN_<name>.png``, numbered in the order added.

    With ``replace``, the PNG files of ``folder`` whose name starts with ``prefix`` are removed
    first, so that a page written again leaves no figure of its earlier version behind.
    """

    def __init__(self, folder: Path | None, prefix: str = "", replace: bool = False) -> None:
        self.folder = folder
        self.prefix = prefix
        self.count = 0
        if folder is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        if replace:
            for old in folder.glob(f"{prefix}*.png"):
                old.unlink()

    def img(self, name: str, data: bytes, alt: str) -> str:
        """The ``<img>`` of the PNG image ``data`` (``alt`` is plain text); the image is also
        written to the folder."""
        self.count += 1
        if self.folder is not None:
            (self.folder / f"{self.prefix}{self.count:02d}_{name}.png").write_bytes(data)
        encoded = base64.b64encode(data).decode("ascii")
        return f'<img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'
