"""IEEE 802.11ai FILS shared-key authentication with ERP: the Authentication frames carry
EAP-Initiate/Re-auth and EAP-Finish/Re-auth (relayed by the AP to the ER server); the (Re)Association
frames confirm the keys; no EAPOL at all, no 4-way handshake."""
from __future__ import annotations

from typing import ClassVar

from testbed.campaign.phases import Extraction
from testbed.campaign.schemes._erp import ErpScheme
from testbed.campaign.schemes.base import Bench
from testbed.net import ApNode

FILS_SK, FILS_SK_PFS = 4, 5  # 802.11 authentication algorithm numbers


class FilsSk(ErpScheme):
    name = "fils_sk"
    title = "FILS-SK"
    description = ("IEEE 802.11ai FILS shared-key authentication (FILS-SHA256): ERP inside the Authentication "
                   "frames, one round trip to the ER server, keys confirmed in the (Re)Association frames; no "
                   "EAPOL, no 4-way handshake")
    key_mgmt = "FILS-SHA256"
    capability = ("fils", "FILS")
    auth_alg: ClassVar[int] = FILS_SK
    expect_eap = False
    expect_4way = False

    def prepare(self, bench: Bench, src: ApNode, dst: ApNode) -> float | None:
        # With a PMKSA for the target (an earlier visit) the station would try FILS with PMKSA caching, which
        # these APs refuse: start from the serving AP with no other PMKSA (reconnecting there is FILS+ERP).
        if bench.sta_pmkid(dst) is not None:
            bench.reset(to=src)
        bench.scan(dst)
        return None

    def check(self, bench: Bench, src: ApNode, dst: ApNode, ex: Extraction) -> str | None:
        if problem := super().check(bench, src, dst, ex):
            return problem
        if ex.auth_alg is not None and ex.auth_alg != self.auth_alg:
            return f"authentication algorithm {ex.auth_alg} on the air, expected {self.auth_alg}"
        if bench.wpas.status().get("key_mgmt") != "FILS-SHA256":
            return f"the station's key_mgmt is {bench.wpas.status().get('key_mgmt')}, not FILS-SHA256"
        return None


SCHEME = FilsSk()
