"""Proactive-authentication keys: bound to one target authenticator, deleted on Pro_Auth_Termination,
never outliving their parent.

Channel binding (PROVISIONAL; RFC 5169 5.5, RFC 6630 8 "one key per authenticator"):
  K_X = HKDF-SHA256(IKM = root, salt = "mihsec proactive v1",
                    info = len|MN MIHF ID | len|authenticator MIHF ID | AA (6) | SPA (6), 32)
root = the MSK of the proactive EAP run with X (or the MS-ROOT of the serving SA). The MN computes K for
the authenticator it actually meets (its MIHF ID as advertised, its BSSID as AA), so a key handed to
another authenticator Y, or replayed by a rogue AP with another BSSID, yields a different PMK and PMKID:
the 4-way handshake with Y fails. K_X says nothing about K_Y (HKDF outputs under distinct info).
"""
from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..keys import _mac, pmkid
from .errors import MihSecurityError

SALT = b"mihsec proactive v1"


class NoProactiveKey(MihSecurityError):
    """No live proactive key for this MN at this authenticator (never made, terminated or expired)."""
    reason = "no_proactive_key"


def _lp(s: str) -> bytes:
    b = s.encode()
    if not b:
        raise ValueError("empty MIHF ID")
    return struct.pack("!H", len(b)) + b


def bound_key(root: bytes, mn_id: str, authenticator_id: str, aa: str | bytes, spa: str | bytes) -> bytes:
    """K_X of the module docstring: a 32-octet PMK usable only with this authenticator, AA and station."""
    if len(root) < 32:
        raise ValueError(f"a proactive root key has at least 32 octets, not {len(root)}")
    info = _lp(mn_id) + _lp(authenticator_id) + _mac(aa) + _mac(spa)
    return HKDF(hashes.SHA256(), 32, salt=SALT, info=info).derive(root)


@dataclass
class _Entry:
    key: bytearray = field(repr=False)
    name: bytes
    expires: float


class ProactiveKeys:
    """Keys one party holds, by (MN MIHF ID, authenticator MIHF ID), with enforced lifetimes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._keys: dict[tuple[str, str], _Entry] = {}

    def add(self, mn_id: str, authenticator_id: str, root: bytes, aa: str, spa: str, lifetime: float,
            parent_expires: float) -> bytes:
        """Derive and keep K for this authenticator; its lifetime is cut to the parent's. Returns the PMKID."""
        now = self.clock()
        if lifetime <= 0 or parent_expires <= now:
            raise ValueError("a proactive key needs a positive lifetime and a live parent")
        key = bound_key(root, mn_id, authenticator_id, aa, spa)
        name = pmkid(key, aa, spa)
        self._wipe(self._keys.pop((mn_id, authenticator_id), None))
        self._keys[(mn_id, authenticator_id)] = _Entry(bytearray(key), name, min(now + lifetime, parent_expires))
        return name

    def get(self, mn_id: str, authenticator_id: str) -> tuple[bytes, bytes]:
        """(key, PMKID) for this MN at this authenticator; NoProactiveKey if none is live."""
        e = self._keys.get((mn_id, authenticator_id))
        if e is not None and self.clock() >= e.expires:
            self._wipe(self._keys.pop((mn_id, authenticator_id)))
            e = None
        if e is None:
            raise NoProactiveKey(f"no live proactive key for {mn_id} at {authenticator_id}")
        return bytes(e.key), e.name

    def terminate(self, mn_id: str, authenticator_id: str | None = None) -> int:
        """Pro_Auth_Termination: delete this MN's key at one authenticator, or everywhere. Returns the count."""
        gone = [k for k in self._keys if k[0] == mn_id and authenticator_id in (None, k[1])]
        for k in gone:
            self._wipe(self._keys.pop(k))
        return len(gone)

    def expire(self) -> int:
        now = self.clock()
        gone = [k for k, e in self._keys.items() if now >= e.expires]
        for k in gone:
            self._wipe(self._keys.pop(k))
        return len(gone)

    def __len__(self) -> int:
        return len(self._keys)

    @staticmethod
    def _wipe(e: _Entry | None) -> None:
        if e is not None:  # best effort: copies handed out by get() are the caller's to drop
            e.key[:] = bytes(len(e.key))
