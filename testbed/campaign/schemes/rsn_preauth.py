"""IEEE 802.11i RSN pre-authentication (same DS): full EAP with the target AP through the serving AP and
the DS before the handover; the handover then uses the PMKSA this created (4-way handshake only)."""
from __future__ import annotations

import time

from testbed.campaign.schemes.base import Bench, Scheme, SchemeError
from testbed.errors import DaemonError
from testbed.net import ApNode


class RsnPreauth(Scheme):
    name = "rsn_preauth"
    title = "RSN pre-auth"
    description = ("802.11i pre-authentication: EAPOL (ethertype 0x88c7) to the target AP through the serving "
                   "AP and the DS bridge, full EAP with FreeRADIUS before the trigger (untimed, reported as "
                   "prep); the handover then runs the 4-way handshake only. The target's stale entry for the "
                   "station from an earlier visit is removed first (hostapd ignores pre-authentication from a "
                   "station it still believes associated)")
    profile = {"rsn_preauth": True}
    expect_eap = False
    expect_4way = True

    def _running(self, bench: Bench) -> bool:
        return "Pre-authentication EAPOL state machines" in bench.wpas.request("STATUS-VERBOSE")

    def prepare(self, bench: Bench, src: ApNode, dst: ApNode) -> float | None:
        assert dst.hostapd is not None
        # mac80211 leaves an AP without a deauthentication frame when it roams, so an AP the station left
        # still lists it as associated (until ap_max_inactivity, 300 s), and hostapd ignores pre-authentication
        # from a station it believes associated ("RSN: pre-auth for already association STA"). Drop that stale
        # entry without sending anything, as the inactivity timer would.
        if not dst.hostapd.request(f"STA {bench.sta.mac}").startswith("FAIL"):
            dst.hostapd.ok(f"DEAUTHENTICATE {bench.sta.mac} tx=0")
        bench.flush_ap(dst)
        # With the pre-auth bit advertised, this scan alone may make wpa_supplicant pre-authenticate with
        # dst on its own (a PMKSA candidate); PREAUTH starts one explicitly otherwise.
        bench.scan(dst)
        done = f"RSN: pre-authentication with {dst.bssid}"
        deadline = time.monotonic() + bench.timeout
        t0, ours = time.monotonic(), False
        while time.monotonic() < deadline:
            if self._running(bench):
                try:
                    bench.wpas.wait_event([done], max(0.1, deadline - time.monotonic()))
                except DaemonError:
                    pass
                continue
            if bench.cached_both_sides(dst):
                return round((time.monotonic() - t0) * 1000, 1)
            if not ours:
                bench.wpas.mark()
                t0 = time.monotonic()
                reply = bench.wpas.request(f"PREAUTH {dst.bssid}").strip()
                ours = reply == "OK"
                continue
            time.sleep(0.05)
        raise SchemeError(f"pre-authentication with {dst.plan.node} left no common PMKSA within {bench.timeout:g} s")


SCHEME = RsnPreauth()
