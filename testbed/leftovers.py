"""Everything a run could leave behind on the machine that ran the radios, counted by kind.

Used by `mihsec down`'s callers, the integration tests' "nothing left" checks and scripts/kill_cycles.py.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from testbed.state import NS_PREFIX, STATE_ROOT

DAEMONS = "hostapd|wpa_supplicant|freeradius|tcpdump"


def _lines(argv: list[str]) -> list[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return []


def leftovers(vm: bool = False) -> dict[str, list[str]]:
    """Namespaces, their mounts, our daemons and agents, hwsim radios, root-namespace links, run state,
    temporary files; with `vm`, also VM processes (on the host that starts them)."""
    ns = [n for n in _lines(["ip", "netns", "list"]) if n.startswith(NS_PREFIX)]
    mounts = [m.split()[1] for m in Path("/proc/mounts").read_text().splitlines()
              if f"/run/netns/{NS_PREFIX}" in m]
    procs = _lines(["pgrep", "-a", "-x", DAEMONS])
    agents = _lines(["pgrep", "-a", "-f", "python.* -m node_agents"])
    sysphy = Path("/sys/class/ieee80211")
    radios = [p.name for p in sysphy.glob(f"{NS_PREFIX}*")] if sysphy.exists() else []
    links = [ln.split(":")[1].strip() for ln in _lines(["ip", "-o", "link", "show"])
             if ln.split(":")[1].strip().startswith(NS_PREFIX)]
    state = [p.name for p in STATE_ROOT.glob("*")] if STATE_ROOT.exists() else []
    # runs' work directories (a campaign's in the VM, the API's); files such as setup's apt log are not a run's
    tmp = [str(p) for p in Path("/tmp").glob("mihsec-*") if p.is_dir() and p.name != "mihsec-mpl"]
    out = {"namespaces": ns, "mounts": mounts, "processes": procs, "agents": agents, "radios": radios, "links": links,
           "state": state, "temp files": tmp}
    if vm:
        out["vm processes"] = _lines(["pgrep", "-a", "-f", "virtme-ng"])
    return out


def count(left: dict[str, list[str]]) -> int:
    return sum(len(v) for v in left.values())
