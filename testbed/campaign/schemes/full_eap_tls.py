"""Reactive handover with full EAP-TLS: the target AP holds no key for the station."""
from __future__ import annotations

from testbed.campaign.schemes.base import Bench, Scheme
from testbed.net import ApNode


class FullEapTls(Scheme):
    name = "full_eap_tls"
    title = "full EAP-TLS"
    description = ("reactive: the target AP has no cached key (its PMKSA cache is flushed), so it runs a full "
                   "EAP-TLS exchange with FreeRADIUS, then the 4-way handshake")
    expect_eap = True
    expect_4way = True

    def prepare(self, bench: Bench, src: ApNode, dst: ApNode) -> float | None:
        bench.flush_ap(dst)  # the station may still offer an old PMKID: the AP no longer knows it
        bench.scan(dst)
        return None


SCHEME = FullEapTls()
