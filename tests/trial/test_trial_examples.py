"""Every runnable trial example writes its datasets and report (slow: a minute or two each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from immunoreset.cli.main import main

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "trials").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(example: Path, tmp_path: Path) -> None:
    out = tmp_path / example.stem
    assert main(["trial", str(example), "--out", str(out), "--quiet"]) in (0, 1)
    for name in ("adsl", "adtte", "adlb", "adae"):
        assert (out / "datasets" / f"{name}.parquet").is_file()
    assert (out / "report.html").stat().st_size > 10_000


def test_examples_are_valid() -> None:
    from immunoreset.trial import load_trial

    assert len(EXAMPLES) >= 2
    for example in EXAMPLES:
        load_trial(example)


@pytest.mark.slow
def test_python_example_of_the_docs_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ```python block of docs/trials.md runs as written (from the repository root)."""
    root = EXAMPLES[0].parents[2]
    text = (root / "docs" / "trials.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert blocks
    monkeypatch.chdir(root)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/trials.md", "exec"), namespace)
