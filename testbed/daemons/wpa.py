"""hostapd and wpa_supplicant processes: a Daemon plus the control-interface client with their actions
(node_agents/hostap.py), opened once the daemon answers PING."""
from __future__ import annotations

from pathlib import Path

from node_agents.ctrl import CtrlSocket
from node_agents.hostap import CtrlClient, HostapdCtrl, WpaCtrl
from testbed.daemons.base import Daemon
from testbed.errors import DaemonError
from testbed.state import RunState


class _CtrlDaemon(Daemon, CtrlClient):
    """Shared by hostapd and wpa_supplicant, whose control interfaces speak the same protocol."""

    def __init__(self, name: str, *, netns: str | None, argv: list[str], log: Path, ctrl_path: Path,
                 local_dir: Path, state: RunState | None = None):
        Daemon.__init__(self, name, netns, argv, log, state)
        CtrlClient.__init__(self, ctrl_path, name, local_dir, log)

    def _ping(self) -> bool:
        if not self.ctrl_path.exists():
            return False
        with CtrlSocket(self.ctrl_path, self.name, self.local_dir) as c:
            return c.request("PING", timeout=2).strip() == "PONG"

    def start(self, timeout: float = 20.0) -> None:  # type: ignore[override]
        self.spawn()
        self.ready(timeout)

    def ready(self, timeout: float = 20.0) -> None:
        """After spawn(): wait until the control interface answers (see Daemon.wait_ready)."""
        Daemon.wait_ready(self, self._ping, timeout)
        self.open()

    def stop(self, timeout: float = 5.0) -> None:
        self.close()
        Daemon.stop(self, timeout)


class Hostapd(_CtrlDaemon, HostapdCtrl):
    exe = "hostapd"

    def __init__(self, node: str, *, netns: str | None, conf: Path, ctrl_dir: Path, ifname: str, log: Path,
                 local_dir: Path, state: RunState | None = None, verbose: bool = False):
        argv = ["hostapd", "-t", "-dd" if verbose else "-d", str(conf)]
        super().__init__(f"hostapd {node}", netns=netns, argv=argv, log=log, ctrl_path=ctrl_dir / ifname,
                         local_dir=local_dir, state=state)
        self.ifname = ifname

    def ready(self, timeout: float = 20.0) -> None:
        super().ready(timeout)
        state = self.status().get("state")
        if state != "ENABLED":
            ev = self.wait_event(["AP-ENABLED", "AP-DISABLED", "INTERFACE-DISABLED"], timeout)
            if ev.name != "AP-ENABLED":
                raise DaemonError(self.name, f"interface not enabled ({ev.name})", self.log)


class WpaSupplicant(_CtrlDaemon, WpaCtrl):
    exe = "wpa_supplicant"

    def __init__(self, node: str, *, netns: str | None, conf: Path, ctrl_dir: Path, ifname: str, log: Path,
                 local_dir: Path, state: RunState | None = None, verbose: bool = False, driver: str = "nl80211",
                 exe: str = "wpa_supplicant"):  # exe: e.g. the ERP build of testbed/wpabuild.py
        argv = [exe, "-t", "-dd" if verbose else "-d", "-D", driver, "-i", ifname, "-c", str(conf)]
        super().__init__(f"wpa_supplicant {node}", netns=netns, argv=argv, log=log, ctrl_path=ctrl_dir / ifname,
                         local_dir=local_dir, state=state)
        self.ifname = ifname
