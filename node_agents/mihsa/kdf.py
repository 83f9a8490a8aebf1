"""MIH SA key schedule (PROVISIONAL: 802.21a's KDF is not public; see docs/mih-security.md).

EAP mode (service access authentication; MN = initiator I, PoS = responder R):
  PRK = HKDF-Extract(salt = N_I || N_R, IKM = MSK)                         RFC 5869 2.2, SHA-256
TLS mode (network-entity links PoS<->PoS, PoS<->PoA; TLS client = I, server = R):
  PRK = TLS-Exporter("EXPORTER-mihsec-MIH-SA-v1", ctx, 32)                  RFC 5705 / RFC 8446 7.5
Both, for each key X of length L_X:
  X   = HKDF-Expand(PRK, "mihsec MIH-SA v1 " || X || 0x00 || ctx, L_X)       RFC 5869 2.3
  ctx = suite (1) || SAID (4) || len(I_ID) (2) || I_ID || len(R_ID) (2) || R_ID
Keys: MIIK (32, key confirmation), MIEK-IR and MIEK-RI (suite key length, one per direction),
MS-ROOT (64, roots media-specific and proactive keys). Each key has its own label, so learning one
reveals nothing about another; the MIHF IDs, the SAID and the suite sit in every derivation, so
keys of two SAs, two peers or two suites never coincide, and a suite rollback changes every key.
Key confirmation (detects a stripped security capability or a rolled-back suite offer):
  AUTH_dir = HMAC-SHA256(MIIK, "mihsec MIH-SA AUTH" || dir || SHA-256(transcript))[:16]
where transcript = every Capability_Discover and Auth payload of the exchange, length-prefixed.
"""
from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass, field
from typing import Callable, Iterable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from ..keys import PushKeys
from .suites import suite

LABEL = b"mihsec MIH-SA v1 "
AUTH_LABEL = b"mihsec MIH-SA AUTH"
PMK_IKM_LABEL = b"mihsec MSK[0:32] "
TLS_EXPORTER_LABEL = "EXPORTER-mihsec-MIH-SA-v1"
NONCE_LEN, MSK_MIN, MIIK_LEN, MS_ROOT_LEN, AUTH_LEN = 32, 64, 32, 64, 16
Exporter = Callable[[str, bytes, int], bytes]  # (label, context, length) -> keying material


@dataclass(frozen=True)
class SaKeys:
    """The keys of one MIH SA. Never logged: repr shows none of them."""

    suite: int
    said: int
    miik: bytes = field(repr=False)
    miek_ir: bytes = field(repr=False)   # initiator -> responder
    miek_ri: bytes = field(repr=False)   # responder -> initiator
    ms_root: bytes = field(repr=False)


def _lp(b: bytes) -> bytes:
    return struct.pack("!H", len(b)) + b


def context(suite_id: int, said: int, initiator_id: str, responder_id: str) -> bytes:
    """ctx of the module docstring, after the checks every derivation needs."""
    suite(suite_id)
    if not 0 < said <= 0xFFFFFFFF:
        raise ValueError(f"SAID {said} is not a non-zero 32-bit number")
    i, r = initiator_id.encode(), responder_id.encode()
    if not i or not r or i == r:
        raise ValueError("an SA needs two distinct, non-empty MIHF IDs")
    return struct.pack("!BI", suite_id, said) + _lp(i) + _lp(r)


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """RFC 5869 2.2 with SHA-256: PRK = HMAC-SHA256(salt, IKM)."""
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def expand(prk: bytes, name: bytes, ctx: bytes, length: int) -> bytes:
    return HKDFExpand(hashes.SHA256(), length, LABEL + name + b"\x00" + ctx).derive(prk)


def _keys(prk: bytes, suite_id: int, said: int, ctx: bytes) -> SaKeys:
    kl = suite(suite_id).key_len
    return SaKeys(suite_id, said, expand(prk, b"MIIK", ctx, MIIK_LEN), expand(prk, b"MIEK-IR", ctx, kl),
                  expand(prk, b"MIEK-RI", ctx, kl), expand(prk, b"MS-ROOT", ctx, MS_ROOT_LEN))


def eap_sa_keys(msk: bytes, n_i: bytes, n_r: bytes, suite_id: int, said: int, initiator_id: str,
                responder_id: str) -> SaKeys:
    """SA keys from the MSK (or ERP rMSK) of the service access authentication and both sides' nonces."""
    if len(msk) < MSK_MIN:
        raise ValueError(f"an EAP MSK has at least {MSK_MIN} octets, not {len(msk)}")
    if len(n_i) != NONCE_LEN or len(n_r) != NONCE_LEN:
        raise ValueError(f"SA nonces have {NONCE_LEN} octets")
    if n_i == n_r:  # a reflected nonce: the peer (or a man in the middle) echoed ours
        raise ValueError("initiator and responder nonces are equal")
    ctx = context(suite_id, said, initiator_id, responder_id)
    return _keys(hkdf_extract(n_i + n_r, msk), suite_id, said, ctx)


def pmk_sa_keys(pmk: bytes, n_i: bytes, n_r: bytes, suite_id: int, said: int, initiator_id: str,
                responder_id: str) -> SaKeys:
    """SA keys from MSK[0:32] when the EAP peer exports only that (wpa_supplicant gives its PMK = MSK[0:32] via
    PMKSA_GET, never the whole MSK). PROVISIONAL: the IKM is prefixed with a label, so the keys differ from
    eap_sa_keys' even if an MSK ever started with the same 32 octets."""
    if len(pmk) != 32:
        raise ValueError(f"MSK[0:32] has 32 octets, not {len(pmk)}")
    if len(n_i) != NONCE_LEN or len(n_r) != NONCE_LEN:
        raise ValueError(f"SA nonces have {NONCE_LEN} octets")
    if n_i == n_r:
        raise ValueError("initiator and responder nonces are equal")
    ctx = context(suite_id, said, initiator_id, responder_id)
    return _keys(hkdf_extract(n_i + n_r, PMK_IKM_LABEL + pmk), suite_id, said, ctx)


def tls_sa_keys(exporter: Exporter, suite_id: int, said: int, client_id: str, server_id: str) -> SaKeys:
    """SA keys of a network-entity link from the TLS exporter of the handshake carried in MIH."""
    ctx = context(suite_id, said, client_id, server_id)
    prk = exporter(TLS_EXPORTER_LABEL, ctx, 32)
    if len(prk) != 32:
        raise ValueError(f"the TLS exporter returned {len(prk)} octets, not 32")
    return _keys(prk, suite_id, said, ctx)


def push_keys(keys: SaKeys) -> PushKeys:
    """Push_Key protection keys of a PoS-PoA SA (TLS mode): replaces the static PoS-PoA pre-shared key."""
    return PushKeys.derive(HKDFExpand(hashes.SHA256(), 32, b"mihsec push-key root").derive(keys.ms_root))


def transcript_hash(payloads: Iterable[bytes]) -> bytes:
    """SHA-256 over the length-prefixed payloads (4-octet lengths: no two lists hash alike)."""
    h = hashlib.sha256()
    for p in payloads:
        h.update(struct.pack("!I", len(p)) + p)
    return h.digest()


def confirm_tag(keys: SaKeys, direction: int, transcript: bytes) -> bytes:
    """AUTH of the sender `direction` (1 = initiator, 2 = responder) over the transcript hash."""
    if direction not in (1, 2) or len(transcript) != 32:
        raise ValueError("direction is 1 or 2 and the transcript a SHA-256 hash")
    return hmac.new(keys.miik, AUTH_LABEL + bytes((direction,)) + transcript, hashlib.sha256).digest()[:AUTH_LEN]


def check_confirm(keys: SaKeys, direction: int, transcript: bytes, tag: bytes) -> bool:
    return hmac.compare_digest(confirm_tag(keys, direction, transcript), tag)
