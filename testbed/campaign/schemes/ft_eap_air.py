"""IEEE 802.11r FT-EAP over the air: FT authentication and reassociation carry the key exchange."""
from __future__ import annotations

from testbed.campaign.phases import Extraction
from testbed.campaign.schemes.base import Bench, Scheme
from testbed.net import ApNode


class FtEapAir(Scheme):
    name = "ft_eap_air"
    title = "FT-EAP (air)"
    description = ("IEEE 802.11r over the air: after one full EAP (initial mobility domain association), a "
                   "handover is FT authentication + reassociation; the target pulls PMK-R1 from the R0KH over "
                   "the DS; no EAP, no 4-way handshake")
    key_mgmt = "FT-EAP"
    expect_eap = False
    expect_4way = False

    def check(self, bench: Bench, src: ApNode, dst: ApNode, ex: Extraction) -> str | None:
        problem = super().check(bench, src, dst, ex)
        if problem is None and ex.auth_alg not in (None, 2):  # None: the capture missed the frame
            return f"the station authenticated with algorithm {ex.auth_alg}, not FT (2)"
        return problem


SCHEME = FtEapAir()
