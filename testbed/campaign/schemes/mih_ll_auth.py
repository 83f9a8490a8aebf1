"""MIH pre-authentication, LL_Auth: the MN's own 802.11 pre-authentication frames carried between domains."""
from __future__ import annotations

from testbed.campaign.schemes._mih import MihPreauth


class MihLlAuth(MihPreauth):
    name = "mih_ll_auth"
    mode = "ll_auth"
    title = "MIH pre-auth (LL_Auth)"
    description = ("the MN's wpa_supplicant runs RSN pre-authentication with the target AP of another domain; "
                   "the PoA agents carry its EAPOL frames in MIH LL_Auth messages between the domains; then "
                   "the 4-way handshake only")


SCHEME = MihLlAuth()
