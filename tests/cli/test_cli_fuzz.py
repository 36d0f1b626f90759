"""Property test: every command, driven with mutated arguments and files, keeps its promises.

Hypothesis draws a command line for ``simulate``, ``validate``, ``models``, ``params``,
``endpoints``, ``score`` or ``export`` with arguments taken from valid ones, junk, and files that are valid,
mutated or not there at all. Whatever it draws, the command must finish in process with exit code
0, 1 or 2, never print a traceback, and report an error as exactly one line. Populations are kept
to a few Stein 2019 patients so the test stays fast.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immunoreset.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
STEIN = yaml.safe_load((ROOT / "examples" / "stein2019_typical.yaml").read_text())
PARK = yaml.safe_load((ROOT / "examples" / "park2025_sle_typical.yaml").read_text())
JUNK = st.sampled_from(
    [None, -1, 0, 2, -1e300, 1e300, math.nan, math.inf, "x", "", [], {}, [1, 2], True, 10**12,
     "1e6 cells", {"day": -400}]
)  # fmt: skip
WORDS = st.sampled_from(
    ["--overwrite", "--resume", "--no-plots", "--quiet", "--threads", "0", "1", "99", "--csv",
     "--visits", "-5,28", "0,28", "a,b", "--car-lloq", "-1", "nan", "--auc-method", "linear",
     "--out", "--list", "--template", "--debug", "park2025", "stein2019", "nope", "astct_crs",
     "sledai_2k", "", "-", "--", "--scenario", "--format", "sbml", "--overwrite"]
)  # fmt: skip
MAX_PATIENTS = 3


def _leaves(node: object, prefix: tuple = ()) -> list[tuple]:
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else ()  # fmt: skip
    for key, value in items:
        out.append((*prefix, key))
        out += _leaves(value, (*prefix, key))
    return out


@st.composite
def scenario_text(draw: st.DrawFn) -> str:
    """A Stein 2019 scenario with up to three fields replaced by junk (or a key removed)."""
    doc = copy.deepcopy(draw(st.sampled_from([STEIN, PARK])))
    doc["population"] = {"size": 1}
    if doc["model"] == "park2025":
        doc["horizon_days"] = 30
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_leaves(doc)))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(JUNK)
    size = doc.get("population", {}).get("size") if isinstance(doc.get("population"), dict) else 1
    if isinstance(size, int) and not isinstance(size, bool) and size > MAX_PATIENTS:
        doc["population"]["size"] = MAX_PATIENTS  # junk sizes are tested; large runs are not
    return yaml.safe_dump(doc)


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors, --version, --help
            code = int(exc.code or 0)
    return code, err.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    command=st.sampled_from(
        ["simulate", "validate", "models", "params", "endpoints", "score", "export"]
    ),
    text=scenario_text(),
    extra=st.lists(WORDS, max_size=4),
    target=st.sampled_from(["scenario", "missing", "folder", "run", "csv", "none"]),
)
def test_every_command_exits_0_1_or_2_without_traceback(command, text, extra, target) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scenario = root / "s.yaml"
        scenario.write_text(text)
        (root / "folder").mkdir()
        (root / "records.csv").write_text("temp_c,hypotension\n39.2,0\nx,1\n")
        targets = {
            "scenario": [str(scenario)],
            "missing": [str(root / "missing.yaml")],
            "folder": [str(root / "folder")],
            "run": [str(root / "run")],
            "csv": [str(root / "records.csv")],
            "none": [],
        }
        argv = [command, *targets[target], *extra]
        if command == "simulate" and "--out" not in extra:
            argv += ["--out", str(root / "run"), "--no-plots", "--quiet"]
        code, err = _run(argv)
        assert code in (0, 1, 2), (argv, code, err)
        assert "Traceback" not in err, (argv, err)
        errors = [line for line in err.splitlines() if line.startswith("immunoreset: error:")]
        if code == 2:
            assert len(errors) == 1, (argv, err)
