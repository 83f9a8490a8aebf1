"""Transactions over real UDP sockets on 127.0.0.1, with packets dropped on purpose.

Outcomes only (delivered once, retransmitted, typed error), never durations: timers
that must not fire are long, timers that must fire are short.
"""
import asyncio
import socket

import pytest

from node_agents.mih import (Message, MihfEndpoint, MihPeerDeadError, MihTransactionTimeout, TransportConfig,
                             decode)
from node_agents.mih.compound import Ie
from node_agents.mih.pcap import PcapSink, read_pcap
from node_agents.mih.samples import MN, POS, link_up

# Many short retransmissions: a loaded machine (VMs alongside) must not turn a lost frame into a dead peer.
FAST = dict(port=0, retransmit_interval=0.05, max_retransmissions=40, transaction_lifetime=10.0)
NO_RETX = dict(port=0, retransmit_interval=5.0, max_retransmissions=2, transaction_lifetime=10.0)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def drop_first(pred):
    """A sender-side loss hook: drops the first datagram matching pred, passes everything else."""
    state = {"dropped": 0}

    def hook(frame: bytes, peer) -> bool:
        if not state["dropped"] and pred(decode_any(frame)):
            state["dropped"] += 1
            return True
        return False
    hook.state = state
    return hook


def decode_any(frame: bytes):
    try:
        return decode(frame)
    except Exception:  # a fragment: judge by its header bits only
        return None


class Server:
    """A responder counting the requests its handler saw."""

    def __init__(self, response=None, delay: float = 0.0):
        self.calls, self.response, self.delay = [], response, delay

    async def __call__(self, inc):
        self.calls.append(inc.msg)
        await asyncio.sleep(self.delay)
        return self.response or Message.of("DeRegister.response", dst=inc.msg.src, status="success")


def dereg() -> Message:
    return Message.of("DeRegister.request", dst=POS)


async def pair(cfg_a: dict, cfg_b: dict, handler=None, **kw_b):
    a = await MihfEndpoint(MN, "127.0.0.1", TransportConfig(**cfg_a), drop_tx=kw_b.pop("drop_a", None)).start()
    b = await MihfEndpoint(POS, "127.0.0.1", TransportConfig(**cfg_b), handler=handler, **kw_b).start()
    return a, b


def test_request_response_with_piggybacked_ack():
    async def go():
        srv = Server()
        a, b = await pair(NO_RETX, {**NO_RETX, "piggyback_window": 5.0}, srv)
        rsp = await a.request(b.address, dereg())
        await a.close(), await b.close()
        return rsp, srv, b
    rsp, srv, b = run(go())
    assert rsp.name == "DeRegister.response" and rsp.fields["status"] == "success"
    assert rsp.ack_rsp and b.stats["acks_sent"] == 0  # the ACK rode on the response
    assert len(srv.calls) == 1 and srv.calls[0].ack_req


def test_inbox_reply_with_ack_requested_on_the_response():
    async def go():
        a, b = await pair(FAST, FAST)  # b has no handler: requests wait in its inbox
        pending = asyncio.create_task(a.request(b.address, dereg()))
        inc = await b.inbox.get()
        await b.reply(inc, Message.of("DeRegister.response", dst=inc.msg.src, status="rejected"), ack=True)
        rsp = await pending  # reply() returned, so a acknowledged the response
        await a.close(), await b.close()
        return rsp, a, b
    rsp, a, b = run(go())
    assert rsp.fields["status"] == "rejected" and rsp.ack_req and a.stats["acks_sent"] >= 1
    assert b.stats["acks_received"] >= 1


def test_standalone_ack_when_the_response_is_slow():
    async def go():
        srv = Server(delay=0.3)
        a, b = await pair(NO_RETX, {**NO_RETX, "piggyback_window": 0.01}, srv)
        rsp = await a.request(b.address, dereg())
        await a.close(), await b.close()
        return rsp, a, b
    rsp, a, b = run(go())
    assert not rsp.ack_rsp and b.stats["acks_sent"] == 1 and a.stats["acks_received"] == 1


def test_lost_request_is_retransmitted_and_delivered_once():
    async def go():
        srv, hook = Server(), drop_first(lambda m: m is not None and m.name == "DeRegister.request")
        a, b = await pair(FAST, FAST, srv, drop_a=hook)
        rsp = await a.request(b.address, dereg())
        await a.close(), await b.close()
        return rsp, srv, a, hook
    rsp, srv, a, hook = run(go())
    assert rsp.fields["status"] == "success" and hook.state["dropped"] == 1
    assert a.stats["retransmissions"] >= 1 and len(srv.calls) == 1


def test_lost_ack_causes_retransmission_but_no_duplicate_delivery():
    async def go():
        hook = drop_first(lambda m: m is not None and m.is_ack_only)
        a, b = await pair(FAST, FAST, None, drop_tx=hook)  # b (no handler) queues indications in its inbox
        await a.indicate(b.address, link_up())
        await asyncio.sleep(0.2)  # let any further retransmission arrive: it must not be delivered
        await a.close(), await b.close()
        return a, b, hook
    a, b, hook = run(go())
    assert hook.state["dropped"] == 1 and a.stats["retransmissions"] >= 1
    assert b.inbox.qsize() == 1 and b.stats["duplicates"] >= 1 and b.stats["acks_sent"] >= 2


def test_lost_response_is_resent_from_cache():
    async def go():
        srv, hook = Server(), drop_first(lambda m: m is not None and m.name == "DeRegister.response")
        a, b = await pair(FAST, FAST, srv, drop_tx=hook)
        rsp = await a.request(b.address, dereg())
        await a.close(), await b.close()
        return rsp, srv, b
    rsp, srv, b = run(go())
    assert rsp.fields["status"] == "success" and len(srv.calls) == 1 and b.stats["duplicates"] >= 1


def test_dead_peer_raises_peer_dead_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()

    async def go():
        a = await MihfEndpoint(MN, "127.0.0.1", TransportConfig(port=0, retransmit_interval=0.02,
                                                                max_retransmissions=2)).start()
        try:
            await a.request(dead, dereg())
        finally:
            await a.close()
    with pytest.raises(MihPeerDeadError) as e:
        run(go())
    assert e.value.attempts == 3 and e.value.peer == dead and "DeRegister.request" in str(e.value)


def test_acked_but_unanswered_request_times_out():
    async def go():
        a, b = await pair({**FAST, "transaction_lifetime": 0.3}, {**FAST, "piggyback_window": 0})
        try:
            await a.request(b.address, dereg())
        finally:
            await a.close(), await b.close()
    with pytest.raises(MihTransactionTimeout):
        run(go())


def test_fragmented_response_with_a_lost_fragment(tmp_path):
    big = Message.of("Get_Information.response", dst=MN, status="success",
                     ir_bin_data_list=((Ie("NETWORK_ID", "n" * 20000),),))
    pcap = PcapSink(tmp_path / "b.pcap")

    async def go():
        srv = Server(response=big)
        hook = drop_first(lambda m: m is None)  # the first fragment of the response
        small = {**FAST, "mtu": 512}
        a, b = await pair(small, small, srv, drop_tx=hook, pcap=pcap)
        rsp = await a.request(b.address, Message.of("Get_Information.request", dst=POS, max_response_size=65535))
        await a.close(), await b.close()
        return rsp, srv, hook
    rsp, srv, hook = run(go())
    pcap.close()
    assert hook.state["dropped"] == 1 and len(srv.calls) == 1
    assert rsp.fields["ir_bin_data_list"] == big.fields["ir_bin_data_list"]
    frames = [c.frame for c in read_pcap(tmp_path / "b.pcap", port=None)]
    assert len(frames) > 40 and any(f[0] & 1 for f in frames)  # M bit set: fragments are in the capture


def test_lost_response_is_retransmitted_when_responses_are_acked():
    """With ack_responses, a response lost after the request was ACKed is sent again (the agents' setting)."""
    async def main():
        drop = drop_first(lambda m: m is not None and m.name == "DeRegister.response")
        server = Server(delay=0.2)  # longer than the piggyback window: the request is ACKed on its own first
        async with MihfEndpoint(POS, "127.0.0.1", TransportConfig(**FAST, ack_responses=True), handler=server,
                                drop_tx=drop) as srv, \
                MihfEndpoint(MN, "127.0.0.1", TransportConfig(**FAST)) as cli:
            rsp = await cli.request(srv.address, dereg())
            assert rsp.name == "DeRegister.response" and drop.state["dropped"] == 1
            assert len(server.calls) == 1 and srv.stats["retransmissions"] >= 1
    run(main())


def test_response_ack_delay_acknowledges_after_the_requester_has_the_response():
    """response_ack_delay (the agents' setting): the requester acts on the response first, its ACK follows."""
    async def main():
        server = Server()
        async with MihfEndpoint(POS, "127.0.0.1", TransportConfig(**NO_RETX, ack_responses=True), handler=server) \
                as srv, MihfEndpoint(MN, "127.0.0.1", TransportConfig(**NO_RETX, response_ack_delay=0.3)) as cli:
            rsp = await cli.request(srv.address, dereg())
            assert rsp.name == "DeRegister.response" and cli.stats["acks_sent"] == 0
            await asyncio.sleep(0.6)
            assert cli.stats["acks_sent"] == 1 and srv.stats["acks_received"] == 1
            assert srv.stats["retransmissions"] == 0
    run(main())
