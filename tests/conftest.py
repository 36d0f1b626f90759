"""Shared fixtures: example scenarios and the test data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Property tests explore a fixed, reproducible set of examples: a failure seen in CI is the same
# failure on a developer's machine.
settings.register_profile("reproducible", derandomize=True, deadline=None)
settings.load_profile("reproducible")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return ROOT / "examples"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return Path(__file__).parent / "data"


class Chromium:
    """Headless Chromium, offline: renders pages to screenshots or dumps their DOM.

    ``--no-sandbox``: CI runs as root; the proxy flags make any network request fail fast, so a page
    that needed the network logs an error, never a silent success.
    """

    WIDTH, HEIGHT = 1200, 2400
    TIMEOUT_S = 120

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def run(self, args: list[str], profile: Path):
        base = [
            self.binary, "--headless", "--disable-gpu", "--no-sandbox",
            f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>", "--enable-logging=stderr", "--v=0",
        ]  # fmt: skip
        import subprocess

        return subprocess.run(
            base + args, capture_output=True, text=True, timeout=self.TIMEOUT_S, check=False
        )

    def screenshot(self, page: Path, shot: Path, profile: Path):
        """Render ``page`` into ``shot``; the process and the console messages it logged."""
        done = self.run(
            [f"--screenshot={shot}", f"--window-size={self.WIDTH},{self.HEIGHT}", page.as_uri()],
            profile,
        )
        console = [ln for ln in done.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
        return done, console

    def assert_rendered(self, done, console: list[str], shot: Path) -> None:
        """The page loaded without console or network errors and the screenshot has content: a
        good share of pixels differ from the white page, with many distinct colours."""
        import numpy as np
        from matplotlib.image import imread

        assert done.returncode == 0, done.stderr[-2000:]
        assert not console, console
        lines = done.stderr.splitlines()
        failed = [ln for ln in lines if "net::ERR" in ln or "Failed to load" in ln]
        assert not failed, failed
        pixels = imread(shot)[..., :3]
        assert pixels.shape[:2] == (self.HEIGHT, self.WIDTH)
        ink = np.mean(np.any(pixels < 0.9, axis=2))
        assert ink > 0.02, f"only {ink:.3%} of the screenshot is drawn"
        assert len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    """Chromium is a system package (``apt-get install chromium``; ``.ci/run`` installs it). Tests
    that use it are skipped only when it is absent and not in CI (``CI`` unset); in CI its absence
    fails."""
    import os
    import shutil

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (installed by .ci/run)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return Chromium(binary)


def run_markdown_examples(path: Path, minimum: int) -> dict[str, object]:
    """Run every ```python block of a documentation page in order, from the repository root (as a
    reader would paste them); the namespace they leave. At least ``minimum`` blocks must exist."""
    import os
    import re

    blocks = re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= minimum, f"{path.name}: {len(blocks)} examples"
    namespace: dict[str, object] = {}
    before = Path.cwd()
    os.chdir(ROOT)
    try:
        for block in blocks:
            exec(compile(block, str(path.relative_to(ROOT)), "exec"), namespace)
    finally:
        os.chdir(before)
    return namespace


@pytest.fixture(scope="session")
def markdown_examples():
    """:func:`run_markdown_examples` as a fixture."""
    return run_markdown_examples
