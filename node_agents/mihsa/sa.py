"""One MIH security association: per-direction AEAD keys, sequence numbers, replay window, limits.

Sending: SEQ counts from 1 per direction. Receiving: a 64-entry sliding window (RFC 4303 3.4.3) over
the highest accepted SEQ; a SEQ is marked only after its PDU authenticates, so a forgery cannot move
the window. The SA ends (ExpiredSa) at the first of: lifetime, the suite's packet limit, its forgery
limit, delete(). Rekey is due at `rekey_fraction` of lifetime or packets, early enough to finish a new
Auth exchange while the old SA still works.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ExpiredSa, Replayed
from .kdf import SaKeys
from .suites import suite

INITIATOR, RESPONDER = 1, 2  # also the direction octet: the role of the sender
WINDOW = 64


@dataclass(frozen=True)
class SaLimits:
    lifetime: float = 3600.0           # seconds; never above the MSK's (AAA Session-Timeout)
    rekey_fraction: float = 0.75
    max_packets: int | None = None     # None: the suite's AEAD limit
    max_forgeries: int | None = None
    dup_window: float = 15.0           # exact retransmissions recognised this long (endpoint lifetime)


class ReplayWindow:
    """Bit i of `bits` set = SEQ top - i accepted. SEQ 0 is never sent, so it starts out 'seen'."""

    __slots__ = ("top", "bits")

    def __init__(self) -> None:
        self.top, self.bits = 0, 1

    def check(self, seq: int) -> None:
        if seq > self.top:
            return
        d = self.top - seq
        if d >= WINDOW:
            raise Replayed(f"SEQ {seq} is left of the replay window (highest accepted {self.top})")
        if self.bits >> d & 1:
            raise Replayed(f"SEQ {seq} was already accepted")

    def accept(self, seq: int) -> None:
        if seq > self.top:
            shift = seq - self.top
            self.bits = (self.bits << shift | 1) & ((1 << WINDOW) - 1) if shift < WINDOW else 1
            self.top = seq
        else:
            self.bits |= 1 << (self.top - seq)


class SecurityAssociation:
    """The SA between MIHF `local_id` (in `role`) and `peer_id`, keyed by (peer_id, said) on receipt."""

    def __init__(self, keys: SaKeys, local_id: str, peer_id: str, role: int, now: float,
                 limits: SaLimits = SaLimits()):
        if role not in (INITIATOR, RESPONDER):
            raise ValueError("role is INITIATOR or RESPONDER")
        s = suite(keys.suite)
        self.said, self.local_id, self.peer_id, self.role, self.suite = keys.said, local_id, peer_id, role, s
        tx, rx = (keys.miek_ir, keys.miek_ri) if role == INITIATOR else (keys.miek_ri, keys.miek_ir)
        self.tx, self.rx = s.aead(tx), s.aead(rx)
        self.tx_dir, self.rx_dir = role, 3 - role
        self.created, self.limits = now, limits
        self.expires = now + limits.lifetime
        self.rekey_at = now + limits.lifetime * limits.rekey_fraction
        self.max_packets = limits.max_packets or s.max_packets
        self.rekey_packets = int(self.max_packets * limits.rekey_fraction)
        self.max_forgeries = limits.max_forgeries or s.max_forgeries
        self.seq = 0
        self.window = ReplayWindow()
        self.forgeries = 0
        self.confirmed = False   # the peer is known to hold this SA
        self.deleted = False
        self.rekey_signalled = False
        self.recent: dict[int, tuple[bytes, float]] = {}  # SEQ -> (tag, time) of accepted PDUs

    def __repr__(self) -> str:
        return (f"SecurityAssociation(said=0x{self.said:08x}, {self.local_id} <-> {self.peer_id}, "
                f"{self.suite.name}, seq={self.seq}, top={self.window.top})")

    def dead(self, now: float) -> str | None:
        """Why the SA may no longer be used, or None."""
        if self.deleted:
            return "deleted"
        if now >= self.expires:
            return "lifetime over"
        if self.forgeries >= self.max_forgeries:
            return f"{self.forgeries} forged PDUs: integrity limit reached"
        return None

    def rekey_due(self, now: float) -> bool:
        return now >= self.rekey_at or self.seq >= self.rekey_packets

    def next_seq(self, now: float) -> int:
        why = self.dead(now)
        if why is None and self.seq >= self.max_packets:
            why = f"{self.seq} PDUs sealed: packet limit of {self.suite.name} reached"
        if why:
            raise ExpiredSa(f"SA 0x{self.said:08x} with {self.peer_id}: {why}")
        self.seq += 1
        return self.seq

    def accepted(self, seq: int, tag: bytes, now: float) -> None:
        self.window.accept(seq)
        self.confirmed = True
        rec = self.recent
        rec[seq] = (tag, now)
        if len(rec) > 2 * WINDOW:  # prune now and then, not on every PDU
            low = self.window.top - WINDOW
            for s in [s for s in rec if s <= low]:
                del rec[s]

    def retired_by(self, newer: "SecurityAssociation", now: float, grace: float) -> None:
        """A newer SA with the same peer is confirmed: this one ends after `grace` (PDUs in flight)."""
        self.expires = min(self.expires, now + grace)
