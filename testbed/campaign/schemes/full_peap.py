"""Reactive handover with full PEAP-MSCHAPv2 (a TLS tunnel, then MSCHAPv2 inside: more round trips)."""
from __future__ import annotations

from testbed.campaign.schemes.full_eap_tls import FullEapTls


class FullPeap(FullEapTls):
    name = "full_peap"
    title = "full PEAP"
    description = ("reactive: as full EAP-TLS, with PEAP-MSCHAPv2 (server-certificate TLS tunnel, password "
                   "inside): the network runs with every profile switched to PEAP")
    profile = {"eap": "PEAP"}


SCHEME = FullPeap()
