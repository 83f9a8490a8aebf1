"""The foundation scenario: connect with full EAP, roam to the other AP (full EAP), roam back (PMKSA cache).

Durations come from wpa_supplicant control-interface events, stamped as they arrive.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from testbed.daemons.ctrl import Event
from testbed.errors import MihsecError
from testbed.net import Network, StationNode


@dataclass
class Step:
    name: str
    target: str  # AP node name
    bssid: str
    total_ms: float  # command -> CTRL-EVENT-CONNECTED
    auth_assoc_ms: float | None  # 802.11 authentication + (re)association
    eap_ms: float | None  # EAP-STARTED -> EAP-SUCCESS; None when no EAP ran
    key_ms: float | None  # end of EAP (or association) -> 4-way handshake completed
    eap_ran: bool
    key_mgmt: str


def _first(events: list[Event], prefix: str) -> Event | None:
    return next((e for e in events if e.text.startswith(prefix)), None)


def _ms(a: Event | float | None, b: Event | None) -> float | None:
    if a is None or b is None:
        return None
    start = a.mono if isinstance(a, Event) else a
    return round((b.mono - start) * 1000, 1)


def _measure(sta: StationNode, name: str, target: str, bssid: str, cmd: str, timeout: float) -> Step:
    wpas = sta.wpas
    assert wpas is not None and wpas.mon is not None
    start_index = wpas.mark()
    t0 = time.monotonic()
    reply = wpas.request(cmd).strip()
    if reply != "OK":
        raise MihsecError(f"{name}: wpa_supplicant answered {reply!r} to {cmd.split()[0]}")
    connected = wpas.wait_event(["CTRL-EVENT-CONNECTED"], timeout)
    events = wpas.mon.since(start_index)
    status = wpas.status()
    if status.get("bssid") != bssid or status.get("wpa_state") != "COMPLETED":
        raise MihsecError(f"{name}: expected COMPLETED with {bssid}, got {status.get('wpa_state')} with "
                          f"{status.get('bssid')} (log: {wpas.log})")
    auth = _first(events, "SME: Trying to authenticate")
    assoc = _first(events, "Associated with")
    eap_start, eap_ok = _first(events, "CTRL-EVENT-EAP-STARTED"), _first(events, "CTRL-EVENT-EAP-SUCCESS")
    keys = _first(events, "WPA: Key negotiation completed")
    return Step(name, target, bssid, round((connected.mono - t0) * 1000, 1), _ms(auth, assoc),
                _ms(eap_start, eap_ok), _ms(eap_ok or assoc, keys), eap_start is not None,
                status.get("key_mgmt", "?"))


def run(net: Network, station: str | None = None, timeout: float = 60.0) -> list[Step]:
    """Connect to the first AP, roam to the second, roam back. Needs two APs with one SSID."""
    sta = net.stations[station or next(iter(net.stations))]
    aps = [a for a in net.aps.values() if a.plan.ssid == sta.plan.ssid]
    if len(aps) < 2:
        raise MihsecError(f"the roam scenario needs two APs with SSID {sta.plan.ssid!r}, found {len(aps)}")
    first, second = aps[0], aps[1]
    wpas = sta.wpas
    assert wpas is not None
    steps = []
    # Pin the first AP for the initial connection: hwsim gives every AP the same signal.
    wpas.set_network(0, "bssid", first.bssid)
    wpas.scan([first.plan.freq])
    steps.append(_measure(sta, "connect", first.plan.node, first.bssid, "SELECT_NETWORK 0", timeout))
    wpas.set_network(0, "bssid", "any")
    for name, ap in (("roam", second), ("roam back", first)):
        wpas.scan([ap.plan.freq])
        steps.append(_measure(sta, name, ap.plan.node, ap.bssid, f"ROAM {ap.bssid}", timeout))
    for step in steps:  # the AP side must agree that the station is connected
        net.aps[step.target].hostapd.check_alive()
    return steps


def save(steps: list[Step], path: Path) -> None:
    path.write_text(json.dumps([asdict(s) for s in steps], indent=1))
