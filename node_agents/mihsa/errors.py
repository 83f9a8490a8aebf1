"""Typed verdicts of MIH PDU protection: each is a reason to drop a PDU, with its counter name.

Structural garbage (a truncated header, a broken TLV length) raises the codec's MihDecodeError instead:
it is not a security verdict, and callers already handle it.
"""
from __future__ import annotations

from ..mih.errors import MihError


class MihSecurityError(MihError):
    """A PDU refused by MIH protection; `reason` names the drop counter."""
    reason = "security"


class Unprotected(MihSecurityError):
    """The message must travel under an SA but arrives (or would leave) in the clear, or no SA exists."""
    reason = "unprotected"


class Tampered(MihSecurityError):
    """The AEAD tag does not verify: altered in transit, forged, or sealed under another key."""
    reason = "tampered"


class Replayed(MihSecurityError):
    """The sequence number was already accepted or lies left of the replay window."""
    reason = "replayed"


class Retransmission(Replayed):
    """An exact copy of a PDU accepted within the last `dup_window` seconds (a lost ACK made the peer resend).

    `plain` is the PDU opened again: hand it to the endpoint's duplicate path (re-ACK, resend the cached
    response), never deliver it as new. The endpoint dedups by (peer, MID, TID) for its transaction lifetime,
    which must be at least dup_window.
    """
    reason = "retransmission"

    def __init__(self, problem: str, plain: bytes):
        self.plain = plain
        super().__init__(problem)


class UnknownSa(MihSecurityError):
    """No SA with this SAID between the PDU's Source and Destination MIHF IDs."""
    reason = "unknown_sa"


class ExpiredSa(MihSecurityError):
    """The SA ran out of lifetime, packets (AEAD usage limit) or allowed forgeries, or was deleted: re-run Auth."""
    reason = "expired_sa"
