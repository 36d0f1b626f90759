"""Progress reports: one line per tenth of the work when stderr is not a terminal."""

from __future__ import annotations

from immunoreset.cli.progress import Progress


def test_lines_per_tenth_without_terminal(capsys) -> None:
    progress = Progress(100)
    for _ in range(4):
        progress.update(25)
    progress.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "immunoreset: 25/100 patients (25 %)",
        "immunoreset: 50/100 patients (50 %)",
        "immunoreset: 75/100 patients (75 %)",
        "immunoreset: 100/100 patients (100 %)",
    ]


def test_small_steps_report_each_tenth_once(capsys) -> None:
    progress = Progress(40)
    for _ in range(40):
        progress.update(1)
    assert len(capsys.readouterr().err.splitlines()) == 10


def test_quiet_and_single_patient_are_silent(capsys) -> None:
    Progress(100, quiet=True).update(100)
    Progress(1).update(1)
    assert capsys.readouterr().err == ""
