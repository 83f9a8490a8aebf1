"""An MIHF endpoint over UDP (asyncio): transactions, ACKs, retransmission, duplicates, fragments.

Requester: request() sends with ACK-Req, retransmits every `retransmit_interval`
until an ACK (standalone or piggybacked on the response) arrives, at most
`max_retransmissions` times (then MihPeerDeadError), and waits for the response
until `transaction_lifetime` (then MihTransactionTimeout). Receiver: requests
and indications are delivered once per (peer, MID, TID) within the lifetime;
a duplicate is answered with the ACK or the cached response, not delivered.
A request's ACK rides on the response if reply() comes within `piggyback_window`.

Peers are named by address or by MIHF ID (add_peer). Every message, ACKs included, takes one byte
path: encode -> protect -> fragment out, reassemble -> unprotect -> decode in (protection.py).
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Awaitable, Callable

from .codec import decode_pdu, encode_pdu, make_ack, unpack_header
from .codepoints import OPCODES, UDP_PORT
from .errors import MihDecodeError, MihEncodeError, MihError, MihPeerDeadError, MihTransactionTimeout, \
    MihTransportError
from .fragment import Reassembler, fragment
from .messages import Message
from .pcap import PcapSink
from .protection import Addr, NoProtection, Peer, Protection

log = logging.getLogger(__name__)
REQUEST, RESPONSE = OPCODES["request"].value, OPCODES["response"].value
_NO_OPCODE = 0xF3FF  # MID mask without the opcode: pairs a request with its response


@dataclass
class TransportConfig:
    port: int = UDP_PORT
    retransmit_interval: float = 5.0      # ODTONE's fixed values are the defaults
    max_retransmissions: int = 2
    transaction_lifetime: float = 15.0
    mtu: int = 1472                       # largest MIH frame per datagram (1500 - IPv4 - UDP)
    piggyback_window: float = 0.05        # how long a request's ACK waits to ride on the response
    ack_responses: bool = False           # ask for ACKs of our responses too (retransmitted until ACKed):
                                          # a lost response is otherwise lost for good once the request was ACKed
    response_ack_delay: float = 0.0       # the ACK of a response to a live transaction goes this much later, so
                                          # the requester acts on the response first (its ACK is off that path)


@dataclass
class _RxState:
    seen: float
    acked: bool = False
    ack_timer: asyncio.TimerHandle | None = None
    response: list[bytes] = field(default_factory=list)


@dataclass
class Incoming:
    """A delivered request or indication and where it came from; pass it to reply()."""
    msg: Message
    peer: Addr
    state: _RxState = field(repr=False)


Handler = Callable[[Incoming], Awaitable["Message | None"]]


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, ep: "MihfEndpoint"):
        self.ep = ep

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        self.ep._on_datagram(data, addr[:2])

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable etc.: the timers handle it
        self.ep.stats["socket_errors"] += 1


class MihfEndpoint:
    """One MIHF on one UDP socket. Use `async with MihfEndpoint(...)` or start()/close()."""

    def __init__(self, mihf_id: str, host: str = "0.0.0.0", config: TransportConfig | None = None, *,
                 handler: Handler | None = None, pcap: PcapSink | None = None,
                 drop_tx: Callable[[bytes, Addr], bool] | None = None,
                 drop_rx: Callable[[bytes, Addr], bool] | None = None, protection: Protection | None = None):
        self.mihf_id, self.host, self.config = mihf_id, host, config or TransportConfig()
        self.handler, self.pcap, self.drop_tx, self.drop_rx = handler, pcap, drop_tx, drop_rx
        self.protection: Protection = protection or NoProtection()
        self.peers: dict[str, Addr] = {}  # MIHF ID -> address
        self._ids: dict[Addr, str] = {}
        self.inbox: asyncio.Queue[Incoming] = asyncio.Queue()
        self.stats: Counter[str] = Counter()
        self._reasm = Reassembler(self.config.transaction_lifetime)
        self._acks: dict[tuple, asyncio.Event] = {}         # (peer, MID, TID) -> set when acknowledged
        self._responses: dict[tuple, asyncio.Future] = {}   # (peer, MID w/o opcode, TID) -> response
        self._seen: dict[tuple, _RxState] = {}              # (peer, MID, TID) of delivered messages
        self._tasks: set[asyncio.Task] = set()
        self._tid = random.randrange(1, 0x1000)
        self._transport: asyncio.DatagramTransport | None = None
        self.address: Addr = (host, self.config.port)

    async def start(self) -> "MihfEndpoint":
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(self), local_addr=(self.host, self.config.port))
        self.address = self._transport.get_extra_info("sockname")[:2]
        return self

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        for st in self._seen.values():
            if st.ack_timer:
                st.ack_timer.cancel()
        if self._transport:
            self._transport.close()
            self._transport = None

    async def __aenter__(self) -> "MihfEndpoint":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ---- peers ----
    def add_peer(self, mihf_id: str, ip: str, port: int | None = None) -> None:
        addr = (ip, port or self.config.port)
        self.peers[mihf_id], self._ids[addr] = addr, mihf_id

    def _resolve(self, to: str | Addr, msg: Message) -> tuple[Peer, Message]:
        """The peer named by MIHF ID or address; a message to an MIHF ID is addressed to it."""
        if isinstance(to, str):
            if to not in self.peers:
                raise MihTransportError(f"unknown peer {to!r}: no address for this MIHF ID")
            if "dst" not in msg.fields:
                msg = replace(msg, fields={**msg.fields, "dst": to})
            return Peer(self.peers[to], to), msg
        return Peer(to, self._ids.get(to)), msg

    # ---- sending ----
    async def request(self, to: str | Addr, msg: Message, *, ack: bool = True) -> Message:
        """Send a request to a peer (MIHF ID or address) and return its response (typed errors on a dead
        peer or no response)."""
        start = time.monotonic()
        peer, msg = self._resolve(to, msg)
        msg = self._outgoing(msg, self._next_tid(), ack_req=ack)
        frames = self._frames(peer, msg)
        key = (peer.addr, msg.spec.mid & _NO_OPCODE, msg.tid)
        fut = self._responses[key] = asyncio.get_running_loop().create_future()
        try:
            await self._transmit(peer.addr, frames, msg.spec.mid, msg, reliable=ack)
            left = self.config.transaction_lifetime - (time.monotonic() - start)
            try:
                return await asyncio.wait_for(fut, max(left, 0))
            except asyncio.TimeoutError:
                raise MihTransactionTimeout(peer.addr, msg.name, self.config.transaction_lifetime) from None
        finally:
            self._responses.pop(key, None)

    async def indicate(self, to: str | Addr, msg: Message, *, ack: bool = True) -> None:
        """Send an indication; with ack, return once the peer acknowledged it."""
        peer, msg = self._resolve(to, msg)
        msg = self._outgoing(msg, self._next_tid(), ack_req=ack)
        await self._transmit(peer.addr, self._frames(peer, msg), msg.spec.mid, msg, reliable=ack)

    async def reply(self, incoming: Incoming, msg: Message, *, ack: bool = False) -> None:
        """Answer a delivered request; carries its ACK if the standalone one has not gone out yet."""
        req, st = incoming.msg, incoming.state
        if msg.name.split(".")[0] != req.name.split(".")[0] or not msg.name.endswith(".response"):
            raise MihEncodeError(msg.name, f"is not the response to {req.name}")
        msg = self._outgoing(msg, req.tid, ack_req=ack)
        if req.ack_req and not st.acked:
            st.acked, msg.ack_rsp = True, True
            if st.ack_timer:
                st.ack_timer.cancel()
        frames = st.response = self._frames(self._resolve(incoming.peer, msg)[0], msg)
        await self._transmit(incoming.peer, frames, msg.spec.mid, msg, reliable=ack)

    def _outgoing(self, msg: Message, tid: int, ack_req: bool) -> Message:
        fields = msg.fields if "src" in msg.fields else {"src": self.mihf_id, **msg.fields}
        return replace(msg, fields=fields, tid=tid, ack_req=ack_req)

    def _next_tid(self) -> int:
        self._tid = self._tid % 0xFFF + 1  # 1..4095
        return self._tid

    async def _transmit(self, peer: Addr, frames: list[bytes], mid: int, msg: Message, reliable: bool) -> None:
        if not reliable:
            return self._send(peer, frames)
        key = (peer, mid, msg.tid)
        ev = self._acks[key] = asyncio.Event()
        try:
            for attempt in range(1 + self.config.max_retransmissions):
                if attempt:
                    self.stats["retransmissions"] += 1
                self._send(peer, frames)
                try:
                    await asyncio.wait_for(ev.wait(), self.config.retransmit_interval)
                    return
                except asyncio.TimeoutError:
                    pass
            raise MihPeerDeadError(peer, msg.name, 1 + self.config.max_retransmissions)
        finally:
            self._acks.pop(key, None)

    def _frames(self, peer: Peer, msg: Message) -> list[bytes]:
        """The one way out: encode -> protect -> fragment."""
        return fragment(self.protection.protect(peer, encode_pdu(msg)), self.config.mtu, msg.name)

    def _send(self, peer: Addr, frames: list[bytes]) -> None:
        for f in frames:
            self.stats["frames_sent"] += 1
            if self.pcap:
                self.pcap.write(f, self.address, peer)
            if self.drop_tx and self.drop_tx(f, peer):
                self.stats["dropped_tx"] += 1
                continue
            if self._transport:
                self._transport.sendto(f, peer)

    def _send_ack(self, peer: Addr, msg: Message) -> None:
        self.stats["acks_sent"] += 1
        ack = make_ack(msg, self.mihf_id, msg.fields.get("src", ""))
        try:
            self._send(peer, self._frames(Peer(peer, self._ids.get(peer)), ack))
        except MihError as e:  # refused by the protection: the peer retransmits, or gives up
            log.warning("ACK of %s to %s:%s not sent: %s", msg.name, peer[0], peer[1], e)

    # ---- receiving ----
    def _on_datagram(self, data: bytes, peer: Addr) -> None:
        arrived = time.monotonic()  # before any work on it: Incoming.state.seen is the arrival time
        if self.drop_rx and self.drop_rx(data, peer):
            self.stats["dropped_rx"] += 1
            return
        if self.pcap:
            self.pcap.write(data, peer, self.address)
        try:  # the one way in: reassemble -> unprotect -> decode
            pdu = self._reasm.add(peer, unpack_header(data), data)
            if pdu is None:
                return
        except MihDecodeError as e:
            self.stats["decode_errors"] += 1
            log.warning("MIH frame from %s:%s dropped: %s", peer[0], peer[1], e)
            return
        try:
            pdu = self.protection.unprotect(Peer(peer, self._ids.get(peer)), pdu)
        except MihError as e:  # the Protection logs its refusals (once per peer and reason: floods stay quiet)
            self.stats["unprotect_refused"] += 1
            log.debug("MIH PDU from %s:%s refused: %s", peer[0], peer[1], e)
            return
        try:
            msg = decode_pdu(pdu)
        except MihDecodeError as e:
            self.stats["decode_errors"] += 1
            log.warning("MIH frame from %s:%s dropped: %s", peer[0], peer[1], e)
            return
        self._dispatch(msg, pdu.header.mid, peer, arrived)

    def _dispatch(self, msg: Message, mid: int, peer: Addr, arrived: float) -> None:
        self.stats["received"] += 1
        if msg.ack_rsp and (ev := self._acks.get((peer, mid, msg.tid))):
            self.stats["acks_received"] += 1
            ev.set()
        if msg.is_ack_only:
            return
        if msg.spec.opcode == RESPONSE:
            return self._on_response(msg, mid, peer)
        key = (peer, mid, msg.tid)
        self._prune()
        st = self._seen.get(key)
        if st is not None:  # a retransmission: answer again, deliver nothing
            self.stats["duplicates"] += 1
            if msg.ack_req:
                self._send(peer, st.response) if st.response else self._send_ack(peer, msg)
            return
        st = self._seen[key] = _RxState(arrived)
        if msg.ack_req:
            if msg.spec.opcode == REQUEST and self.config.piggyback_window > 0:
                st.ack_timer = asyncio.get_running_loop().call_later(
                    self.config.piggyback_window, self._late_ack, peer, msg, st)
            else:
                st.acked = True
                self._send_ack(peer, msg)
        inc = Incoming(msg, peer, st)
        if self.handler is None:
            self.inbox.put_nowait(inc)
        else:
            t = asyncio.get_running_loop().create_task(self._handle(inc))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    def _on_response(self, msg: Message, mid: int, peer: Addr) -> None:
        req_mid = (mid & _NO_OPCODE) | REQUEST << 10
        if ev := self._acks.get((peer, req_mid, msg.tid)):
            ev.set()  # a response also proves the request arrived
        fut = self._responses.get((peer, mid & _NO_OPCODE, msg.tid))
        live = fut is not None and not fut.done()
        if live:
            fut.set_result(msg)
        else:
            self.stats["duplicates"] += 1
        if msg.ack_req:  # a duplicate (our ACK was lost) is acknowledged at once
            if live and self.config.response_ack_delay > 0:
                asyncio.get_running_loop().call_later(self.config.response_ack_delay, self._send_ack, peer, msg)
            else:
                self._send_ack(peer, msg)

    def _late_ack(self, peer: Addr, msg: Message, st: _RxState) -> None:
        if not st.acked:
            st.acked = True
            self._send_ack(peer, msg)

    async def _handle(self, inc: Incoming) -> None:
        try:
            rsp = await self.handler(inc)
            if rsp is not None:
                await self.reply(inc, rsp, ack=self.config.ack_responses)
        except asyncio.CancelledError:
            raise
        except Exception:  # a handler bug must not kill the endpoint
            self.stats["handler_errors"] += 1
            log.exception("MIH handler failed on %s from %s", inc.msg.name, inc.peer)

    def _prune(self) -> None:
        limit = time.monotonic() - self.config.transaction_lifetime
        while self._seen:
            k = next(iter(self._seen))
            if self._seen[k].seen > limit:
                break
            del self._seen[k]
