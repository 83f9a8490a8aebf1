"""Where an MIH security association plugs into the endpoint's byte path.

    out:  Message -> encode_pdu -> protection.protect(peer, pdu)   -> fragment -> UDP
    in:   UDP -> reassemble -> protection.unprotect(peer, pdu) -> decode_pdu -> Message

Every message an endpoint sends or delivers (requests, responses, indications, ACKs) passes here, so
a rule such as "Pro_Auth only under an SA" or "with an SA up, drop unprotected PDUs except
Capability_Discover and Auth" is enforced in one place. 802.21a protects first, then fragments;
its AAD is the header with M and FN zeroed, which is what a Pdu's header holds. A Protection
raises an MihError to refuse: from protect(), the sender gets it; from unprotect(), the PDU is
dropped and counted (stats "unprotect_refused").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .codec import Pdu

Addr = tuple[str, int]


@dataclass(frozen=True)
class Peer:
    """The other MIHF: its address, and its MIHF ID when the endpoint knows it."""
    addr: Addr
    mihf_id: str | None = None


class Protection(Protocol):
    def protect(self, peer: Peer, pdu: Pdu) -> Pdu: ...

    def unprotect(self, peer: Peer, pdu: Pdu) -> Pdu: ...


class NoProtection:
    """The identity: PDUs travel as encoded (802.21 without 802.21a security)."""

    def protect(self, peer: Peer, pdu: Pdu) -> Pdu:
        return pdu

    def unprotect(self, peer: Peer, pdu: Pdu) -> Pdu:
        return pdu
