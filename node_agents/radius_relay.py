"""PoS side of proactive authentication: relay EAP to a RADIUS server (RFC 3579) and recover the MSK.

pyrad builds and verifies the packets (Message-Authenticator required in replies); the exchange itself runs
on the agent's event loop, one connected UDP socket per EAP conversation: pyrad's blocking client would need
a thread hand-off for every EAP round trip (issue 16: executor hand-offs on the pre-authentication path).
The MS-MPPE keys are decrypted here
(RFC 2548 2.4.2/2.4.3) rather than by pyrad: the salt chaining is simple and this keeps it checkable.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyrad import packet
from pyrad.client import Client
from pyrad.dictionary import Dictionary

log = logging.getLogger("mihsec.radius")

DICTIONARY = Path(__file__).with_name("radius.dictionary")
EAP_RESPONSE, EAP_SUCCESS, EAP_FAILURE, EAP_TYPE_IDENTITY = 2, 3, 4, 1
MS_VENDOR, MS_MPPE_SEND_KEY, MS_MPPE_RECV_KEY = 311, 16, 17
_dictionary: Dictionary | None = None


class RadiusError(Exception):
    """The AAA exchange failed: nothing may be installed."""


class RadiusTimeout(RadiusError):
    """No valid reply (server down, wrong secret, or every reply failed verification)."""


class RadiusUnreachable(RadiusError):
    """The request could not even be sent (no route, bad address)."""


class RadiusProtocolError(RadiusError):
    """A verified reply we cannot use: no EAP-Message in a challenge, an Accept without keys, ..."""


def station_id(mac: str | bytes) -> str:
    """802.1X RADIUS usage (RFC 3580 3.21) as FreeRADIUS logs it: 02-00-00-00-01-00."""
    raw = mac if isinstance(mac, bytes) else bytes.fromhex(mac.replace(":", "").replace("-", ""))
    return "-".join(f"{b:02X}" for b in raw)


def mppe_decrypt(value: bytes, secret: bytes, request_authenticator: bytes) -> bytes:
    """RFC 2548 2.4.2: Salt(2) || C(1)..C(n), P = Key-Length(1) || Key || padding;
    b(1) = MD5(secret || Request-Authenticator || Salt), b(i) = MD5(secret || c(i-1))."""
    if len(value) < 18 or (len(value) - 2) % 16 or not value[0] & 0x80:
        raise RadiusProtocolError("malformed MS-MPPE key attribute")
    salt, cipher = value[:2], value[2:]
    plain, last = b"", request_authenticator + salt
    for i in range(0, len(cipher), 16):
        block = cipher[i:i + 16]
        b = hashlib.md5(secret + last).digest()
        plain += bytes(x ^ y for x, y in zip(block, b))
        last = block
    if plain[0] > len(plain) - 1:
        raise RadiusProtocolError("MS-MPPE key length exceeds the attribute (wrong secret?)")
    return plain[1:1 + plain[0]]


@dataclass(frozen=True)
class RadiusConfig:
    server: str
    secret: bytes
    nas_identifier: str
    nas_ip: str
    port: int = 1812
    timeout: float = 2.0  # per attempt
    retries: int = 3  # attempts in total
    framed_mtu: int = 1400  # RFC 3579 2.4: caps the size of the EAP packets the server sends


@dataclass(frozen=True)
class EapReply:
    """The server's answer to one EAP-Response."""

    eap: bytes  # the next EAP packet for the peer: Request, Success or Failure
    accepted: bool | None  # None while the conversation goes on (Access-Challenge)
    msk: bytes | None = field(default=None, repr=False)  # Recv-Key || Send-Key on Access-Accept: never log
    session_timeout: int | None = None


def _dict() -> Dictionary:
    global _dictionary
    if _dictionary is None:
        _dictionary = Dictionary(str(DICTIONARY))
    return _dictionary


class RadiusEapSession:
    """One EAP conversation with the AAA server for one station."""

    def __init__(self, cfg: RadiusConfig, calling_station: str | bytes, called_station: str | None = None,
                 nas_port_type: int = 19):
        self.cfg = cfg
        self.calling, self.called, self.nas_port_type = station_id(calling_station), called_station, nas_port_type
        self.user_name: bytes | None = None
        self.state: bytes | None = None
        self.last_response_id = 0
        self.done = False
        self.sent_at = self.reply_at = 0.0  # time.monotonic() of the last Access-Request and its reply (node_agents/hops.py)
        self._factory = Client(server=cfg.server, authport=cfg.port, secret=cfg.secret, dict=_dict())  # packets only
        self._transport: asyncio.DatagramTransport | None = None
        self._replies: _Replies | None = None

    async def relay(self, eap: bytes) -> EapReply:
        req = self._request(eap)
        try:
            return self._reply(await self._exchange(req))
        except RadiusError:
            self.close()
            raise

    def _request(self, eap: bytes) -> packet.AuthPacket:
        if self.done:
            raise RadiusError("this EAP conversation is over")
        if len(eap) < 4 or eap[0] != EAP_RESPONSE:
            raise ValueError("only EAP-Responses are relayed to the AAA server")
        self.last_response_id = eap[1]
        if len(eap) > 5 and eap[4] == EAP_TYPE_IDENTITY:
            self.user_name = eap[5:] or None
        # Message-Authenticator added; the Request Authenticator from os.urandom: pyrad draws it a byte at a
        # time from random.SystemRandom, a quarter of the cost of building the packet
        req = self._factory.CreateAuthPacket(code=packet.AccessRequest, authenticator=os.urandom(16))
        if self.user_name:
            req["User-Name"] = self.user_name.decode(errors="replace")
        req["NAS-IP-Address"] = self.cfg.nas_ip
        req["NAS-Identifier"] = self.cfg.nas_identifier
        req["NAS-Port-Type"] = self.nas_port_type
        req["Service-Type"] = 2  # Framed-User, as hostapd sends
        req["Framed-MTU"] = self.cfg.framed_mtu
        req["Calling-Station-Id"] = self.calling
        if self.called:
            req["Called-Station-Id"] = self.called
        req["EAP-Message"] = [eap[i:i + 253] for i in range(0, len(eap), 253)]  # RFC 3579 3.1
        if self.state is not None:
            req["State"] = self.state  # RFC 2865 4.4: echo the challenge's State
        return req

    async def _exchange(self, req: packet.AuthPacket) -> packet.Packet:
        """Send `req` up to `retries` times, `timeout` apart, until a reply verifies against it (pyrad checks
        the Response Authenticator and the Message-Authenticator); anything else on the socket is dropped."""
        loop = asyncio.get_running_loop()
        where = f"{self.cfg.server}:{self.cfg.port}"
        if self._transport is None:
            try:
                self._transport, self._replies = await loop.create_datagram_endpoint(
                    _Replies, remote_addr=(self.cfg.server, self.cfg.port))
            except OSError as e:  # no route, bad address
                raise RadiusUnreachable(f"{where}: {e.strerror or e}") from e
        assert self._replies is not None
        raw = req.RequestPacket()  # the same Request Authenticator for every attempt
        for _ in range(self.cfg.retries):
            self.sent_at = time.monotonic()
            self._transport.sendto(raw)
            deadline = loop.time() + self.cfg.timeout
            while (left := deadline - loop.time()) > 0:
                try:
                    data = await asyncio.wait_for(self._replies.queue.get(), left)
                except asyncio.TimeoutError:
                    break
                try:
                    reply = req.CreateReply(packet=data)
                    if req.VerifyReply(reply, data, enforce_ma=True):
                        self.reply_at = time.monotonic()
                        reply.request_authenticator = req.authenticator
                        return reply
                except packet.PacketError:
                    pass
        raise RadiusTimeout(f"no valid reply from {where} after {self.cfg.retries} x {self.cfg.timeout:g} s")

    def _reply(self, reply: packet.Packet) -> EapReply:
        eap = b"".join(reply.get(79, []))
        self.state = reply[24][0] if 24 in reply else None
        timeout = reply[27][0] if 27 in reply else None
        if reply.code == packet.AccessChallenge:
            if len(eap) < 4:
                raise RadiusProtocolError("Access-Challenge without an EAP-Message")
            return EapReply(eap, None)
        self.close()
        if reply.code == packet.AccessReject:
            log.info("Access-Reject for %s", self.calling)
            # RFC 3579 2.6.3: the server should include EAP-Failure; make one if it did not.
            eap = eap if eap[:1] == bytes([EAP_FAILURE]) else struct.pack("!BBH", EAP_FAILURE,
                                                                          self.last_response_id, 4)
            return EapReply(eap, False)
        if reply.code != packet.AccessAccept:
            raise RadiusProtocolError(f"unexpected RADIUS code {reply.code}")
        send, recv = reply.get((MS_VENDOR, MS_MPPE_SEND_KEY)), reply.get((MS_VENDOR, MS_MPPE_RECV_KEY))
        if not send or not recv:
            raise RadiusProtocolError("Access-Accept without MS-MPPE keys: no MSK to derive a PMK from")
        ra = reply.request_authenticator  # of the attempt this reply answers (set by pyrad's client)
        recv_key = mppe_decrypt(recv[0], self.cfg.secret, ra)
        send_key = mppe_decrypt(send[0], self.cfg.secret, ra)
        if len(recv_key) < 32 or len(send_key) < 32:
            raise RadiusProtocolError(f"MS-MPPE keys too short ({len(recv_key)}, {len(send_key)} octets)")
        # RFC 3748/5216 MSK order as the AP sees it (hostapd's ieee802_1x_get_keys): Recv-Key first, so the
        # 802.11 PMK = MSK[0:32] = MS-MPPE-Recv-Key.
        msk = recv_key[:32] + send_key[:32]
        log.info("Access-Accept for %s: MSK of %d octets", self.calling, len(msk))
        if eap[:1] != bytes([EAP_SUCCESS]):
            eap = struct.pack("!BBH", EAP_SUCCESS, self.last_response_id, 4)
        return EapReply(eap, True, msk, timeout)

    def close(self) -> None:
        """Idempotent."""
        self.done = True
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class _Replies(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP port unreachable and the like: the retransmissions, then the timeout decide
