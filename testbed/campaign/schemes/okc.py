"""Opportunistic key caching: the station reuses the PMK of its serving AP at a new AP of the ESS.

hostapd implements OKC only between the BSSes of one hostapd process (what a WLAN controller provides);
this testbed runs one hostapd per AP namespace. The harness therefore plays the controller: before the
trigger (untimed) it pushes the serving AP's PMK, under the PMKID the target will be offered, into the
target AP (hostapd PMKSA_ADD). The station side is real OKC: wpa_supplicant with proactive_key_caching=1
derives that PMKID itself and puts it in the reassociation request.
"""
from __future__ import annotations

from testbed.campaign.schemes.base import Bench, Scheme, SchemeError, pmkid
from testbed.net import ApNode


class Okc(Scheme):
    name = "okc"
    title = "OKC"
    description = ("opportunistic key caching: the station derives the target's PMKID from its serving AP's PMK; "
                   "the harness acts as the WLAN controller and pushes that PMKSA to the target AP (untimed), "
                   "since hostapd shares PMKs only between the BSSes of one process")
    proactive_key_caching = True
    expect_eap = False
    expect_4way = True

    def prepare(self, bench: Bench, src: ApNode, dst: ApNode) -> float | None:
        if bench.sta_pmkid(dst) is not None:  # a real entry for the target would be used instead of OKC
            bench.reset(to=src)
        bench.flush_ap(dst)
        entry = next((e for e in bench.wpas.pmksa_get(bench.net_id) if e and e[0] == src.bssid), None)
        if entry is None or len(entry) < 6:
            raise SchemeError(f"the station holds no PMKSA for its serving AP {src.plan.node}")
        pmk, akmp = entry[2], int(entry[5])
        assert dst.hostapd is not None
        dst.hostapd.pmksa_add(bench.sta.mac, pmkid(bytes.fromhex(pmk), dst.bssid, bench.sta.mac), pmk, akmp=akmp)
        bench.scan(dst)
        if bench.sta_pmkid(dst) is not None:  # so a handover without EAP can only come from OKC
            raise SchemeError("the station holds a PMKSA for the target before the handover")
        return None


SCHEME = Okc()
