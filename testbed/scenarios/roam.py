"""The foundation scenario: connect with full EAP, roam to the other AP (full EAP), roam back (PMKSA cache).

Durations come from wpa_supplicant control-interface events, stamped as they arrive.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from node_agents.ctrl import Event
from node_agents.hostap import Transition
from testbed.errors import DaemonError, MihsecError
from testbed.net import Network


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


def _ms(a: Event | None, b: Event | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b.mono - a.mono) * 1000, 1)


def _step(name: str, target: str, bssid: str, tr: Transition, key_mgmt: str) -> Step:
    auth, assoc = tr.first("SME: Trying to authenticate"), tr.first("Associated with")
    eap_start, eap_ok = tr.first("CTRL-EVENT-EAP-STARTED"), tr.first("CTRL-EVENT-EAP-SUCCESS")
    keys = tr.first("WPA: Key negotiation completed")
    return Step(name, target, bssid, round((tr.connected.mono - tr.t0) * 1000, 1), _ms(auth, assoc),
                _ms(eap_start, eap_ok), _ms(eap_ok or assoc, keys), eap_start is not None, key_mgmt)


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
    for name, ap in (("connect", first), ("roam", second), ("roam back", first)):
        try:
            if name == "connect":
                tr = wpas.connect(net_id=0, bssid=ap.bssid, freq=ap.plan.freq, timeout=timeout)
            else:
                tr = wpas.roam(bssid=ap.bssid, freq=ap.plan.freq, timeout=timeout)
        except DaemonError as e:
            raise MihsecError(f"{name}: {e}") from e
        steps.append(_step(name, ap.plan.node, ap.bssid, tr, wpas.status().get("key_mgmt", "?")))
    for step in steps:  # the AP side must agree that the station is connected
        net.aps[step.target].hostapd.check_alive()
    return steps


def save(steps: list[Step], path: Path) -> None:
    path.write_text(json.dumps([asdict(s) for s in steps], indent=1))
