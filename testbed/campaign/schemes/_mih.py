"""MIH pre-authentication as campaign schemes (issue 5's agents): the MN agent pre-authenticates with the
target AP of another domain through its serving link before the trigger (untimed, reported as prep);
the handover then runs the 4-way handshake only.

These schemes run on their own topology (measure-two-domain): two routed WLAN domains, where 802.11
pre-authentication cannot reach the target. The station's single network block covers both ESSs, so
ROAM (which matches the BSS by SSID) cannot move it: the trigger pins the target BSSID and scans its
channel, as the MN agent's Link_Action does, and the handover includes that one-channel scan.
"""
from __future__ import annotations

import time
from typing import ClassVar

from testbed import preauth_hops
from testbed.campaign.schemes.base import Bench, Scheme, SchemeError
from testbed.errors import DaemonError
from testbed.net import ApNode


class MihPreauth(Scheme):
    mode: ClassVar[str] = ""
    topology = "measure-two-domain"
    agents = True
    # The target hostapd answers pre-authentication on its DS bridge (ll_auth). No FT: wpa_supplicant derives
    # PMK-R0 from the network block's SSID, empty in the station's cross-ESS block, so an FT-EAP initial
    # association fails its 4-way handshake there; OKC is of no use across ESSs either.
    profile = {"rsn_preauth": True, "ft": False, "ft_over_ds": False, "okc": False}
    expect_eap = False
    expect_4way = True

    def unsupported(self, bench: Bench) -> str | None:
        if bench.station not in bench.net.agents:
            return f"station {bench.station} runs no MIH agent"
        return None

    def source(self, bench: Bench) -> ApNode:
        # The MN keeps its home domain's address (no IP mobility here): every trial starts at home.
        cur = bench.ensure(self.key_mgmt, self.proactive_key_caching)
        if cur is bench.home:
            return cur
        try:  # back with the PMKSA of the first association (4-way handshake only), else from scratch
            bench.go(bench.home)
            bench.forget(cur)
            return bench.home
        except (SchemeError, DaemonError):
            return bench.reset(to=bench.home)

    def prepare(self, bench: Bench, src: ApNode, dst: ApNode) -> float | None:
        if self.mode == "ll_auth":  # hostapd ignores pre-authentication from a station it still lists
            bench.drop(dst)
        else:
            bench.forget(dst)
        bench.flush_ap(dst)
        try:
            r = bench.net.agents[bench.station].call(
                {"cmd": "preauth", "mode": self.mode, "target": dst.bssid, "ssid": dst.plan.ssid,
                 "timeout": bench.timeout}, timeout=bench.timeout + 15)
        except DaemonError as e:
            raise SchemeError(f"MN agent: {e}") from e
        if not r.get("ok"):
            raise SchemeError(f"MIH pre-authentication ({self.mode}) failed: {r.get('error') or r}")
        if bench.ap_pmkid(dst) is None:
            raise SchemeError(f"after MIH pre-authentication {dst.plan.node} holds no PMKSA for the station")
        self._hops = self._breakdown(bench, r, src, dst)
        return r.get("duration_ms")

    def _breakdown(self, bench: Bench, r: dict, src: ApNode, dst: ApNode) -> dict:
        """Where the pre-authentication's time went, from the agents' stamps (empty if an agent is missing)."""
        agents = bench.net.agents
        try:
            if self.mode == "ll_auth":
                return preauth_hops.ll_auth(r, [agents[n] for n in (src.plan.node, dst.plan.node) if n in agents],
                                            bench.sta.mac)
            pos = next((a for a in agents.values() if a.cfg.mihf_id == r.get("authenticator")), None)
            return preauth_hops.eap_over_mih(r, pos, bench.sta.mac, dst.bssid) if pos else {}
        except DaemonError:  # the stamps are a diagnosis: their loss must not fail the trial
            return {}

    def take_hops(self) -> dict:
        hops, self._hops = getattr(self, "_hops", {}), {}
        return hops

    def trigger(self, bench: Bench, src: ApNode, dst: ApNode) -> float:
        t = time.time()
        try:
            bench.pin_scan(dst)
        except DaemonError as e:
            raise SchemeError(str(e)) from e
        return t
