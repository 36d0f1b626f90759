"""The HTML report in a real browser: headless Chromium opens it offline, renders every figure
without console errors, and a screenshot has content.

Chromium is a system package (``apt-get install chromium``; CI installs it in ``.ci/run``). The
test is skipped only when it is absent and not in CI (``CI`` unset); in CI its absence fails.
"""

from __future__ import annotations

import re
from pathlib import Path


def test_report_is_self_contained(folder: Path) -> None:
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "external URL"
    assert "<script" not in html
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,', html)
    assert len(images) == len(list((folder / "figures").glob("*.png"))) >= 5


def test_console_errors_are_seen(tmp_path: Path, chromium) -> None:
    """Control: the console check below does catch an error on a page that has one."""
    page = tmp_path / "bad.html"
    page.write_text("<html><body>x<script>console.error('seen'); nope();</script></body></html>")
    done, console = chromium.screenshot(page, tmp_path / "bad.png", tmp_path / "profile")
    assert done.returncode == 0
    assert any("seen" in ln for ln in console) and any("nope" in ln for ln in console)


def test_report_renders_in_chromium(folder: Path, tmp_path: Path, chromium) -> None:
    shot = tmp_path / "report.png"
    done, console = chromium.screenshot(folder / "report.html", shot, tmp_path / "profile")
    chromium.assert_rendered(done, console, shot)


HARNESS = """<html><body><div id="result">pending</div>
<iframe id="f" src="{uri}" width="1200" height="800"></iframe>
<script>
document.getElementById("f").onload = function () {{
  var imgs = this.contentDocument.images, ok = 0, bad = 0;
  for (var i = 0; i < imgs.length; i++) {{
    if (imgs[i].complete && imgs[i].naturalWidth > 0) {{ ok++; }} else {{ bad++; }}
  }}
  document.getElementById("result").textContent = "images ok=" + ok + " bad=" + bad;
}};
</script></body></html>"""
"""A test-only page: loads the report in a frame and counts images the browser decoded."""


def test_every_figure_decodes_in_chromium(folder: Path, tmp_path: Path, chromium) -> None:
    harness = tmp_path / "harness.html"
    harness.write_text(HARNESS.format(uri=(folder / "report.html").as_uri()), encoding="utf-8")
    done = chromium.run(
        ["--allow-file-access-from-files", "--virtual-time-budget=10000", "--dump-dom",
         harness.as_uri()],
        tmp_path / "profile",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r"images ok=(\d+) bad=(\d+)", done.stdout)
    assert found, done.stdout[-2000:]
    n_figures = len(list((folder / "figures").glob("*.png")))
    assert (int(found[1]), int(found[2])) == (n_figures, 0)
