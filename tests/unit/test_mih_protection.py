"""The endpoint's byte path: every PDU goes through the Protection hook, both ways, and a refusal there is
enforced in one place (over real UDP sockets on 127.0.0.1)."""
from __future__ import annotations

import asyncio

import pytest

from node_agents.mih import (Message, MihEncodeError, MihfEndpoint, MihPeerDeadError, MihTransportError,
                             TransportConfig)
from node_agents.mih.codec import BY_MID, Pdu
from node_agents.mih.protection import Peer
from node_agents.mih.samples import MN, POS, wifi

FAST = dict(port=0, retransmit_interval=0.05, max_retransmissions=40, transaction_lifetime=10.0)


class Scramble:
    """A toy protection: XOR of the payload, and a log of what passed. Only a peer with the same hook can
    read the PDUs, so a delivered message proves both directions went through it."""

    def __init__(self, refuse: str | None = None):
        self.out: list[tuple[str | None, str]] = []
        self.inn: list[str] = []
        self.refuse = refuse

    def protect(self, peer: Peer, pdu: Pdu) -> Pdu:
        name = BY_MID[pdu.header.mid].name
        if name.split(".")[0] == self.refuse:
            raise MihEncodeError(name, "refused: no security association")
        self.out.append((peer.mihf_id, name))
        return Pdu(pdu.header, bytes(b ^ 0x5A for b in pdu.payload))

    def unprotect(self, peer: Peer, pdu: Pdu) -> Pdu:
        self.inn.append(BY_MID[pdu.header.mid].name)
        return Pdu(pdu.header, bytes(b ^ 0x5A for b in pdu.payload))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def answer(inc):
    return Message.of("LL_Auth.response", dst=inc.msg.src, status="success", link_id=inc.msg.fields["link_id"])


def ll_auth(size: int) -> Message:
    return Message.of("LL_Auth.request", link_id=wifi("02:00:00:00:00:01"), ll_info=bytes(size))


def test_requests_responses_acks_and_fragments_all_pass_the_hook() -> None:
    async def main():
        pa, pb = Scramble(), Scramble()
        async with MihfEndpoint(POS, "127.0.0.1", TransportConfig(**FAST, ack_responses=True), handler=answer,
                                protection=pb) as b, \
                MihfEndpoint(MN, "127.0.0.1", TransportConfig(**FAST, mtu=200), protection=pa) as a:
            a.add_peer(POS, *b.address)
            rsp = await a.request(POS, ll_auth(3000))  # by MIHF ID; fragmented at MTU 200
            assert rsp.name == "LL_Auth.response" and rsp.fields["status"] == "success"
            assert (POS, "LL_Auth.request") in pa.out  # the peer's MIHF ID reached the hook
            assert "LL_Auth.request" in pb.inn and "LL_Auth.response" in pa.inn
            assert a.stats["frames_sent"] > 3000 // 200  # fragments of one protected PDU
    run(main())


def test_a_refusal_in_the_hook_stops_the_message_before_the_wire() -> None:
    async def main():
        pa = Scramble(refuse="LL_Auth")
        async with MihfEndpoint(POS, "127.0.0.1", TransportConfig(**FAST), handler=answer) as b, \
                MihfEndpoint(MN, "127.0.0.1", TransportConfig(**FAST), protection=pa) as a:
            a.add_peer(POS, *b.address)
            with pytest.raises(MihEncodeError, match="no security association"):
                await a.request(POS, ll_auth(10))
            assert a.stats["frames_sent"] == 0 and b.stats["received"] == 0
    run(main())


def test_unprotected_peer_is_not_understood() -> None:
    """Without the same protection the receiver cannot decode: nothing is delivered, the error is counted."""
    async def main():
        got = []

        async def handler(inc):
            got.append(inc.msg)
            return await answer(inc)

        async with MihfEndpoint(POS, "127.0.0.1", TransportConfig(**FAST), handler=handler) as b, \
                MihfEndpoint(MN, "127.0.0.1", TransportConfig(port=0, retransmit_interval=0.05,
                                                                max_retransmissions=2, transaction_lifetime=1.0),
                             protection=Scramble()) as a:
            with pytest.raises(MihPeerDeadError):  # never ACKed: the receiver could not read it
                await a.request(b.address, Message.of("LL_Auth.request", dst=POS, link_id=wifi("02:00:00:00:00:01"),
                                                      ll_info=b"x"))
            assert not got and b.stats["decode_errors"] >= 1
    run(main())


def test_unknown_mihf_id_is_a_typed_error() -> None:
    async def main():
        async with MihfEndpoint(MN, "127.0.0.1", TransportConfig(**FAST)) as a:
            with pytest.raises(MihTransportError, match="unknown peer"):
                await a.request("nobody@x", Message.of("DeRegister.request"))
    run(main())

