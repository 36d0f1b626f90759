"""The compiled integrator is cached across processes, and its cache key sees every file the
compiled code depends on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from immunoreset.model.registry import get_model
from immunoreset.simulate import kernels

CHILD = """
import json, sys
import immunoreset as ir
from immunoreset.simulate.kernels import lanes_kernel_for
result = ir.run(ir.load_scenario(sys.argv[1]))
stats = lanes_kernel_for(ir.get_model("stein2019")).solve_batch_lanes.stats
print(json.dumps({"hits": sum(stats.cache_hits.values()), "misses": sum(stats.cache_misses.values()),
                  "failed": result.n_failed}))
"""


def test_cache_key_covers_code_and_parameter_tables() -> None:
    model = get_model("park2025")
    paths = [kernels._import_path(fn) for fn in kernels._functions(model).values()]
    names = {p.name for p in kernels._sources(paths)}  # type: ignore[arg-type]
    assert {"park2025.py", "park2025_parameters.csv", "kernel_template.py", "rodas5p.py",
            "core.py"} <= names  # fmt: skip
    assert kernels.fingerprint(model) == kernels.fingerprint(model)
    assert kernels.fingerprint(model) != kernels.fingerprint(get_model("stein2019"))


@pytest.mark.slow
def test_second_process_loads_the_cached_integrator(examples_dir: Path, tmp_path: Path) -> None:
    """A fresh cache folder: the first process compiles and stores; the next one only loads (the
    lock-step integrator, which every patient of the example takes)."""
    env = {"IMMUNORESET_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    scenario = str(examples_dir / "stein2019_typical.yaml")
    runs = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", CHILD, scenario], env=env, check=True,
                             capture_output=True, text=True, timeout=600)  # fmt: skip
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    assert runs[0]["misses"] >= 1 and runs[0]["failed"] == 0
    assert runs[1] == {"hits": 1, "misses": 0, "failed": 0}
    kernels_dir = tmp_path / "cache" / "kernels"
    assert list(kernels_dir.glob("immunoreset_kernel_stein2019_*.py"))
    assert list(kernels_dir.glob("immunoreset_lanes_stein2019_*.py"))
    # Every patient took the traced functions: the model's own were never compiled.
    assert not list(kernels_dir.glob("immunoreset_functions_*.py"))


def test_dormant_state_probe_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dormant-state probe (seconds per model) runs once per cache folder; later calls read
    the stored result, even when probing would now fail."""
    monkeypatch.setenv(kernels.CACHE_ENV, str(tmp_path))
    model = get_model("park2025")
    p = model.typical_parameters()
    candidates = model.initial(p) == 0.0
    first = kernels.dormant_for(model, p, candidates)
    assert len(list((tmp_path / "kernels").glob("park2025_*.dormant.npy"))) == 1

    def no_probe(*args: object) -> None:
        raise AssertionError("probed again")

    monkeypatch.setattr(kernels, "dormant_states", no_probe)
    assert (kernels.dormant_for(model, p, candidates) == first).all()
    assert first.dtype == bool and first.shape == (model.n_states,)
