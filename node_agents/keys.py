"""Key material for pre-authentication mode 1: MSK -> PMK/PMKID, and the protected PoS -> PoA key push.

Push_Key protection, with a 32-octet key shared by one PoS and one PoA agent:
  KEK || KCK = HKDF-SHA256(shared, info="mihsec push-key v1", 64 octets)
  wrapped_key = AES key wrap (RFC 3394) of the PMK under KEK
  integrity_tag = HMAC-SHA256(KCK, canonical encoding of every other field)[:16]
The receiver checks the tag, then the replay counter (strictly increasing per sender), then unwraps and
checks that key_name is the PMKID of the unwrapped PMK for (PoA, MN); only a push that passes all of it
yields a PMK. Nothing is installed by this module: callers install what verify() returns, and nothing else.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import struct
import threading
import time
from dataclasses import dataclass, field, replace

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

log = logging.getLogger("mihsec.keys")

PMK_LEN, PMKID_LEN, TAG_LEN = 32, 16, 16
AKM_8021X = 0x000FAC01  # 00-0F-AC:1, WPA-EAP
_LABEL_REQ, _LABEL_RSP = b"mihsec Push_Key.request", b"mihsec Push_Key.response"


class PushError(Exception):
    """A key push was refused: nothing may be installed."""


class ForgedPush(PushError):
    """Integrity tag, key wrap or PMKID binding does not verify."""


class ReplayedPush(PushError):
    """Replay counter not above the last accepted one from this sender."""


def _mac(addr: str | bytes) -> bytes:
    raw = addr if isinstance(addr, bytes) else bytes.fromhex(addr.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError("a MAC address has 6 octets")
    return raw


def pmk_from_msk(msk: bytes) -> bytes:
    """IEEE 802.11 12.7.1.3: the PMK of an 802.1X AKM is the first 256 bits of the MSK."""
    if len(msk) < 64:
        raise ValueError(f"an EAP MSK has at least 64 octets, not {len(msk)}")
    return msk[:PMK_LEN]


def pmkid(pmk: bytes, aa: str | bytes, spa: str | bytes) -> bytes:
    """PMKID = HMAC-SHA1-128(PMK, "PMK Name" || AA || SPA) (IEEE 802.11 12.7.1.3)."""
    return hmac.new(pmk, b"PMK Name" + _mac(aa) + _mac(spa), hashlib.sha1).digest()[:PMKID_LEN]


@dataclass(frozen=True)
class PushKeys:
    """KEK and KCK derived from the PoS-PoA shared key."""

    kek: bytes = field(repr=False)
    kck: bytes = field(repr=False)

    @classmethod
    def derive(cls, shared: bytes) -> "PushKeys":
        if len(shared) != 32:
            raise ValueError("the PoS-PoA shared key has 32 octets")
        okm = HKDF(hashes.SHA256(), 64, salt=None, info=b"mihsec push-key v1").derive(shared)
        return cls(okm[:32], okm[32:])


@dataclass(frozen=True)
class KeyPush:
    """The protected fields of a Push_Key.request (TLV names of node_agents.mih.messages)."""

    mn_link_addr: bytes
    poa: bytes
    key_name: bytes  # the PMKID
    wrapped_key: bytes
    key_lifetime: int
    akm_suite: int
    replay_counter: int
    integrity_tag: bytes = b""


def _canonical(label: bytes, *parts: bytes | int) -> bytes:
    """Length-prefixed octet strings, integers as 8 octets: no two field lists encode alike."""
    out = [label]
    for p in parts:
        b = struct.pack("!Q", p) if isinstance(p, int) else p
        out.append(struct.pack("!H", len(b)) + b)
    return b"".join(out)


def _tag(keys: PushKeys, p: KeyPush) -> bytes:
    msg = _canonical(_LABEL_REQ, p.mn_link_addr, p.poa, p.key_name, p.wrapped_key, p.key_lifetime, p.akm_suite,
                     p.replay_counter)
    return hmac.new(keys.kck, msg, hashlib.sha256).digest()[:TAG_LEN]


def response_tag(keys: PushKeys, status: int, key_name: bytes, replay_counter: int) -> bytes:
    """Tag of the PoA's Push_Key.response, so the PoS knows the right PoA installed the key."""
    msg = _canonical(_LABEL_RSP, status, key_name, replay_counter)
    return hmac.new(keys.kck, msg, hashlib.sha256).digest()[:TAG_LEN]


class PushSender:
    """PoS side: wraps and tags pushes for one PoA with a strictly increasing counter."""

    def __init__(self, keys: PushKeys):
        self.keys, self._last, self._lock = keys, 0, threading.Lock()

    def _next_counter(self) -> int:
        # Seeded from the clock so a restarted PoS does not reuse counters the PoA already accepted.
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return self._last

    def push(self, pmk: bytes, mn: str | bytes, poa: str | bytes, lifetime: int = 43200,
             akm_suite: int = AKM_8021X) -> KeyPush:
        if len(pmk) != PMK_LEN:
            raise ValueError(f"PMK of {len(pmk)} octets")
        mn_b, poa_b = _mac(mn), _mac(poa)
        p = KeyPush(mn_b, poa_b, pmkid(pmk, poa_b, mn_b), aes_key_wrap(self.keys.kek, pmk), lifetime, akm_suite,
                    self._next_counter())
        p = replace(p, integrity_tag=_tag(self.keys, p))
        log.info("key push for %s at %s: PMKID %s, counter %d", mn_b.hex(":"), poa_b.hex(":"), p.key_name.hex(),
                 p.replay_counter)
        return p


class PushVerifier:
    """PoA side: verifies pushes from known senders; keeps the last accepted counter per sender."""

    def __init__(self, senders: dict[str, PushKeys]):
        self.senders = dict(senders)
        self.last: dict[str, int] = {}
        self._lock = threading.Lock()

    def verify(self, sender: str, p: KeyPush, own_poa: str | bytes | None = None) -> bytes:
        """The PMK of a push that passes every check; ForgedPush / ReplayedPush (PushError) otherwise."""
        keys = self.senders.get(sender)
        if keys is None:
            raise ForgedPush(f"no key shared with {sender!r}")
        if not hmac.compare_digest(_tag(keys, p), p.integrity_tag):
            log.warning("forged key push from %s: integrity tag mismatch", sender)
            raise ForgedPush("integrity tag does not verify")
        if own_poa is not None and _mac(own_poa) != p.poa:
            raise PushError(f"push for PoA {p.poa.hex(':')}, not this one")
        with self._lock:  # check and advance atomically: two copies of one push cannot both pass
            if p.replay_counter <= self.last.get(sender, -1):
                log.warning("replayed key push from %s: counter %d <= %d", sender, p.replay_counter,
                            self.last[sender])
                raise ReplayedPush(f"counter {p.replay_counter} not above {self.last[sender]}")
            try:
                pmk = aes_key_unwrap(keys.kek, p.wrapped_key)
            except (InvalidUnwrap, ValueError):
                raise ForgedPush("key unwrap failed") from None
            if len(pmk) != PMK_LEN or not hmac.compare_digest(pmkid(pmk, p.poa, p.mn_link_addr), p.key_name):
                raise ForgedPush("key name is not the PMKID of the pushed key for this PoA and MN")
            # Advanced only for a push that passed everything, so a forgery cannot burn counters.
            self.last[sender] = p.replay_counter
        log.info("key push from %s accepted: PMKID %s for %s", sender, p.key_name.hex(), p.mn_link_addr.hex(":"))
        return pmk
