"""Fragmentation (M bit + 7-bit FN) of PDUs larger than the MTU, and reassembly.

Each fragment repeats the header (same MID, TID, flags) with its own payload
length; M is set on all but the last; FN counts from 0. Payloads are cut at
arbitrary octets, so a TLV may span fragments (as Wireshark expects). Both work
on whole PDUs as bytes (codec.Pdu): decoding is the caller's next step.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Hashable

from .codec import HEADER_LEN, Header, Pdu, encode_pdu, pack_header
from .errors import MihDecodeError, MihEncodeError
from .messages import Message, MsgSpec

MAX_FRAGMENTS = 128  # FN is 7 bits


def fragment(pdu: Pdu, mtu: int, name: str = "PDU") -> list[bytes]:
    """Frames of at most mtu octets (header included) carrying the PDU."""
    h, payload = pdu
    room = mtu - HEADER_LEN
    if room < 1:
        raise MihEncodeError(name, f"MTU {mtu} leaves no room for payload")
    chunks = [payload[i:i + room] for i in range(0, len(payload), room)] or [b""]
    if len(chunks) > MAX_FRAGMENTS:
        raise MihEncodeError(name, f"{len(payload)} octets need {len(chunks)} fragments at MTU {mtu}; FN allows 128")
    last = len(chunks) - 1
    return [pack_header(h.ack_req, h.ack_rsp, h.uir, i < last, i, h.mid, h.tid, len(c), h.sec) + c
            for i, c in enumerate(chunks)]


def split(msg: Message, mtu: int) -> tuple[MsgSpec, list[bytes]]:
    """Encode msg into frames of at most mtu octets (no protection: for tools and tests)."""
    pdu = encode_pdu(msg)
    return msg.spec, fragment(pdu, mtu, msg.name)


@dataclass
class _Partial:
    started: float
    header: Header
    parts: dict[int, bytes] = field(default_factory=dict)
    last: int | None = None


class Reassembler:
    """Collects fragments per (peer, MID, TID); drops incomplete PDUs after `lifetime` seconds."""

    def __init__(self, lifetime: float, max_partial: int = 64, clock: Callable[[], float] = time.monotonic):
        self.lifetime, self.max_partial, self.clock = lifetime, max_partial, clock
        self._partial: dict[Hashable, _Partial] = {}

    def add(self, peer: Hashable, h: Header, frame: bytes) -> Pdu | None:
        """Feed one frame whose header is h; returns the whole PDU once complete, else None."""
        if not h.more and h.fn == 0:
            return Pdu(h, frame[HEADER_LEN:])
        now = self.clock()
        self._expire(now)
        key = (peer, h.mid, h.tid)
        p = self._partial.get(key)
        if p is None:
            if len(self._partial) >= self.max_partial:
                raise MihDecodeError(1, f"too many incomplete fragmented messages (>{self.max_partial})")
            p = self._partial[key] = _Partial(now, h)
        if not h.more:
            p.last = h.fn
        if p.last is not None and (h.fn > p.last or max(p.parts, default=0) > p.last):
            del self._partial[key]
            raise MihDecodeError(1, f"fragment {h.fn} of a message whose last fragment is {p.last}")
        p.parts[h.fn] = frame[HEADER_LEN:]
        if p.last is None or len(p.parts) != p.last + 1:
            return None
        del self._partial[key]
        payload = b"".join(p.parts[i] for i in range(p.last + 1))
        return Pdu(p.header._replace(more=False, fn=0, length=len(payload)), payload)

    def _expire(self, now: float) -> None:
        for k in [k for k, p in self._partial.items() if now - p.started > self.lifetime]:
            del self._partial[k]
