"""`mihsec down`: remove what killed runs left behind (processes, namespaces, radios, VMs)."""
from __future__ import annotations

import os
import re
import shutil
import signal
import time
from pathlib import Path

from pyroute2 import netns

from testbed import hwsim, network
from testbed.state import NS_PREFIX, RunState, all_states

_RUN_NS = re.compile(rf"^{NS_PREFIX}[0-9a-f]{{4}}-")


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _kill(pids: list[int], group: bool = False) -> None:
    for pid in pids:
        try:
            (os.killpg if group else os.kill)(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def down() -> list[str]:
    """Returns a line per thing removed."""
    removed: list[str] = []
    states: list[RunState] = all_states()
    for st in states:
        for p in st.processes:
            if p.exe in _comm(p.pid):
                _kill([p.pid], group=p.exe == "vng")
                removed.append(f"process {p.pid} ({p.name})")
    namespaces = {n for st in states for n in st.namespaces}
    namespaces |= {n for n in netns.listnetns() if _RUN_NS.match(n)}
    for name in sorted(namespaces):
        if pids := network.namespace_pids(name):
            _kill(pids)
            removed.append(f"{len(pids)} process(es) in namespace {name}")
        if name in netns.listnetns():
            network.remove_namespace(name)
            removed.append(f"namespace {name}")
    for st in states:
        for phy in st.radios:
            if (hwsim.SYS_PHY / phy).exists():
                hwsim.delete_radio(phy)
                removed.append(f"radio {phy}")
        st.remove_dir()
    for tmp in Path("/tmp").glob("mihsec-*"):  # a killed campaign's work directory (VM runs keep files there)
        if tmp.is_dir() and tmp.name != "mihsec-mpl":
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(f"temporary directory {tmp}")
    return removed
