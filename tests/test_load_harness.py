"""The load harness (``benchmarks/load.py``) still runs: a tiny load, with its database checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.integration
def test_load_harness_smoke():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--db", "sqlite", "--users", "3"],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checks: OK" in done.stdout
