"""FILS shared-key authentication with perfect forward secrecy: FILS-SK plus an ECDH exchange (group 19)
in the same Authentication frames."""
from __future__ import annotations

from testbed.campaign.schemes.fils_sk import FILS_SK_PFS, FilsSk


class FilsSkPfs(FilsSk):
    name = "fils_sk_pfs"
    title = "FILS-SK-PFS"
    description = ("FILS shared-key authentication with PFS: ERP plus an ephemeral ECDH (group 19) in the "
                   "Authentication frames; the PMK mixes in the DH secret")
    capability = ("fils", "FILS-SK-PFS")
    fils_dh_group = 19
    auth_alg = FILS_SK_PFS


SCHEME = FilsSkPfs()
