"""Generated parts of docs/model.md: parameter tables from the data files, and a module diagram.

The diagram is computed from the model itself: one node per module with its states, and an arrow
from module A to module B wherever a state of A appears in the equations of a state of B (the
probed Jacobian sparsity pattern, :mod:`immunoreset.simulate.sparsity`). Regions of the document
between ``<!-- generated: KEY -->`` and ``<!-- end: KEY -->`` are replaced; the rest is written by
hand. Update with ``python -m immunoreset.model.models.integrated.docs docs/model.md``; the test
suite fails while the document and the data disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

from immunoreset.model.core import Parameter
from immunoreset.model.models.integrated import MODEL, model
from immunoreset.simulate.sparsity import jacobian_pattern


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def _row(p: Parameter) -> str:
    prior = f"{p.prior_low:g} - {p.prior_high:g}" if p.has_prior else ""
    return (
        f"| `{p.name}` | {p.value:g} | {_cell(p.unit)} | {_cell(p.meaning)} | {p.confidence} "
        f"| {prior} | {_cell(p.source)} |"
    )


def parameter_table(module_name: str) -> str:
    """Markdown table of one module's parameters, straight from its CSV file."""
    (block,) = (m.BLOCK for m in model.MODULES if m.__name__.endswith("." + module_name))
    head = (
        "| name | value | unit | meaning | confidence | prior range | source |\n"
        "|---|---|---|---|---|---|---|"
    )
    return "\n".join([head, *(_row(p) for p in block.parameters)])


def diagram() -> str:
    """Mermaid flowchart of the modules and which module's states drive which (from the model)."""
    pattern = jacobian_pattern(MODEL, MODEL.typical_parameters())
    blocks = [(m.__name__.rsplit(".", 1)[1], m.BLOCK) for m in model.MODULES if m.BLOCK.states]
    lines = ["flowchart LR"]
    for name, b in blocks:
        lines.append(f'    {name}["{name}: {len(b.states)} states"]')
    for src, bs in blocks:
        for dst, bd in blocks:
            if src != dst and np.any(pattern[bd.s0 : bd.s_end, bs.s0 : bs.s_end]):
                lines.append(f"    {src} --> {dst}")
    return "\n".join(lines)


def _generated(key: str) -> str:
    if key == "diagram":
        return "```mermaid\n" + diagram() + "\n```"
    if key.startswith("parameters:"):
        return parameter_table(key.split(":", 1)[1])
    raise KeyError(f"unknown generated region {key!r}")


REGION = re.compile(
    r"(<!-- generated: (?P<key>[\w:]+) -->\n)(?P<body>.*?)(<!-- end: (?P=key) -->)", re.S
)


def render(text: str) -> str:
    """``text`` with every generated region rewritten from the model and its data files."""
    return REGION.sub(lambda m: m.group(1) + _generated(m.group("key")) + "\n" + m.group(4), text)


def main(path: str) -> None:
    doc = Path(path)
    doc.write_text(render(doc.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
