"""Opportunistic key caching: the station reuses the PMK of its serving AP at a new AP of the ESS.

hostapd implements OKC only between the BSSes of one hostapd process (what a WLAN controller provides);
this testbed runs one hostapd per AP namespace. The harness therefore plays the controller: before the
trigger (untimed) it pushes the serving AP's PMK, under the PMKID the target will be offered, into the
target AP (hostapd PMKSA_ADD). The station side is real OKC: wpa_supplicant with proactive_key_caching=1
derives that PMKID itself and puts it in the reassociation request.
"""
from __future__ import annotations

from node_agents.keys import pmkid
from testbed.campaign.schemes.base import Bench, Scheme, SchemeError
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
        entry = next((l.split() for l in bench.wpas.pmksa() if l.split()[1:2] == [dst.bssid]), None)
        if entry is not None and entry[4] != "1":  # a real entry for the target would be used instead of OKC
            bench.reset(to=src)
        bench.flush_ap(dst)
        cached = next((e for e in bench.wpas.pmksa_get(bench.net_id) if e and e[0] == src.bssid), None)
        if cached is None or len(cached) < 6:
            raise SchemeError(f"the station holds no PMKSA for its serving AP {src.plan.node}")
        pmk, akmp = cached[2], int(cached[5])
        want = pmkid(bytes.fromhex(pmk), dst.bssid, bench.sta.mac).hex()
        assert dst.hostapd is not None
        dst.hostapd.pmksa_add(sta=bench.sta.mac, pmkid=want, pmk=pmk, akmp=akmp)  # the controller's part
        # wpa_supplicant derives the OKC entry for a scanned AP of the ESS (opportunistic flag 1)
        bench.scan(dst)
        entry = next((l.split() for l in bench.wpas.pmksa() if l.split()[1:2] == [dst.bssid]), None)
        if entry is None or entry[4] != "1" or entry[2] != want:
            raise SchemeError(f"the station derived no opportunistic PMKSA for the target ({entry})")
        return None


SCHEME = Okc()
