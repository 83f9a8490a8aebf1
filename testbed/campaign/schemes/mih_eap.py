"""MIH pre-authentication, EAP over MIH: Pro_Auth to the target domain's PoS, key push to the target AP."""
from __future__ import annotations

from testbed.campaign.schemes._mih import MihPreauth


class MihEap(MihPreauth):
    name = "mih_eap"
    mode = "eap_over_mih"
    title = "MIH pre-auth (EAP over MIH)"
    description = ("802.21a-style proactive authentication across domains: the MN's EAP peer talks to the target "
                   "domain's PoS in MIH Pro_Auth messages through the serving link (the PoS found through the "
                   "information service), the PoS relays to FreeRADIUS and pushes the PMK to the target AP "
                   "(Push_Key); the MN installs the same PMK (PMKSA_ADD); then the 4-way handshake only")


SCHEME = MihEap()
