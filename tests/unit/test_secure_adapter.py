"""The endpoint's Protection over an MIH SA hook, on real UDP sockets on 127.0.0.1: sealed PDUs fragment and
reassemble (the S bit survives), a lost ACK makes the peer resend the same sealed bytes, which reach the
endpoint's duplicate path (answered, not delivered twice), and policy refusals are counted."""
from __future__ import annotations

import asyncio
import time

from node_agents.mih import Message, MihfEndpoint, TransportConfig
from node_agents.mih.codec import unpack_header
from node_agents.mih.samples import MN, POS, wifi
from node_agents.mihsa import INITIATOR, RESPONDER, MihSecurity, SaLimits, SecurityAssociation, eap_sa_keys
from node_agents.secure import SaProtection

FAST = dict(port=0, retransmit_interval=0.2, max_retransmissions=5, transaction_lifetime=10.0)


def _secured() -> tuple[SaProtection, SaProtection]:
    k = eap_sa_keys(bytes(range(64)), bytes([1]) * 32, bytes([2]) * 32, 1, 0x01020304, MN, POS)
    mn, pos = MihSecurity(MN), MihSecurity(POS)
    mn.install(SecurityAssociation(k, MN, POS, INITIATOR, time.monotonic(), SaLimits()), confirmed=True)
    pos.install(SecurityAssociation(k, POS, MN, RESPONDER, time.monotonic(), SaLimits()), confirmed=True)
    return SaProtection(mn), SaProtection(pos)


def test_sealed_fragments_retransmission_and_refusals() -> None:
    delivered: list[str] = []
    frames: list[bytes] = []

    async def answer(inc):
        delivered.append(inc.msg.name)
        return Message.of("LL_Auth.response", dst=inc.msg.src, status="success", link_id=inc.msg.fields["link_id"])

    lost = {"acks": 1}

    def drop_ack(frame: bytes, peer) -> bool:  # the first response (it carries the ACK) is lost once
        if lost["acks"] and unpack_header(frame).ack_rsp:
            lost["acks"] -= 1
            return True
        return False

    async def main() -> tuple[SaProtection, SaProtection, MihfEndpoint, MihfEndpoint]:
        pm, pp = _secured()
        async with MihfEndpoint(POS, "127.0.0.1", TransportConfig(**FAST), handler=answer, protection=pp,
                                drop_tx=drop_ack) as b, \
                MihfEndpoint(MN, "127.0.0.1", TransportConfig(**FAST, mtu=120), protection=pm,
                             drop_tx=lambda f, p: frames.append(f) or False) as a:
            a.add_peer(POS, *b.address)
            rsp = await a.request(POS, Message.of("LL_Auth.request", link_id=wifi("02:00:00:00:00:01"),
                                                  ll_info=bytes(600)))
            assert rsp.fields["status"] == "success"
            # an unprotected PROTECT-class message from the MN's address is refused by policy, and counted
            a.protection = type("Clear", (), {"protect": lambda s, p, x: x, "unprotect": lambda s, p, x: x})()
            try:
                await a.indicate(POS, Message.of("Link_Up.indication", link_id=wifi("02:00:00:00:00:01")), ack=False)
            finally:
                a.protection = pm
            await asyncio.sleep(0.2)
            return pm, pp, a, b

    pm, pp, a, b = asyncio.run(asyncio.wait_for(main(), 30))
    sealed = [f for f in frames if unpack_header(f).sec & 0x4]
    assert len({unpack_header(f).fn for f in sealed}) > 1, "the sealed request was not fragmented"
    assert delivered == ["LL_Auth.request"], delivered  # once, although the MN sent it twice
    assert a.stats["retransmissions"] >= 1 and b.stats["duplicates"] >= 1
    assert pp.stats["retransmissions"] >= 1  # the hook saw an exact copy and passed it to the duplicate path
    assert pp.stats["rx_unprotected"] == 1 and b.stats["unprotect_refused"] == 1
