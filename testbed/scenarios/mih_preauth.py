"""MIH pre-authentication then handover: the MN agent pre-authenticates with the target AP through
its serving link, installs the key, and hands over; only the 4-way handshake should remain.

    result = run(net, mode="ll_auth")       # or "eap_over_mih"; mode=None: no pre-auth (control run)
"""
from __future__ import annotations

from dataclasses import dataclass

from testbed import preauth_hops
from testbed.errors import MihsecError
from testbed.net import Network


@dataclass
class MihHandover:
    mode: str | None
    station: str
    target: str  # AP node
    bssid: str
    preauth_ok: bool | None
    preauth_ms: float | None
    preauth_via: str | None
    pmkid: str | None
    handover_ms: float
    eap_ran: bool  # EAP at the target after the handoff (False = pre-authentication paid off)
    target_pmksa_has_mn: bool  # the target hostapd held a PMKSA for the MN before the handoff
    error: str = ""
    authenticator: str | None = None  # eap_over_mih: the PoS the MN pre-authenticated with...
    authenticator_from: str | None = None  # ...and who named it ("information service")
    commit: str | None = None  # MN_HO_Commit.response status from the serving PoS
    complete: str | None = None  # MN_HO_Complete.response status from the target's PoS
    new_ip: str | None = None  # the radio's address after IP renewal (None: it stayed)
    preauth_hops: dict | None = None  # where the pre-authentication's time went (testbed/preauth_hops.py)


def pick_target(net: Network, station: str) -> str:
    """The first AP of another ESS than the station's serving one (or any AP it is not associated with)."""
    sta = net.stations[station]
    serving = sta.wpas.status().get("bssid") if sta.wpas else None
    for node, ap in net.aps.items():
        if ap.bssid != serving and (serving is None or ap.plan.ssid != sta.wpas.status().get("ssid")):
            return node
    raise MihsecError(f"no target AP for {station}: every AP is in its serving ESS")


def run(net: Network, mode: str | None = "ll_auth", station: str | None = None, target: str | None = None,
        timeout: float = 90.0) -> MihHandover:
    station = station or next(iter(net.stations))
    if station not in net.agents:
        raise MihsecError(f"station {station} has no MIH agent")
    agent = net.agents[station]
    target = target or pick_target(net, station)
    ap = net.aps[target]
    mac = net.stations[station].mac
    pre: dict = {}
    if mode is not None:
        # eap_over_mih: the MN agent asks the information service for the target's authenticator
        req = {"cmd": "preauth", "mode": mode, "target": ap.bssid, "ssid": ap.plan.ssid, "timeout": timeout}
        pre = agent.call(req, timeout=timeout + 10)
    has_pmksa = any(mac in line for line in ap.hostapd.pmksa())
    hops = _hops(net, mode, pre, mac, ap.bssid) if pre.get("ok") else None
    ho = agent.call({"cmd": "handover", "target": ap.bssid, "ssid": ap.plan.ssid, "freq": ap.plan.freq,
                     "timeout": timeout}, timeout=timeout + 40)
    if not ho.get("ok"):
        raise MihsecError(f"handover of {station} to {target} failed: {ho.get('error') or ho}")
    return MihHandover(mode, station, target, ap.bssid, pre.get("ok") if mode else None, pre.get("duration_ms"),
                       pre.get("via"), pre.get("pmkid"), ho["duration_ms"], ho["eap_ran"], has_pmksa,
                       pre.get("error", ""), pre.get("authenticator"), pre.get("authenticator_from"),
                       ho.get("commit"), ho.get("complete"), ho.get("ip"), hops)


def _hops(net: Network, mode: str | None, pre: dict, mac: str, bssid: str) -> dict:
    if mode == "ll_auth":
        return preauth_hops.ll_auth(pre, [a for a in net.agents.values() if a.cfg.role == "poa"], mac)
    pos = next((a for a in net.agents.values() if a.cfg.mihf_id == pre.get("authenticator")), None)
    return preauth_hops.eap_over_mih(pre, pos, mac, bssid) if pos else {}


def reset(net: Network, station: str = "mn") -> None:
    """A clean start: the station back on its serving link, every other AP without its station entry
    and without PMKSAs, so the next handover owes nothing to an earlier one."""
    sta = net.stations[station]
    serving = net.aps[sta.plan.serving] if sta.plan.serving else None
    bssid = sta.wpas.status().get("bssid")
    if serving is not None and bssid != serving.bssid:
        # The serving AP still holds the station from before it left (802.11 does not tell it): drop that
        # stale entry first, or the reassociation can stall there.
        serving.hostapd.drop_sta(sta.mac)
        r = net.agents[station].call({"cmd": "handover", "target": serving.bssid, "ssid": serving.plan.ssid,
                                      "freq": serving.plan.freq}, timeout=120)
        if not r.get("ok"):
            raise MihsecError(f"could not return {station} to {serving.plan.node}: {r}")
    elif serving is None and bssid:
        sta.wpas.mark()
        sta.wpas.request("DISCONNECT")
        sta.wpas.wait_event(["CTRL-EVENT-DISCONNECTED"], 30)
    for ap in net.aps.values():
        if ap is serving:
            continue
        # The MN left by reassociating elsewhere, which 802.11 does not tell the old AP: drop the station
        # there (no frame sent), or hostapd ignores its next pre-authentication ("already associated").
        ap.hostapd.drop_sta(sta.mac)
        if ap.hostapd.request("PMKSA_FLUSH").strip() != "OK":
            raise MihsecError(f"PMKSA_FLUSH refused by {ap.plan.node}")
    for ap in net.aps.values():  # a pre-authentication must not find a station hostapd is still removing
        if ap is not serving:
            ap.hostapd.wait_sta_gone(sta.mac)


def campaign(net: Network, modes: list[str | None], trials: int, progress=None) -> list[MihHandover]:
    """`trials` handovers per mode, interleaved (mode order rotates), each from a clean start."""
    out: list[MihHandover] = []
    for t in range(trials):
        for mode in modes[t % len(modes):] + modes[:t % len(modes)]:
            reset(net)
            out.append(run(net, mode))
            if progress:
                progress()
    return out
