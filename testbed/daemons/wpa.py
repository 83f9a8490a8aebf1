"""hostapd and wpa_supplicant: a process, a control socket for requests and an attached event monitor."""
from __future__ import annotations

import time
from pathlib import Path

from testbed.daemons.base import Daemon
from testbed.daemons.ctrl import CtrlSocket, Event, EventMonitor
from testbed.errors import DaemonError
from testbed.state import RunState


def parse_kv(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


class _CtrlDaemon(Daemon):
    """Shared by hostapd and wpa_supplicant, whose control interfaces speak the same protocol."""

    def __init__(self, name: str, netns: str | None, argv: list[str], log: Path, ctrl_path: Path,
                 local_dir: Path, state: RunState | None = None):
        super().__init__(name, netns, argv, log, state)
        self.ctrl_path, self.local_dir = ctrl_path, local_dir
        self.ctrl: CtrlSocket | None = None
        self.mon: EventMonitor | None = None

    def _ping(self) -> bool:
        if not self.ctrl_path.exists():
            return False
        with CtrlSocket(self.ctrl_path, self.name, self.local_dir) as c:
            return c.request("PING", timeout=2).strip() == "PONG"

    def start(self, timeout: float = 20.0) -> None:  # type: ignore[override]
        super().start(self._ping, timeout)
        self.ctrl = CtrlSocket(self.ctrl_path, self.name, self.local_dir)
        self.mon = EventMonitor(self.ctrl_path, self.name, self.local_dir)

    def request(self, cmd: str, timeout: float = 10.0) -> str:
        if self.ctrl is None:
            raise DaemonError(self.name, "not started")
        self.check_alive()
        return self.ctrl.request(cmd, timeout)

    def ok(self, cmd: str, timeout: float = 10.0) -> None:
        """A command that must answer OK; its arguments are not echoed (they may hold keys)."""
        reply = self.request(cmd, timeout).strip()
        if reply != "OK":
            raise DaemonError(self.name, f"{cmd.split(' ', 1)[0]} answered {reply[:60]!r}", self.log)

    def wait_event(self, names: list[str] | tuple[str, ...], timeout: float = 10.0) -> Event:
        assert self.mon is not None
        try:
            return self.mon.wait_event(names, timeout)
        except DaemonError:
            self.check_alive()
            raise DaemonError(self.name, f"timed out after {timeout:g} s waiting for {' or '.join(names)}", self.log)

    def mark(self) -> int:
        assert self.mon is not None
        return self.mon.mark()

    def status(self) -> dict[str, str]:
        return parse_kv(self.request("STATUS"))

    def stop(self, timeout: float = 5.0) -> None:
        for sock in (self.mon, self.ctrl):
            if sock is not None:
                sock.close()
        self.mon = self.ctrl = None
        super().stop(timeout)


class Hostapd(_CtrlDaemon):
    exe = "hostapd"

    def __init__(self, node: str, netns: str | None, conf: Path, ctrl_dir: Path, ifname: str, log: Path,
                 local_dir: Path, state: RunState | None = None, verbose: bool = False):
        argv = ["hostapd", "-t", "-dd" if verbose else "-d", str(conf)]
        super().__init__(f"hostapd {node}", netns, argv, log, ctrl_dir / ifname, local_dir, state)
        self.ifname = ifname

    def start(self, timeout: float = 20.0) -> None:  # type: ignore[override]
        super().start(timeout)
        state = self.status().get("state")
        if state != "ENABLED":
            ev = self.wait_event(["AP-ENABLED", "AP-DISABLED", "INTERFACE-DISABLED"], timeout)
            if ev.name != "AP-ENABLED":
                raise DaemonError(self.name, f"interface not enabled ({ev.name})", self.log)

    @property
    def bssid(self) -> str:
        return self.status()["bssid[0]"]

    def pmksa(self) -> list[str]:
        return [l for l in self.request("PMKSA").splitlines() if l and not l.startswith("Index")]

    def pmksa_add(self, sta: str, pmkid: str, pmk: str, expiration: int = 43200, akmp: int = 1) -> None:
        self.ok(f"PMKSA_ADD {sta} {pmkid} {pmk} {expiration} {akmp}")

    def lists(self, sta: str) -> bool:
        """Does hostapd hold an entry for the station (associated, or being removed)?"""
        return not self.request(f"STA {sta}").startswith("FAIL")

    def wait_sta_gone(self, sta: str, timeout: float = 10.0) -> bool:
        """Wait until hostapd has dropped the station. After a deauthentication it keeps the entry about 5 s
        and drops the station's EAPOL meanwhile ("IEEE 802.1X data frame from not associated/
        Pre-authenticating STA"), so a pre-authentication started then stalls until wpa_supplicant
        retransmits EAPOL-Start. Polled: hostapd sends no event for the removal. False on timeout."""
        deadline = time.monotonic() + timeout
        while self.lists(sta):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True


class WpaSupplicant(_CtrlDaemon):
    exe = "wpa_supplicant"

    def __init__(self, node: str, netns: str | None, conf: Path, ctrl_dir: Path, ifname: str, log: Path,
                 local_dir: Path, state: RunState | None = None, verbose: bool = False, driver: str = "nl80211",
                 exe: str = "wpa_supplicant"):  # exe: e.g. the ERP build of testbed/wpabuild.py
        argv = [exe, "-t", "-dd" if verbose else "-d", "-D", driver, "-i", ifname, "-c", str(conf)]
        super().__init__(f"wpa_supplicant {node}", netns, argv, log, ctrl_dir / ifname, local_dir, state)
        self.ifname = ifname

    def set_network(self, net_id: int, field: str, value: str) -> None:
        self.ok(f"SET_NETWORK {net_id} {field} {value}")

    def scan(self, freqs: list[int], timeout: float = 30.0) -> Event:
        """Scan only the given channels: a full scan while associated takes ~20 s under TCG."""
        self.mark()
        reply = self.request(f"SCAN freq={','.join(map(str, freqs))}").strip()
        if reply not in ("OK", "FAIL-BUSY"):
            raise DaemonError(self.name, f"SCAN answered {reply!r}", self.log)
        return self.wait_event(["CTRL-EVENT-SCAN-RESULTS", "CTRL-EVENT-SCAN-FAILED"], timeout)

    def bss(self, bssid: str) -> dict[str, str]:
        return parse_kv(self.request(f"BSS {bssid}"))

    def pmksa(self) -> list[str]:
        return [l for l in self.request("PMKSA").splitlines() if l and not l.startswith("Index")]

    def pmksa_get(self, net_id: int = 0) -> list[list[str]]:
        """BSSID PMKID PMK reauth expiration akmp opportunistic, per entry (holds the PMK: never log it)."""
        return [l.split() for l in self.request(f"PMKSA_GET {net_id}").splitlines() if l.strip()]

    def pmksa_add(self, net_id: int, bssid: str, pmkid: str, pmk: str, reauth: int = 43200,
                  expiration: int = 43200, akmp: int = 1, opportunistic: int = 0) -> None:
        self.ok(f"PMKSA_ADD {net_id} {bssid} {pmkid} {pmk} {reauth} {expiration} {akmp} {opportunistic}")
