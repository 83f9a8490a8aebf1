"""EAP Re-authentication Protocol (RFC 6696) over EAPOL: at the target AP one EAP-Initiate/Re-auth and
EAP-Finish/Re-auth round trip to the ER server replaces the full EAP; then the 4-way handshake."""
from __future__ import annotations

from testbed.campaign.phases import Extraction
from testbed.campaign.schemes._erp import EAP_FINISH, EAP_INITIATE, ErpScheme
from testbed.campaign.schemes.base import Bench
from testbed.net import ApNode


class Erp(ErpScheme):
    name = "erp"
    title = "ERP"
    description = ("EAP re-authentication (RFC 6696) over EAPOL: after one full EAP-TLS (implicit bootstrapping "
                   "of rRK/rIK at the station and hostapd's ER server), the target AP sends "
                   "EAP-Initiate/Re-auth-Start and relays one EAP-Initiate/Re-auth + EAP-Finish/Re-auth round trip "
                   "to the ER server; then the 4-way handshake")
    expect_4way = True

    def prepare(self, bench: Bench, src: ApNode, dst: ApNode) -> float | None:
        # hostapd sends Re-auth-Start once per station state machine: the target must have dropped the
        # station since its last visit (5 s after the deauthentication, see Bench.drop).
        bench.drop(dst)
        bench.scan(dst)
        return None

    def check(self, bench: Bench, src: ApNode, dst: ApNode, ex: Extraction) -> str | None:
        if problem := super().check(bench, src, dst, ex):
            return problem
        full = [c for c in ex.eap_codes if c in (1, 2)]  # EAP Request/Response: a method ran
        if ex.eap_codes and (full or EAP_INITIATE not in ex.eap_codes or EAP_FINISH not in ex.eap_codes):
            return f"EAP codes on the air {ex.eap_codes}: expected EAP-Initiate (5) and EAP-Finish (6) only"
        return None


SCHEME = Erp()
