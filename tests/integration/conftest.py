"""Integration tests with real mac80211_hwsim radios: run them with `make test-radio` (VM or native)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from testbed.hwsim import hwsim_usable
from testbed.state import STATE_ROOT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.radio)


@pytest.fixture(autouse=True)
def _needs_radios() -> None:
    ok, why = hwsim_usable()
    if not ok:  # never a silent skip: these tests are run through `mihsec vm --if-needed`
        pytest.fail(f"radio tests need mac80211_hwsim ({why}); run them with `make test-radio`")


def leftovers() -> dict[str, list[str]]:
    """Whatever a run could leave behind: namespaces, our daemons, hwsim radios, run state."""
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    procs = subprocess.run(["pgrep", "-a", "-x", "hostapd|wpa_supplicant|freeradius|tcpdump"],
                           capture_output=True, text=True).stdout.splitlines()
    phys = [p.name for p in Path("/sys/class/ieee80211").glob("mh*")] if Path("/sys/class/ieee80211").exists() else []
    states = [p.name for p in STATE_ROOT.glob("*")] if STATE_ROOT.exists() else []
    return {"namespaces": [n for n in ns if n.startswith("mh")], "processes": procs, "radios": phys,
            "state": states}


def assert_nothing_left() -> None:
    left = leftovers()
    assert left == {"namespaces": [], "processes": [], "radios": [], "state": []}, left


@pytest.fixture
def clean_after():
    yield
    assert_nothing_left()


def mihsec(*args: str, timeout: float = 600, **kw) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run([sys.executable, "-m", "testbed", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kw)
