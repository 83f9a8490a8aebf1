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
                   "prep); the handover then runs the 4-way handshake only")
    profile = {"rsn_preauth": True}
    expect_eap = False
    expect_4way = True

    def _running(self, bench: Bench) -> bool:
        return "Pre-authentication EAPOL state machines" in bench.wpas.request("STATUS-VERBOSE")

    def prepare(self, bench: Bench, src: ApNode, dst: ApNode) -> float | None:
        # hostapd ignores pre-authentication from a station it still lists (see Bench.forget): the target
        # must have dropped the station since its last visit, which takes hostapd 5 s after deauthentication
        # (AP_MAX_INACTIVITY_AFTER_DEAUTH).
        bench.drop(dst)
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
