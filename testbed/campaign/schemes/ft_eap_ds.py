"""IEEE 802.11r FT-EAP over the DS: FT Action frames through the serving AP, then reassociation."""
from __future__ import annotations

from testbed.campaign.phases import Extraction
from testbed.campaign.schemes.base import Bench, Scheme
from testbed.net import ApNode


class FtEapDs(Scheme):
    name = "ft_eap_ds"
    title = "FT-EAP (DS)"
    description = ("IEEE 802.11r over the DS: the FT request/response travel as Action frames via the serving "
                   "AP and the DS (RRB) before the station leaves its channel; then only the reassociation")
    key_mgmt = "FT-EAP"
    command = "FT_DS"
    expect_eap = False
    expect_4way = False

    def check(self, bench: Bench, src: ApNode, dst: ApNode, ex: Extraction) -> str | None:
        problem = super().check(bench, src, dst, ex)
        # witnesses: the FT Action request on the air, or (capture incomplete) no 802.11 authentication
        # started by the station's SME before it associated
        over_ds = ex.ft_over_ds or (ex.pcap.get("auth_assoc") is None and ex.events.get("trigger") is None
                                    and ex.events.get("auth_assoc") is not None)
        if problem is None and not over_ds:
            return "no FT Action request to the serving AP on the air: not FT over the DS"
        return problem


SCHEME = FtEapDs()
