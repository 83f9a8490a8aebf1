"""PMKSA caching: back to an AP the station authenticated with before; no EAP, only the 4-way handshake."""
from __future__ import annotations

from testbed.campaign.schemes.base import Bench, Scheme, SchemeError
from testbed.net import ApNode


class PmksaCache(Scheme):
    name = "pmksa_cache"
    title = "PMKSA caching"
    description = ("return to a previous AP: station and AP still hold the PMKSA of an earlier full EAP "
                   "there, so the reassociation carries its PMKID and only the 4-way handshake runs")
    expect_eap = False
    expect_4way = True

    def prepare(self, bench: Bench, src: ApNode, dst: ApNode) -> float | None:
        if not bench.cached_both_sides(dst):  # visit the target once (full EAP there), then come back
            bench.roam(dst)
            bench.roam(src)
            if not bench.cached_both_sides(dst):
                raise SchemeError(f"after a visit, station and {dst.plan.node} still hold no common PMKSA")
        bench.scan(dst)
        return None


SCHEME = PmksaCache()
