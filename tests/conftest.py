"""Shared test helpers."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


@pytest.fixture
def results_dir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Where a test's run writes logs and pcaps: kept under results/ when MIHSEC_TEST_RESULTS is set (VM runs)."""
    root = os.environ.get("MIHSEC_TEST_RESULTS")
    if root:
        d = Path(root) / request.node.name.replace("/", "_")
        d.mkdir(parents=True, exist_ok=True)
        return d
    return tmp_path / "results"
