"""ERP (RFC 6696) and FILS shared-key (IEEE 802.11ai) schemes: what they share.

They run on their own topology (measure-erp): APs that relay ERP over EAPOL (erp_send_reauth_start) and offer
FILS-SHA256, Debian's hostapd as the ER server (the AAA node, behind the same AAA-RTT impairment as
FreeRADIUS elsewhere), and a station running the wpa_supplicant `make setup` built with CONFIG_ERP. The APs
disable PMKSA caching, so a handover can only be ERP (or a full EAP fallback, which the check refuses).
The station's first connection is a full EAP-TLS: its EMSK bootstraps the ERP keys (rRK, rIK) at the
station and the ER server, which survive reconnections (PMKSA_FLUSH does not touch them).
"""
from __future__ import annotations

from typing import ClassVar

from testbed.campaign.phases import Extraction
from testbed.campaign.schemes.base import Bench, Scheme
from testbed.daemons.erserver import ErServer
from testbed.net import ApNode

REAUTH_OK = "CTRL-EVENT-EAP-SUCCESS EAP re-authentication completed successfully"
FULL_EAP = "CTRL-EVENT-EAP-STARTED"
EAP_INITIATE, EAP_FINISH = 5, 6  # RFC 6696 EAP codes


class ErpScheme(Scheme):
    topology = "measure-erp"
    profile = {"ft": False, "ft_over_ds": False, "okc": False}  # one network for erp, fils_sk, fils_sk_pfs
    fils_dh_group: ClassVar[int] = 0  # FILS-SK-PFS: the ECDH group (the APs offer 19)
    capability: ClassVar[tuple[str, str]] = ("erp", "ERP")  # GET_CAPABILITY <field> must list <value>

    def unsupported(self, bench: Bench) -> str | None:
        reasons = []
        field, want = self.capability
        cap = bench.wpas.request(f"GET_CAPABILITY {field}").strip()
        if want not in cap.split():
            reasons.append(f"{bench.wpas.argv[0]} answers {cap!r} to GET_CAPABILITY {field} (no {want})")
        aaa = bench.net.aaa.get(bench.sta.plan.profile.aaa)
        if not isinstance(aaa, ErServer):
            reasons.append(f"the AAA node {bench.sta.plan.profile.aaa} is no ER server (server: hostapd-erp)")
        return "; ".join(reasons) or None

    def source(self, bench: Bench) -> ApNode:
        bench._set("fils_dh_group", str(self.fils_dh_group))  # read at the next authentication
        return super().source(bench)

    def trigger(self, bench: Bench, src: ApNode, dst: ApNode) -> float:
        self._since = bench.wpas.mark()  # the station's events of this handover, for check()
        return super().trigger(bench, src, dst)

    def erp_problem(self, bench: Bench) -> str | None:
        """The station's own account: an EAP re-authentication, no full EAP."""
        assert bench.wpas.mon is not None
        texts = [e.text for e in bench.wpas.mon.since(self._since)]
        if any(t.startswith(FULL_EAP) for t in texts):
            return "the station ran a full EAP (CTRL-EVENT-EAP-STARTED): ERP fell back"
        if not any(t.startswith(REAUTH_OK) for t in texts):
            return "the station reported no EAP re-authentication (ERP) success"
        return None

    def check(self, bench: Bench, src: ApNode, dst: ApNode, ex: Extraction) -> str | None:
        return super().check(bench, src, dst, ex) or self.erp_problem(bench)
