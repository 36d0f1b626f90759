"""``immunoreset vpop`` on the example cloud: the selection follows the targets; bad files exit 2
with one line; a folder that is not ours is never touched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immunoreset.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
CLOUD = ROOT / "examples" / "vpop" / "plausible_cloud.csv"
TARGETS = ROOT / "examples" / "vpop" / "targets.yaml"


def test_example_selection_matches_the_targets(tmp_path: Path) -> None:
    assert main(["vpop", str(CLOUD), str(TARGETS), "--out", str(tmp_path / "v")]) == 0
    selection = pd.read_csv(tmp_path / "v" / "selection.csv")
    cloud = pd.read_csv(CLOUD).set_index("patient_id")
    kept = cloud.loc[selection.loc[selection["selected"], "patient_id"]]
    # target log-mean 4.96 (SD 0.6) and mean 80 (SD 15): with a few hundred kept patients the
    # sampling error of a mean is under 0.1 (log) and 2 mg/dL; allow 3 standard errors
    n = len(kept)
    assert n > 100
    assert abs(np.log(kept["b_cells_blood"]).mean() - 4.96) < 3 * 0.6 / np.sqrt(n)
    assert abs(kept["c3"].mean() - 80) < 3 * 15 / np.sqrt(n)
    summary = pd.read_csv(tmp_path / "v" / "summary.csv")
    assert set(summary["marker"]) == {"b_cells_blood", "c3"}
    assert (summary["ks_pvalue"] > 0.001).all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("targets: {c3: {normal: {mean: 80, sd: -1}}}", "targets.c3.normal"),
        ("targets: {c3: {gamma: {k: 1}}}", "targets.c3"),
        ("method: bootstrap\ntargets: {c3: {normal: {mean: 80, sd: 5}}}", "method"),
        ("targets: {no_such_marker: {normal: {mean: 80, sd: 5}}}", "no_such_marker"),
        ("seed: -3\ntargets: {c3: {normal: {mean: 80, sd: 5}}}", "seed"),
    ],
)
def test_bad_targets_exit_2_with_one_line(text: str, message: str, tmp_path: Path, capsys) -> None:
    targets = tmp_path / "t.yaml"
    targets.write_text(text)
    code = main(["vpop", str(CLOUD), str(targets), "--out", str(tmp_path / "v")])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "v").exists()


def test_a_foreign_folder_is_left_alone(tmp_path: Path, capsys) -> None:
    (tmp_path / "mine.txt").write_text("keep")
    code = main(["vpop", str(CLOUD), str(TARGETS), "--out", str(tmp_path), "--overwrite"])
    assert code == 2
    assert "not a virtual-population folder" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").read_text() == "keep"
