"""The page helpers shared by the reports: cell formatting, tables with markup cells, figures
embedded and written, the page around them, and an import free of model code."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from immunoreset.report.html import CSS, Figures, Markup, document, escape, fmt, is_number, table


def test_fmt() -> None:
    assert fmt(0.123456) == "0.1235" and fmt(0.123456, 3) == "0.123"
    assert fmt(np.float64(2.0) / 3, 2) == "0.67"
    for missing in (None, float("nan"), pd.NA, pd.NaT, np.nan):
        assert fmt(missing) == "NE"
    assert (fmt(float("inf")), fmt(-np.inf)) == ("inf", "-inf")
    assert (fmt(True), fmt(np.bool_(False))) == ("yes", "no")
    assert fmt(7) == "7" and fmt(np.int64(7)) == "7"
    assert fmt("<a & b>") == "&lt;a &amp; b&gt;"
    assert fmt(Markup("<b>x</b>", "flag")) == "<b>x</b>"
    assert escape('"q"') == "&quot;q&quot;"


def test_is_number() -> None:
    assert is_number(1) and is_number(np.int64(1)) and is_number(np.float32(1.5))
    assert not is_number(True) and not is_number(np.bool_(True)) and not is_number("1")


def test_table_keeps_markup_cells_in_a_frame() -> None:
    """A Markup cell survives a pandas column of objects (a str subclass would not)."""
    frame = pd.DataFrame(
        {
            "name": ["a<b", "c"],
            "value": [1.23456, np.nan],
            "n": [3, 4],
            "ok": [Markup('<span class="ok">yes</span>', "flag"), "plain"],
        }
    )
    assert isinstance(frame["ok"].iat[0], Markup)
    html = table(frame, {"value": 2})
    assert "<th>name</th><th>value</th><th>n</th><th>ok</th>" in html
    assert "<td>a&lt;b</td>" in html
    assert '<td class="n">1.2</td>' in html and '<td class="n">3</td>' in html
    assert '<td class="n">NE</td>' in html  # NaN is a float: still right-aligned
    assert '<td class="flag"><span class="ok">yes</span></td>' in html
    assert "<td>plain</td>" in html
    assert '<td class="n">1.235</td>' in table(frame)


def test_figures_embed_and_write(tmp_path: Path) -> None:
    data = b"\x89PNG not really"
    folder = tmp_path / "figures"
    figs = Figures(folder, prefix="x_")
    img = figs.img("first", data, 'a "quoted" alt')
    assert img == (
        '<img alt="a &quot;quoted&quot; alt" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode()}">'
    )
    figs.img("second", data, "b")
    assert sorted(p.name for p in folder.iterdir()) == ["x_01_first.png", "x_02_second.png"]
    (folder / "other.png").write_bytes(data)
    Figures(folder, prefix="x_", replace=True)  # removes its own earlier figures only
    assert sorted(p.name for p in folder.iterdir()) == ["other.png"]
    assert Figures(None).img("n", data, "n").startswith("<img")  # embedded, written nowhere


def test_document() -> None:
    page = document("a & b", "<p>x</p>")
    assert page.startswith('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">')
    assert "<title>a &amp; b</title>" in page and f"<style>{CSS}</style>" in page
    assert page.endswith("<body><p>x</p></body></html>")


def test_import_is_model_free() -> None:
    code = (
        "import sys, immunoreset.report.html;"
        "print(sorted(m for m in sys.modules if m.startswith(('immunoreset.model',"
        " 'immunoreset.calibrate', 'immunoreset.simulate', 'immunoreset.scenario', 'numba',"
        " 'matplotlib'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
