"""`net.handover(sta, ap, scheme=...)`: one handover on a running network, by the campaign's scheme plug-ins
(testbed/campaign/schemes: prepare, trigger, check) or, for MIH schemes, by the MN's MIH agent
(testbed/scenarios/mih_preauth: pre-authentication over the serving link, MN_HO_Commit, handover, Complete).
Timed from the station's daemon events and the hwsim0 capture (testbed/campaign/phases)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from testbed.campaign import phases
from testbed.campaign.schemes import available
from testbed.campaign.schemes.base import Bench, Scheme
from testbed.errors import MihsecError
from testbed.net import Network
from testbed.scenarios import mih_preauth

# Short names a script may use for the campaign's schemes.
ALIASES = {"full": "full_eap_tls", "pmksa": "pmksa_cache", "peap": "full_peap", "ft": "ft_eap_air",
           "preauth": "rsn_preauth"}
# Schemes the MN's MIH agent carries out (any serving link: WLAN or an 802.1X wired port, across domains);
# the value is the agent's pre-authentication mode (None: none, a full EAP at the target).
MIH_MODES: dict[str, str | None] = {"mih": None, "mih_eap": "eap_over_mih", "mih_ll_auth": "ll_auth"}


def scheme_names() -> list[str]:
    return sorted(set(available()) - set(MIH_MODES)) + list(MIH_MODES) + list(ALIASES)


@dataclass
class HandoverResult:
    station: str
    source: str | None  # the AP (or wired port) the station left
    target: str
    scheme: str
    total_ms: float | None  # handover command -> CTRL-EVENT-CONNECTED with the target
    eap_ran: bool  # EAP at the target after the handoff
    eap_frames: int | None = None  # EAP frames on the air with the target (None: not read from the capture)
    key_msgs: list[int] = field(default_factory=list)  # 4-way handshake messages on the air
    preauth_ms: float | None = None  # pre-authentication before the handoff (untimed part)
    phases: dict[str, float | None] = field(default_factory=dict)  # ms per phase (daemon clock)
    problem: str | None = None  # what the scheme expected and did not see, e.g. EAP where a cached key was due

    def row(self) -> list[str]:
        ms = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
        return [self.station, f"{self.source or '-'} -> {self.target}", self.scheme, ms(self.total_ms),
                "yes" if self.eap_ran else "no", ms(self.preauth_ms), self.problem or "ok"]


COLUMNS = ["station", "handover", "scheme", "ms", "EAP at target", "pre-auth ms", "check"]


def table(results: list[HandoverResult]) -> str:
    """A plain-text table of handovers, one per line."""
    rows = [COLUMNS] + [r.row() for r in results]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def resolve(scheme: str) -> str:
    name = ALIASES.get(scheme, scheme)
    if name not in available() and name not in MIH_MODES:
        raise MihsecError(f"unknown handover scheme {scheme!r} (known: {', '.join(scheme_names())})")
    return name


def run(net: Network, benches: dict[str, Bench], station: str, target: str, scheme: str,
        timeout: float = 60.0) -> HandoverResult:
    name = resolve(scheme)
    if station not in net.stations:
        raise MihsecError(f"{station!r} is not a wireless station of this network")
    if target not in net.aps:
        raise MihsecError(f"{target!r} is not an access point of this network")
    if name in MIH_MODES:
        return _mih(net, station, target, name, timeout)
    if station not in benches:
        benches[station] = _bench(net, station, timeout)
    return _scheme(benches[station], available()[name], target)


def _mih(net: Network, station: str, target: str, name: str, timeout: float) -> HandoverResult:
    sta = net.stations[station]
    src = _serving(net, station)
    r = mih_preauth.run(net, MIH_MODES[name], station, target, timeout=timeout)
    problem = None
    if MIH_MODES[name] and not r.preauth_ok:
        problem = f"pre-authentication failed ({r.error or 'no reason given'}): full EAP at the target"
    elif MIH_MODES[name] and r.eap_ran:
        problem = "EAP ran at the target despite the pre-authentication"
    if src and src in net.aps:  # the AP the station left keeps it listed (802.11 does not tell it)
        net.aps[src].hostapd.request(f"DEAUTHENTICATE {sta.mac} tx=0")
        net.aps[src].hostapd.wait_sta_gone(sta.mac)  # a later pre-authentication there must not find it
    return HandoverResult(station, src, target, name, r.handover_ms, r.eap_ran, preauth_ms=r.preauth_ms,
                          problem=problem)


def _serving(net: Network, station: str) -> str | None:
    """The AP the station is associated with, else its 802.1X wired port's NAS."""
    st = net.stations[station].wpas.status()
    if st.get("wpa_state") == "COMPLETED":
        return next((n for n, a in net.aps.items() if a.bssid == st.get("bssid")), None)
    return next((w.peer for w in net.plan.wired_of(station) if w.peer in net.nas), None)


def _bench(net: Network, station: str, timeout: float) -> Bench:
    """The campaign's view of a station and its APs, told what the station's configuration already holds
    (so a scheme reconnects it only when it needs another AKM)."""
    prof = net.stations[station].plan.profile
    conf = {"key_mgmt": prof.akm + (" FT-EAP" if prof.ft and prof.akm != "FT-EAP" else ""),
            "proactive_key_caching": "1" if prof.okc else "0"}
    return Bench(net, station, timeout=timeout, dirty=False, _conf=conf)


def _scheme(bench: Bench, sch: Scheme, target: str) -> HandoverResult:
    net = bench.net
    reason = sch.unsupported(bench)
    if reason:
        raise MihsecError(f"{sch.name} cannot run here: {reason}")
    dst = net.aps[target]
    if bench.serving() is None:  # not connected yet: start from another AP of its ESS (untimed, full EAP)
        bench.reset(to=next(a for a in bench.aps if a is not dst))
    src = sch.source(bench)  # untimed: connected as the scheme needs (reconnects only for another AKM)
    if src is dst:
        raise MihsecError(f"{bench.station} is already associated with {target}")
    prep = sch.prepare(bench, src, dst)
    log, pcap = phases.LogTail(bench.wpas.log, bench.sta.plan.ifname), phases.PcapTail(net.pcap)
    pcap.skip_to_end()
    bench.wpas.mark()
    t_cmd = sch.trigger(bench, src, dst)
    bench.wpas.wait_event(["CTRL-EVENT-CONNECTED"], bench.timeout)
    t_end = time.time()
    bench.forget(src)  # as the campaign does: the AP left drops the station at once
    st = bench.wpas.status()
    if st.get("bssid") != dst.bssid or st.get("wpa_state") != "COMPLETED":
        raise MihsecError(f"{sch.name}: {bench.station} ended {st.get('wpa_state')} with {st.get('bssid')}, "
                          f"not with {target}")
    frames = _frames_until(pcap, t_end)
    ex = phases.extract(log.read_new(), frames, bench.sta.mac, src.bssid, dst.bssid, t_cmd, t_end, [], sch.ft)
    eap_ran = bool(ex.eap_on_air) or ex.events.get("eap") is not None
    return HandoverResult(bench.station, src.plan.node, target, sch.name, ex.total_ms, eap_ran, ex.eap_on_air,
                          ex.key_msgs, prep, ex.events, sch.check(bench, src, dst, ex))


def _frames_until(pcap: phases.PcapTail, t_end: float, timeout: float = 3.0) -> list[phases.Frame]:
    """tcpdump lags: read until a frame (beacons come 10/s per AP) is past the end of the handover."""
    frames: list[phases.Frame] = []
    deadline = time.monotonic() + timeout
    while True:
        frames += pcap.read_new()
        if (frames and frames[-1].t >= t_end) or time.monotonic() > deadline:
            return frames
        time.sleep(0.05)
