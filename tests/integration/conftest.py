"""Integration tests with real mac80211_hwsim radios: run them with `make test-radio` (VM or native)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from testbed.hwsim import hwsim_usable
from testbed.leftovers import count, leftovers


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.radio)


@pytest.fixture(autouse=True)
def _needs_radios() -> None:
    ok, why = hwsim_usable()
    if not ok:  # never a silent skip: these tests are run through `mihsec vm --if-needed`
        pytest.fail(f"radio tests need mac80211_hwsim ({why}); run them with `make test-radio`")


# What these tests have always checked after a run; testbed.leftovers counts more kinds (mounts, root links,
# agents, temp directories), which scripts/kill_cycles.py reports.
CHECKED = ("namespaces", "processes", "radios", "state")


def assert_nothing_left() -> None:
    left = {k: v for k, v in leftovers().items() if k in CHECKED}
    assert count(left) == 0, {k: v for k, v in left.items() if v}


@pytest.fixture
def clean_after():
    yield
    assert_nothing_left()


def mihsec(*args: str, timeout: float = 600, **kw) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run([sys.executable, "-m", "testbed", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kw)
