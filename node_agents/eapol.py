"""Authenticator side of EAPOL on one interface: a pass-through relay between a real supplicant and a backend.

A raw AF_PACKET socket per ethertype (0x88C7 RSN pre-authentication, 0x888E port access) in the current
network namespace, read with loop.add_reader. EAPOL-Start opens a session, answered here with
EAP-Request/Identity as any authenticator does; every EAP-Response goes to an async handler (the PoS's
RADIUS relay, or an MIH Pro_Auth transport) whose answer (Request, Success, Failure, or None) goes back
to the supplicant in an EAPOL-Packet. Replies are sent from the address the supplicant talks to: for
pre-authentication the target BSSID (the frames' destination), which wpa_supplicant checks
(rsn_preauth_receive drops frames from any other source).
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Collection

log = logging.getLogger("mihsec.eapol")

ETH_P_PAE = 0x888E
ETH_P_PREAUTH = 0x88C7
PAE_GROUP = bytes.fromhex("0180c2000003")
EAPOL_VERSION = 2
EAPOL_PACKET, EAPOL_START, EAPOL_LOGOFF = 0, 1, 2
EAP_REQUEST, EAP_RESPONSE, EAP_SUCCESS, EAP_FAILURE = 1, 2, 3, 4
EAP_TYPE_IDENTITY = 1

_SOL_PACKET, _PACKET_ADD_MEMBERSHIP = 263, 1
_PACKET_MR_MULTICAST, _PACKET_MR_PROMISC = 0, 1
_PACKET_OUTGOING = 4


def mac_bytes(addr: str | bytes) -> bytes:
    if isinstance(addr, bytes):
        if len(addr) != 6:
            raise ValueError(f"a MAC address has 6 octets, not {len(addr)}")
        return addr
    raw = bytes.fromhex(addr.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"bad MAC address {addr!r}")
    return raw


def mac_str(addr: bytes) -> str:
    return ":".join(f"{b:02x}" for b in addr)


def eap_header(eap: bytes) -> tuple[int, int, int]:
    """(code, identifier, length) of an EAP packet; ValueError if it is truncated."""
    if len(eap) < 4:
        raise ValueError("EAP packet shorter than its header")
    code, ident, length = struct.unpack("!BBH", eap[:4])
    if length < 4 or length > len(eap):
        raise ValueError(f"EAP length {length} does not fit {len(eap)} octets")
    return code, ident, length


@dataclass(eq=False)
class EapolSession:
    """One authentication of one supplicant, from EAPOL-Start to EAP-Success/Failure."""

    peer: str  # the supplicant's MAC (SPA)
    authenticator: str  # the address we answer from (AA: the target BSSID for pre-authentication)
    ethertype: int
    identity: bytes | None = None  # from the EAP-Response/Identity
    outcome: str | None = None  # "success" | "failure" | "abandoned" (restarted, logged off) once over
    error: BaseException | None = None  # why the handler failed, if it did
    state: Any = None  # the handler's own per-session state (e.g. its RADIUS session)
    pending_id: int | None = field(default=None, repr=False)  # Identifier of the outstanding Request
    busy: bool = field(default=False, repr=False)  # a Response is with the handler
    last_request: bytes | None = field(default=None, repr=False)
    retries: int = field(default=0, repr=False)
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    rx_at: float = field(default=0.0, repr=False)  # time.monotonic() when the Response being handled arrived
    tx_at: float = field(default=0.0, repr=False)  # ... when the last Request/Success/Failure went out (not a retransmission)


EapHandler = Callable[[EapolSession, bytes], Awaitable[bytes | None]]
_Key = tuple[int, bytes, bytes]  # (ethertype, supplicant address, authenticator address)


class EapolRelay:
    """Pass-through EAP authenticator on `ifname` (see the module docstring)."""

    def __init__(self, ifname: str, handler: EapHandler, *,
                 ethertypes: Collection[int] = (ETH_P_PREAUTH, ETH_P_PAE),
                 targets: Collection[str] | None = None,
                 on_done: Callable[[EapolSession], None] | None = None,
                 retransmit: float = 3.0, max_retransmit: int = 3):
        self.ifname, self.handler, self.on_done = ifname, handler, on_done
        self.ethertypes = tuple(ethertypes)
        # Pre-auth frames for BSSIDs we do not stand for belong to someone else: ignore them.
        self.targets = {mac_bytes(t) for t in targets} if targets is not None else None
        self.retransmit, self.max_retransmit = retransmit, max_retransmit
        self.sessions: dict[_Key, EapolSession] = {}
        self._socks: dict[int, socket.socket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.own_addr = b""

    # --- sockets -------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        ifindex = socket.if_nametoindex(self.ifname)
        try:
            for et in self.ethertypes:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(et))
                self._socks[et] = s
                s.bind((self.ifname, et))
                s.setblocking(False)
                self.own_addr = s.getsockname()[4][:6]
                if et == ETH_P_PREAUTH:
                    # Pre-auth frames are unicast to a BSSID that is not this interface's address: a NIC
                    # filters them out unless promiscuous (veth and TAP deliver them anyway).
                    mreq = struct.pack("iHH8s", ifindex, _PACKET_MR_PROMISC, 0, b"")
                else:
                    mreq = struct.pack("iHH8s", ifindex, _PACKET_MR_MULTICAST, 6, PAE_GROUP)
                # Memberships belong to the socket: the kernel drops them when it closes.
                s.setsockopt(_SOL_PACKET, _PACKET_ADD_MEMBERSHIP, mreq)
                self._loop.add_reader(s.fileno(), self._readable, et)
        except OSError:
            self.close()
            raise
        log.info("EAPOL relay on %s for ethertypes %s", self.ifname,
                 ",".join(f"0x{et:04X}" for et in self.ethertypes))

    def close(self) -> None:
        for sess in self.sessions.values():
            self._cancel_timer(sess)
        for task in self._tasks:
            task.cancel()
        for s in self._socks.values():
            if self._loop is not None:
                self._loop.remove_reader(s.fileno())
            s.close()
        self._socks.clear()

    def _readable(self, ethertype: int) -> None:
        sock = self._socks[ethertype]
        while True:
            try:
                frame, addr = sock.recvfrom(4096)
            except (BlockingIOError, InterruptedError):
                return
            if addr[2] == _PACKET_OUTGOING:  # our own transmissions, looped back to packet sockets
                continue
            try:
                self._frame(ethertype, frame)
            except Exception:  # a bad frame must not kill the reader
                log.exception("dropping EAPOL frame on %s", self.ifname)

    def _send(self, sess: EapolSession, eap: bytes) -> None:
        body = struct.pack("!BBH", EAPOL_VERSION, EAPOL_PACKET, len(eap)) + eap
        frame = mac_bytes(sess.peer) + mac_bytes(sess.authenticator) + struct.pack("!H", sess.ethertype) + body
        self._socks[sess.ethertype].send(frame)

    # --- EAPOL / EAP state ---------------------------------------------------------------------------------
    def _frame(self, ethertype: int, frame: bytes) -> None:
        if len(frame) < 18:
            return
        dst, src = frame[:6], frame[6:12]
        _version, ptype, length = struct.unpack("!BBH", frame[14:18])  # any version: 1, 2 or 3
        body = frame[18:18 + length]  # Ethernet padding follows the EAPOL body
        if len(body) < length:
            log.debug("truncated EAPOL frame from %s", mac_str(src))
            return
        if dst[0] & 1:
            aa = self.own_addr  # group-addressed (port access to 01:80:c2:00:00:03): answer as ourselves
        else:
            aa = dst
            if self.targets is not None and ethertype == ETH_P_PREAUTH and dst not in self.targets:
                return
        key = (ethertype, src, aa)  # the AA is part of it: a PMKSA is per (AA, SPA)
        if ptype == EAPOL_START:
            self._start(key, EapolSession(mac_str(src), mac_str(aa), ethertype))
        elif ptype == EAPOL_LOGOFF:
            if (old := self.sessions.pop(key, None)) is not None:
                self._abandon(old)
        elif ptype == EAPOL_PACKET:
            self._response(key, body)
        # EAPOL-Key and others are not ours: a pre-auth/802.1X relay installs no keys on this port.

    def _start(self, key: _Key, sess: EapolSession) -> None:
        old = self.sessions.get(key)
        ident = os.urandom(1)[0]
        if old is not None:
            if old.pending_id is not None and ident == old.pending_id:
                ident = (ident + 1) & 0xFF  # a restart must not look like a retransmission of the old Request
            self._abandon(old)
        self.sessions[key] = sess
        log.info("EAPOL-Start from %s to %s (0x%04X)", sess.peer, sess.authenticator, sess.ethertype)
        self._request(sess, struct.pack("!BBHB", EAP_REQUEST, ident, 5, EAP_TYPE_IDENTITY))

    def _request(self, sess: EapolSession, eap: bytes) -> None:
        sess.pending_id, sess.last_request, sess.retries = eap[1], eap, 0
        self._send(sess, eap)
        sess.tx_at = time.monotonic()
        self._arm(sess)

    def _response(self, key: _Key, body: bytes) -> None:
        sess = self.sessions.get(key)
        try:
            code, ident, length = eap_header(body)
        except ValueError as e:
            log.debug("bad EAP packet: %s", e)
            return
        eap = body[:length]
        if sess is None or code != EAP_RESPONSE or sess.outcome is not None:
            return
        # RFC 3748 4.1: a Response whose Identifier does not match the outstanding Request is discarded;
        # while one is with the backend, a duplicate of it is too (the backend must see it once).
        if sess.busy or ident != sess.pending_id:
            log.debug("discarding EAP-Response id %d from %s (pending %s, busy %s)", ident, sess.peer,
                      sess.pending_id, sess.busy)
            return
        if length > 5 and eap[4] == EAP_TYPE_IDENTITY:
            sess.identity = eap[5:]
        sess.busy, sess.rx_at = True, time.monotonic()
        self._cancel_timer(sess)
        assert self._loop is not None
        task = self._loop.create_task(self._backend(key, sess, eap, ident))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _backend(self, key: _Key, sess: EapolSession, eap: bytes, ident: int) -> None:
        try:
            nxt = await self.handler(sess, eap)
            if nxt is not None:
                code, _, length = eap_header(nxt)
                nxt = nxt[:length]
                if code not in (EAP_REQUEST, EAP_SUCCESS, EAP_FAILURE):
                    raise ValueError(f"the backend answered EAP code {code}")
        except asyncio.CancelledError:
            raise
        except Exception as e:
            # Fail the peer at once (it falls back to another authentication) instead of letting it time out.
            log.warning("EAP backend failed for %s: %s: %s", sess.peer, type(e).__name__, e)
            sess.error, nxt = e, struct.pack("!BBH", EAP_FAILURE, ident, 4)
        finally:
            sess.busy = False
        if self.sessions.get(key) is not sess:  # restarted (EAPOL-Start) or logged off meanwhile
            return
        if nxt is None:
            self._arm(sess)  # nothing to send (the handler dropped it): keep retransmitting the last Request
            return
        if nxt[0] == EAP_REQUEST:
            self._request(sess, nxt)
            return
        sess.outcome = "success" if nxt[0] == EAP_SUCCESS and sess.error is None else "failure"
        sess.pending_id = None
        self._send(sess, nxt)
        sess.tx_at = time.monotonic()
        log.info("EAP %s for %s at %s", sess.outcome, sess.peer, sess.authenticator)
        if self.on_done is not None:
            self.on_done(sess)

    def _abandon(self, sess: EapolSession) -> None:
        """A session replaced by a new EAPOL-Start or logged off: reported, so its backend state is released."""
        self._cancel_timer(sess)
        if sess.outcome is None:
            sess.outcome, sess.pending_id = "abandoned", None
            if self.on_done is not None:
                self.on_done(sess)

    # --- authenticator retransmission (RFC 3748 4.3: the authenticator retransmits Requests) ---------------
    def _arm(self, sess: EapolSession) -> None:
        self._cancel_timer(sess)
        if self.retransmit > 0 and self._loop is not None:
            sess.timer = self._loop.call_later(self.retransmit, self._expire, sess)

    def _expire(self, sess: EapolSession) -> None:
        sess.timer = None
        if sess.busy or sess.outcome is not None or sess.last_request is None:
            return
        if sess.retries >= self.max_retransmit:
            log.info("EAP peer %s stopped answering", sess.peer)
            return
        sess.retries += 1
        self._send(sess, sess.last_request)
        self._arm(sess)

    @staticmethod
    def _cancel_timer(sess: EapolSession) -> None:
        if sess.timer is not None:
            sess.timer.cancel()
            sess.timer = None
