"""The endpoint's Protection (node_agents/mih/protection.py) on top of an MIH SA hook (node_agents/mihsa).

Policy lives in MihSecurity (mihsa/policy.py): a PROTECT message without an SA is refused on the way out,
and an unprotected, tampered, replayed or unknown-SA PDU on the way in; the endpoint drops what this raises,
MihSecurity logs it once per (peer, reason) and counts it. `Retransmission` (an exact copy of an accepted
PDU) goes to the endpoint's duplicate path as the opened PDU (re-ACK or cached response, never delivered
twice), but only from the address the original came from: a copy re-sent by a third host is a replay.
"""
from __future__ import annotations

from collections import Counter

from node_agents.mih.codec import HEADER_LEN, Pdu, pack_header, unpack_header
from node_agents.mih.errors import MihEncodeError
from node_agents.mih.protection import Addr, Peer
from node_agents.mihsa import MihSecurity, Replayed, Retransmission
from node_agents.mihsa.envelope import parse


def to_bytes(pdu: Pdu) -> bytes:
    h = pdu.header
    if len(pdu.payload) > 0xFFFF:
        raise MihEncodeError("PDU", f"{len(pdu.payload)} octets: an MIH SA protects PDUs of up to 65535")
    return pack_header(h.ack_req, h.ack_rsp, h.uir, False, 0, h.mid, h.tid, len(pdu.payload), h.sec) + pdu.payload


def to_pdu(b: bytes) -> Pdu:
    return Pdu(unpack_header(b), b[HEADER_LEN:])


class SaProtection:
    """One MIHF's protection: `sec` holds its SAs, `stats` its counters (sent/received protected, drops)."""

    def __init__(self, sec: MihSecurity):
        self.sec = sec
        self._origin: dict[str, Addr] = {}  # MIHF ID -> address its last accepted protected PDU came from

    @property
    def stats(self) -> Counter[str]:
        return self.sec.stats

    def protect(self, peer: Peer, pdu: Pdu) -> Pdu:
        return to_pdu(self.sec.outbound(to_bytes(pdu), peer.addr))

    def unprotect(self, peer: Peer, pdu: Pdu) -> Pdu:
        raw = to_bytes(pdu)
        try:
            plain = self.sec.inbound(raw, peer.addr)
        except Retransmission as e:
            src = parse(raw).src
            if self._origin.get(src) != peer.addr:
                self.sec.stats["rx_retransmissions_elsewhere"] += 1
                raise self.sec.refuse("rx", Replayed(f"copy of a PDU from {src!r} re-sent by {peer.addr}"),
                                       peer.addr) from None
            plain = e.plain
        else:
            if pdu.header.sec & 0x4:
                self._origin[parse(raw).src] = peer.addr
        return to_pdu(plain)
