"""The HTML report in a real browser: headless Chromium opens it offline, renders every figure
without console errors, and a screenshot has content.

Chromium is a system package (``apt-get install chromium``; CI installs it in ``.ci/run``). The
test is skipped only when it is absent and not in CI (``CI`` unset); in CI its absence fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1200, 2400
TIMEOUT_S = 120


def _browser() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (installed by .ci/run)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def _flags(profile: Path) -> list[str]:
    # --no-sandbox: CI runs as root; the proxy flags make any network request fail fast, so a
    # figure that needed the network would be a console error, never a silent success.
    return [
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        f"--user-data-dir={profile}",
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        "--enable-logging=stderr",
        "--v=0",
    ]


def test_report_is_self_contained(folder: Path) -> None:
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "external URL"
    assert "<script" not in html
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,', html)
    assert len(images) == len(list((folder / "figures").glob("*.png"))) >= 5


def _screenshot(page: Path, shot: Path, profile: Path) -> tuple[subprocess.CompletedProcess, list]:
    """Render ``page`` into ``shot``; the process and the console messages it logged."""
    done = subprocess.run(
        [
            _browser(),
            *_flags(profile),
            f"--screenshot={shot}",
            f"--window-size={WIDTH},{HEIGHT}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    return done, [ln for ln in done.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]


def test_console_errors_are_seen(tmp_path: Path) -> None:
    """Control: the console check below does catch an error on a page that has one."""
    page = tmp_path / "bad.html"
    page.write_text("<html><body>x<script>console.error('seen'); nope();</script></body></html>")
    done, console = _screenshot(page, tmp_path / "bad.png", tmp_path / "profile")
    assert done.returncode == 0
    assert any("seen" in ln for ln in console) and any("nope" in ln for ln in console)


def test_report_renders_in_chromium(folder: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done, console = _screenshot(folder / "report.html", shot, tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    assert not console, console
    failed = [ln for ln in done.stderr.splitlines() if "net::ERR" in ln or "Failed to load" in ln]
    assert not failed, failed
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    # non-blank: a good share of pixels differ from the white page, with many distinct colours
    ink = np.mean(np.any(pixels < 0.9, axis=2))
    assert ink > 0.02, f"only {ink:.3%} of the screenshot is drawn"
    assert len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50


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


def test_every_figure_decodes_in_chromium(folder: Path, tmp_path: Path) -> None:
    browser = _browser()
    harness = tmp_path / "harness.html"
    harness.write_text(HARNESS.format(uri=(folder / "report.html").as_uri()), encoding="utf-8")
    done = subprocess.run(
        [
            browser,
            *_flags(tmp_path / "profile"),
            "--allow-file-access-from-files",
            "--virtual-time-budget=10000",
            "--dump-dom",
            harness.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r"images ok=(\d+) bad=(\d+)", done.stdout)
    assert found, done.stdout[-2000:]
    n_figures = len(list((folder / "figures").glob("*.png")))
    assert (int(found[1]), int(found[2])) == (n_figures, 0)
