"""MIH SA ciphersuites as a table: AEAD, key and nonce sizes, and the usage limits that force a rekey.

Limits (packets sealed under one key; forged PDUs tolerated before the key must go) are the AEAD limits
of RFC 9001 6.6 (QUIC): AES-128-CCM 2^21.5 of each, rounded down to 2^21; AES-128-GCM 2^23 packets and
2^52 forgeries. The 64-bit sequence number never gets near them.
"""
from __future__ import annotations

import struct
from typing import Callable, NamedTuple

from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM

from ..mih.codepoints import CIPHERSUITES

TAG_LEN = 16
_CCM_NONCE, _GCM_NONCE = struct.Struct(">BIQ"), struct.Struct(">IQ")


class Suite(NamedTuple):
    id: int
    name: str
    key_len: int
    aead: Callable[[bytes], AESCCM | AESGCM]
    nonce: Callable[[int, int, int], bytes]  # (direction, SAID, SEQ) -> nonce
    max_packets: int
    max_forgeries: int


def _ccm_nonce(direction: int, said: int, seq: int) -> bytes:
    return _CCM_NONCE.pack(direction, said, seq)


def _gcm_nonce(direction: int, said: int, seq: int) -> bytes:
    # 12 octets leave no room for the direction: the per-direction keys keep the two directions apart
    return _GCM_NONCE.pack(said, seq)


SUITES: dict[int, Suite] = {s.id: s for s in (
    Suite(CIPHERSUITES["AES-128-CCM-16"].value, "AES-128-CCM-16", 16, lambda k: AESCCM(k, TAG_LEN), _ccm_nonce,
          2**21, 2**21),
    Suite(CIPHERSUITES["AES-128-GCM-16"].value, "AES-128-GCM-16", 16, AESGCM, _gcm_nonce, 2**23, 2**52),
)}
assert {s.name for s in SUITES.values()} == set(CIPHERSUITES), "suites.py and codepoints.CIPHERSUITES differ"
MANDATORY = CIPHERSUITES["AES-128-CCM-16"].value


def suite(n: int) -> Suite:
    try:
        return SUITES[n]
    except KeyError:
        raise ValueError(f"unknown MIH SA ciphersuite {n} (known: {sorted(SUITES)})") from None
