"""The notebook example in docs/api.md runs as written (every ```python block, in order)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_api_doc_examples_run(markdown_examples) -> None:
    namespace = markdown_examples(ROOT / "docs" / "api.md", 5)
    assert namespace["result"].n_failed == 0  # type: ignore[attr-defined]
    assert os.path.exists(namespace["folder"] / "b_cells.png")  # type: ignore[operator]


def test_import_is_light() -> None:
    """``import immunoreset`` loads no engine, table or plotting library (checked in a fresh
    interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys, immunoreset; heavy = {'numba', 'pandas', 'pyarrow', 'matplotlib', 'scipy'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_run_to_directory_imports_no_pandas(tmp_path) -> None:
    """Writing a run builds Arrow tables from numpy buffers: no pandas import (about 0.3 s of the
    2 s start-up budget) and no plotting library when plots are off."""
    import subprocess
    import sys

    code = (
        "import sys, immunoreset as ir;"
        f"s = ir.load_scenario({str(ROOT / 'examples' / 'stein2019_typical.yaml')!r});"
        f"ir.run_to_directory(s, {str(tmp_path / 'run')!r}, plots=False);"
        "print(sorted({'pandas', 'matplotlib'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
