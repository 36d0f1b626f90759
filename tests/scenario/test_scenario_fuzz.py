"""Property test: mutated scenario files never produce a traceback.

Mutations of the example scenarios (wrong types, missing and unknown keys, negative or NaN doses,
absurd sizes, broken YAML) are fed to ``immunoreset validate``; every invalid file must give exit
code 2 and exactly one line on stderr, and valid ones exit 0. ``immunoreset simulate`` on an
invalid file must also exit 2 and leave no output directory behind.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immunoreset.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
BASES = [
    yaml.safe_load((ROOT / "examples" / name).read_text())
    for name in ("stein2019_typical.yaml", "park2025_sle_typical.yaml",
                 "park2025_sle_population.yaml")
]  # fmt: skip

BAD_VALUES = st.sampled_from(
    [None, -1, 0, -1e300, 1e300, math.nan, math.inf, "x", "", [], {}, [1, 2], True, 10**12,
     {"value": -5}, "1e6 cells"]
)  # fmt: skip


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((*prefix, k))
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((*prefix, i))
            out += _paths(v, (*prefix, i))
    return out


def _parent(doc: object, path: tuple) -> object:
    for key in path[:-1]:
        doc = doc[key]
    return doc


@st.composite
def mutated(draw: st.DrawFn) -> str:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        action = draw(st.sampled_from(["replace", "delete", "unknown_key"]))
        if action == "replace":
            parent[path[-1]] = draw(BAD_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "Dose", "seeds", "size_"]))] = 1
    text = yaml.safe_dump(doc, sort_keys=False)
    if draw(st.booleans()) and draw(st.booleans()):  # a quarter of the files get broken YAML
        cut = draw(st.integers(0, max(0, len(text) - 1)))
        text = (
            text[:cut] + draw(st.sampled_from([": [", "\t- {", "'", "&a *b", "%%%"])) + text[cut:]
        )
    return text


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=mutated())
def test_invalid_scenarios_get_one_line_and_exit_2(tmp_path_factory, capsys, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "scenario.yaml"
    path.write_text(text)
    capsys.readouterr()
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code in (0, 2)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("immunoreset: error: ")
        assert "Traceback" not in err


def test_simulate_refuses_invalid_file_and_writes_nothing(tmp_path: Path, capsys) -> None:
    doc = copy.deepcopy(BASES[1])
    doc["product"]["dose"]["value"] = float("nan")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    out = tmp_path / "run"
    assert main(["simulate", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "product.dose.value" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]
