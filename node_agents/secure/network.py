"""MIH SAs between network entities (PoS <-> PoA for Push_Key, PoA <-> PoA for LL_Auth) from a per-run key.

A STAND-IN for 802.21a's TLS mode: the plan draws one random key per pair of network entities that
signal (testbed/plan.py, written 0600 into both agents' configs), and this module feeds it to the same
key schedule a TLS handshake's exporter would (kdf.tls_sa_keys), as an "exporter" that is HKDF-Expand of
that key. What this loses against real TLS: no per-run authentication of the peer by certificate and no
forward secrecy; the key is as good as the files it lives in. A real TLS handshake carried in MIH is not
built (Python's ssl module has no exporter).
"""
from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from node_agents.mihsa import INITIATOR, RESPONDER, MihSecurity, SaLimits, SecurityAssociation, tls_sa_keys

SUITE = 1  # AES-128-CCM-16, the mandatory suite
LIFETIME = 7 * 24 * 3600.0  # a run's key lives as long as the run; a new run draws a new key


def install_network_sas(sec: MihSecurity, keys: dict[str, str]) -> list[SecurityAssociation]:
    """One confirmed SA per peer MIHF ID in `keys` (hex per-run key shared with that peer)."""
    out = []
    for peer, hexkey in sorted(keys.items()):
        secret = bytes.fromhex(hexkey)
        if len(secret) < 32:
            raise ValueError(f"per-run SA key with {peer!r} has {len(secret)} octets, needs 32")
        client, server = sorted((sec.local_id, peer))

        def exporter(label: str, ctx: bytes, length: int, secret: bytes = secret) -> bytes:
            return HKDFExpand(hashes.SHA256(), length, label.encode() + b"\x00" + ctx).derive(secret)

        said = int.from_bytes(HKDFExpand(hashes.SHA256(), 4, b"mihsec per-run SAID").derive(secret), "big") or 1
        k = tls_sa_keys(exporter, SUITE, said, client, server)
        sa = SecurityAssociation(k, sec.local_id, peer, INITIATOR if sec.local_id == client else RESPONDER,
                                 sec.clock(), SaLimits(lifetime=LIFETIME))
        sec.install(sa, confirmed=True)
        out.append(sa)
    return out
