"""hostapd and wpa_supplicant as their control interfaces: the actions and waits every user shares.

As in hostap's own hwsim tests (`connect`, `roam`, `wait_connected` on the wrapper), an action lives
here once; the orchestrator's process wrappers (testbed/daemons/wpa.py) add the process to these, and
the MIH agents use them over a daemon's socket path (`with WpaCtrl(path, "wpa_supplicant") as w:`).
Waits raise DaemonError instead of returning None.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from node_agents.ctrl import CtrlSocket, Event, EventMonitor
from node_agents.errors import DaemonError


def parse_kv(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


class Refused(DaemonError):
    """The daemon answered a command with something other than OK."""


@dataclass(frozen=True)
class Transition:
    """A station moving to a BSS: when the command went out, and every event until it was connected."""
    t0: float  # time.monotonic() just before the command
    events: list[Event]
    connected: Event

    def first(self, prefix: str) -> Event | None:
        return next((e for e in self.events if e.text.startswith(prefix)), None)


class CtrlClient:
    """A request socket and an attached event monitor on one control interface, opened by open()."""

    def __init__(self, ctrl_path: Path | str, name: str, local_dir: Path | None = None, log: Path | None = None):
        self.ctrl_path, self.name, self.local_dir, self.log = Path(ctrl_path), name, local_dir, log
        self.ctrl: CtrlSocket | None = None
        self.mon: EventMonitor | None = None

    def open(self) -> None:
        self.ctrl = CtrlSocket(self.ctrl_path, self.name, self.local_dir)
        try:
            self.mon = EventMonitor(self.ctrl_path, self.name, self.local_dir)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for sock in (self.mon, self.ctrl):
            if sock is not None:
                sock.close()
        self.mon = self.ctrl = None

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_alive(self) -> None:
        """Raise DaemonError if the daemon is known to be dead (a process wrapper knows)."""

    def request(self, cmd: str, timeout: float = 10.0) -> str:
        if self.ctrl is None:
            raise DaemonError(self.name, "not started")
        self.check_alive()
        return self.ctrl.request(cmd, timeout)

    def ok(self, cmd: str, timeout: float = 10.0) -> None:
        """A command that must answer OK; its arguments are not echoed (they may hold keys)."""
        reply = self.request(cmd, timeout).strip()
        if reply != "OK":
            raise Refused(self.name, f"{cmd.split(' ', 1)[0]} answered {reply[:60]!r}", self.log)

    def wait_event(self, names: list[str] | tuple[str, ...], timeout: float = 10.0) -> Event:
        if self.mon is None:
            raise DaemonError(self.name, "not started")
        try:
            return self.mon.wait_event(names, timeout)
        except DaemonError:
            self.check_alive()
            raise DaemonError(self.name, f"timed out after {timeout:g} s waiting for {' or '.join(names)}", self.log)

    def mark(self) -> int:
        if self.mon is None:
            raise DaemonError(self.name, "not started")
        return self.mon.mark()

    def since(self, index: int) -> list[Event]:
        assert self.mon is not None
        return self.mon.since(index)

    def status(self) -> dict[str, str]:
        return parse_kv(self.request("STATUS"))

    def pmksa(self) -> list[str]:
        return [l for l in self.request("PMKSA").splitlines() if l and not l.startswith("Index")]


class HostapdCtrl(CtrlClient):
    @property
    def bssid(self) -> str:
        return self.status()["bssid[0]"]

    def pmksa_add(self, *, sta: str, pmkid: str, pmk: str, expiration: int = 43200, akmp: int = 1) -> None:
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

    def drop_sta(self, sta: str, *, wait: bool = False) -> bool:
        """Make hostapd drop a station without sending anything on the air (DEAUTHENTICATE tx=0).

        mac80211 roams without deauthenticating from the AP it leaves, so that AP keeps the station as
        associated (and authorized) until hostapd's inactivity check, ap_max_inactivity = 300 s. hostapd then
        ignores RSN pre-authentication from the station ("pre-auth for already association STA"). Not sent
        again to an entry hostapd is already removing. With `wait`, returns once the entry is gone (see
        wait_sta_gone; False on timeout)."""
        info = self.request(f"STA {sta}")
        if not info.startswith("FAIL") and ("[ASSOC]" in info or "[AUTH]" in info):
            self.ok(f"DEAUTHENTICATE {sta} tx=0")
        return self.wait_sta_gone(sta) if wait else True


class WpaCtrl(CtrlClient):
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

    def find(self, bssid: str, freq: int, timeout: float = 30.0, tries: int = 3) -> None:
        """Scan one channel until the BSS has a fresh entry (ROAM and SELECT_NETWORK need one)."""
        for _ in range(tries):
            ev = self.scan([freq], timeout=timeout)
            if ev.name == "CTRL-EVENT-SCAN-RESULTS" and self.bss(bssid).get("bssid") == bssid:
                return
            time.sleep(0.1)
        raise DaemonError(self.name, f"{bssid} not found by a scan of {freq} MHz", self.log)

    def pmksa_get(self, net_id: int = 0) -> list[list[str]]:
        """BSSID PMKID PMK reauth expiration akmp opportunistic, per entry (holds the PMK: never log it)."""
        return [l.split() for l in self.request(f"PMKSA_GET {net_id}").splitlines() if l.strip()]

    def pmksa_add(self, *, net_id: int, bssid: str, pmkid: str, pmk: str, reauth: int = 43200,
                  expiration: int = 43200, akmp: int = 1, opportunistic: int = 0) -> None:
        self.ok(f"PMKSA_ADD {net_id} {bssid} {pmkid} {pmk} {reauth} {expiration} {akmp} {opportunistic}")

    def wait_connected(self, bssid: str, timeout: float) -> Event:
        """CTRL-EVENT-CONNECTED, and the station really COMPLETED with `bssid`."""
        ev = self.wait_event(["CTRL-EVENT-CONNECTED"], timeout)
        st = self.status()
        if st.get("bssid") != bssid or st.get("wpa_state") != "COMPLETED":
            raise DaemonError(self.name, f"expected COMPLETED with {bssid}, got {st.get('wpa_state')} with "
                              f"{st.get('bssid')}", self.log)
        return ev

    def connect(self, *, net_id: int, bssid: str, freq: int, timeout: float = 60.0,
                keep_pin: bool = False) -> Transition:
        """Connect an idle station to one BSS (hwsim gives every AP the same signal, so the BSSID is pinned:
        SELECT_NETWORK). The channel is scanned before pinning: pinned, scan results alone may start the
        connection before the command. Unpinned afterwards unless `keep_pin`."""
        self.find(bssid, freq, timeout)
        self.set_network(net_id, "bssid", bssid)
        try:
            start, t0 = self.mark(), time.monotonic()
            self.ok(f"SELECT_NETWORK {net_id}")
            ev = self.wait_connected(bssid, timeout)
            return Transition(t0, self.since(start), ev)
        finally:
            if not keep_pin:
                self.set_network(net_id, "bssid", "any")

    def roam(self, *, bssid: str, freq: int, timeout: float = 60.0, command: str = "ROAM") -> Transition:
        """Reassociate an associated station with another BSS of its ESS (ROAM, or e.g. FT_DS)."""
        self.find(bssid, freq, timeout)
        start, t0 = self.mark(), time.monotonic()
        reply = self.request(f"{command} {bssid}").strip()
        if reply != "OK":
            raise Refused(self.name, f"{command} {bssid} answered {reply!r}", self.log)
        ev = self.wait_connected(bssid, timeout)
        return Transition(t0, self.since(start), ev)

    def pin_scan(self, *, net_id: int, bssid: str, freq: int) -> None:
        """Move a station whose network block spans several ESSs (ROAM matches the BSS by SSID, so it cannot):
        pin the BSSID and scan its channel; the scan results make wpa_supplicant reassociate."""
        self.set_network(net_id, "bssid", bssid)
        self.ok(f"SCAN freq={freq}")

    def move(self, *, net_id: int, bssid: str, freq: int, timeout: float = 60.0) -> Transition:
        """Move the radio to `bssid`, associated or not. Pinned, an associated station reassociates on the next
        scan results (SELECT_NETWORK of the current network block does nothing while associated); an idle
        radio needs SELECT_NETWORK. The BSSID stays pinned: with equal hwsim signal levels an unpinned
        station may wander off on a later scan."""
        associated = self.status().get("wpa_state") == "COMPLETED"
        self.set_network(net_id, "bssid", bssid)
        start, t0 = self.mark(), time.monotonic()
        self.request(f"SCAN freq={freq}" if associated else f"SELECT_NETWORK {net_id}")
        try:
            self.wait_event(["SME: Trying to authenticate"], 20)
        except DaemonError:
            self.request("REASSOCIATE")
            self.wait_event(["SME: Trying to authenticate"], timeout)
        ev = self.wait_event(["CTRL-EVENT-CONNECTED"], timeout)
        return Transition(t0, self.since(start), ev)

    def preauth(self, target: str, timeout: float = 60.0) -> Event:
        """RSN pre-authentication with `target`; the event that ends it (completed successfully, or failed)."""
        self.mark()
        if self.request(f"PREAUTH {target}").strip() != "OK":
            raise Refused(self.name, "PREAUTH refused", self.log)
        return self.wait_event([f"RSN: pre-authentication with {target}"], timeout)
