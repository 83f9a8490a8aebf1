"""Pre-authentication mode 1 pieces end to end with real daemons: a real wpa_supplicant (-D wired) runs RSN
pre-authentication (0x88C7) through node_agents.eapol and node_agents.radius_relay to a real FreeRADIUS.

Two namespaces of our own joined by a veth pair: "mn" holds wpa_supplicant on veth0 (02:00:00:00:0e:00);
"pos" holds FreeRADIUS on its own 127.0.0.1 and the relay on veth1. The relay runs on a thread that
entered "pos" with setns(2) (per thread; the asyncio executor threads it starts inherit it).
"""
from __future__ import annotations

import asyncio
import ctypes
import json
import os
import queue
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Coroutine, Iterator

import pytest

from node_agents.eapol import ETH_P_PAE, ETH_P_PREAUTH, EapolRelay, EapolSession, mac_bytes
from node_agents.keys import pmk_from_msk, pmkid
from node_agents.radius_relay import (RadiusConfig, RadiusEapSession, RadiusProtocolError, RadiusTimeout,
                                      RadiusUnreachable, mppe_decrypt, station_id)
from testbed.daemons.freeradius import FreeRadius
from testbed.daemons.wpa import WpaSupplicant
from testbed.errors import DaemonError
from testbed.pki import Pki, generate

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(os.geteuid() != 0 or not all(map(shutil.which, ("freeradius", "wpa_supplicant", "ip"))),
                       reason="needs root, freeradius, wpa_supplicant and iproute2"),
]

MN_MAC, BSSID = "02:00:00:00:0e:00", "02:00:00:00:0b:00"
SECRET = b"pos-radius-secret"
SERVER = "aaa.test"
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _ip(*args: str, ns: str | None = None) -> None:
    cmd = (["ip", "-n", ns] if ns else ["ip"]) + list(args)
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=10)


class NsLoop:
    """An asyncio loop on a thread inside network namespace `ns`."""

    def __init__(self, ns: str):
        self.loop = asyncio.new_event_loop()
        self._err: list[BaseException] = []
        ready = threading.Event()

        def run() -> None:
            try:
                fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
                try:
                    if _libc.setns(fd, _CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns")
                finally:
                    os.close(fd)
            except BaseException as e:
                self._err.append(e)
                ready.set()
                return
            asyncio.set_event_loop(self.loop)
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name=f"netns-{ns}", daemon=True)
        self.thread.start()
        ready.wait(10)
        if self._err:
            raise self._err[0]

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        if self.thread.is_alive():
            try:
                self.call(self.loop.shutdown_default_executor(), timeout=15)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def netns() -> Iterator[tuple[str, str]]:
    tag = f"mihsec-pa{os.getpid()}"
    mn, pos = f"{tag}-mn", f"{tag}-pos"
    try:
        _ip("netns", "add", mn)
        _ip("netns", "add", pos)
        _ip("link", "add", "veth0", "netns", mn, "type", "veth", "peer", "name", "veth1", "netns", pos)
        _ip("link", "set", "veth0", "address", MN_MAC, ns=mn)
        _ip("addr", "add", "10.99.0.1/30", "dev", "veth0", ns=mn)
        _ip("addr", "add", "10.99.0.2/30", "dev", "veth1", ns=pos)
        for ns, dev in ((mn, "veth0"), (pos, "veth1")):
            _ip("link", "set", "lo", "up", ns=ns)
            _ip("link", "set", dev, "up", ns=ns)
        yield mn, pos
    finally:
        for ns in (mn, pos):  # deleting a namespace also deletes its end of the veth pair
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    d = tmp_path_factory.mktemp("pki")
    try:
        yield generate(d, SERVER, ["alice", "carol"])
    finally:
        shutil.rmtree(d, ignore_errors=True)  # private keys


@pytest.fixture(scope="module")
def radius(netns: tuple[str, str], pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeRadius]:
    rad = FreeRadius("freeradius pos", tmp_path_factory.mktemp("radius") / "conf", netns=netns[1])
    rad.render([("pos", "127.0.0.0/8", SECRET.decode())], [("alice", "TLS", None), ("carol", "TLS", None)], pki,
               "127.0.0.1", 1812)
    try:
        rad.start(timeout=30)
        yield rad
    finally:
        rad.stop()
        shutil.rmtree(rad.conf_dir.parent, ignore_errors=True)  # secret, server key paths, logs


@pytest.fixture
def pos(netns: tuple[str, str]) -> Iterator[NsLoop]:
    nsl = NsLoop(netns[1])
    try:
        yield nsl
    finally:
        nsl.close()


def _supplicant(tmp: Path, ns: str, pki: Pki, identity: str, cert_of: str, debug_keys: bool = False) -> WpaSupplicant:
    cert, key = pki.clients[cert_of]
    ctrl = tmp / "ctrl"
    conf = tmp / "wpa.conf"
    conf.touch(mode=0o600)
    conf.write_text(f"""ctrl_interface={ctrl}
ap_scan=0
network={{
	key_mgmt=IEEE8021X
	eapol_flags=0
	eap=TLS
	identity="{identity}"
	ca_cert="{pki.ca_cert}"
	domain_match="{SERVER}"
	client_cert="{cert}"
	private_key="{key}"
}}
""")
    sup = WpaSupplicant("mn", netns=ns, conf=conf, ctrl_dir=ctrl, ifname="veth0", log=tmp / "wpa.log", local_dir=tmp,
                        driver="wired")
    if debug_keys:
        sup.argv.insert(1, "-K")  # test only: puts the MSK into the log, to compare with the relay's
    return sup


@pytest.fixture
def make_sup(netns: tuple[str, str], pki: Pki, tmp_path: Path) -> Iterator[Any]:
    started: list[WpaSupplicant] = []

    def make(identity: str = "alice", cert_of: str = "alice", debug_keys: bool = False) -> WpaSupplicant:
        d = tmp_path / f"sup{len(started)}"
        d.mkdir()
        sup = _supplicant(d, netns[0], pki, identity, cert_of, debug_keys)
        started.append(sup)
        sup.start(timeout=20)
        # PREAUTH needs a current network block: wait until the wired "association" picked network 0.
        deadline = time.monotonic() + 10
        while sup.status().get("wpa_state") in (None, "DISCONNECTED", "SCANNING", "INACTIVE"):
            assert time.monotonic() < deadline, sup.status()
            time.sleep(0.1)
        return sup

    try:
        yield make
    finally:
        for sup in started:
            sup.stop()
            shutil.rmtree(sup.log.parent, ignore_errors=True)  # a -K log holds the MSK


class Pos:
    """The PoS side as the agents will wire it: EAPOL relay -> RADIUS relay, one RADIUS session per EAPOL one."""

    def __init__(self, nsl: NsLoop, cfg: RadiusConfig, ethertypes: tuple[int, ...]):
        self.nsl, self.cfg = nsl, cfg
        self.msk: dict[tuple[str, str], bytes] = {}
        self.done: queue.Queue[EapolSession] = queue.Queue()

        async def handler(sess: EapolSession, eap: bytes) -> bytes | None:
            if sess.state is None:
                sess.state = RadiusEapSession(cfg, sess.peer, f"{station_id(sess.authenticator)}:mihsec")
            reply = await sess.state.relay(eap)
            if reply.msk is not None:
                self.msk[(sess.peer, sess.authenticator)] = reply.msk
            return reply.eap

        async def start() -> EapolRelay:
            relay = EapolRelay("veth1", handler, ethertypes=ethertypes, on_done=self.done.put)
            relay.start()
            return relay

        self.relay: EapolRelay = nsl.call(start())

    def wait_done(self, timeout: float = 30.0) -> EapolSession:
        """The next session that ended in success or failure (not one replaced by a restart)."""
        deadline = time.monotonic() + timeout
        while (sess := self.done.get(timeout=max(0.0, deadline - time.monotonic()))).outcome == "abandoned":
            pass
        return sess

    def close(self) -> None:
        async def stop() -> None:
            self.relay.close()
        self.nsl.call(stop())


@pytest.fixture
def make_pos(pos: NsLoop) -> Iterator[Any]:
    made: list[Pos] = []

    def make(ethertypes: tuple[int, ...] = (ETH_P_PREAUTH,), **cfg: Any) -> Pos:
        p = Pos(pos, RadiusConfig(**{"server": "127.0.0.1", "secret": SECRET, "nas_identifier": "pos-b",
                                     "nas_ip": "10.99.0.2", **cfg}), ethertypes)
        made.append(p)
        return p

    try:
        yield make
    finally:
        for p in made:
            p.close()


def _wait(sup: WpaSupplicant, names: list[str], timeout: float = 40) -> str:
    """The event's text; on a timeout, fail with the end of the supplicant's log (its files are removed)."""
    try:
        return sup.wait_event(names, timeout).text
    except DaemonError as e:
        tail = [ln for ln in sup.log.read_text(errors="replace").splitlines() if "hexdump" not in ln][-40:]
        pytest.fail(f"{e}\n" + "\n".join(tail))


def _preauth(sup: WpaSupplicant) -> str:
    sup.mark()
    sup.ok(f"PREAUTH {BSSID}")
    return _wait(sup, [f"RSN: pre-authentication with {BSSID}"])


def test_preauth_through_relay_caches_the_relays_pmk(radius: FreeRadius, make_sup: Any, make_pos: Any,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    pos = make_pos()
    sup = make_sup()
    assert _preauth(sup).endswith("completed successfully")
    sess = pos.wait_done()
    assert (sess.outcome, sess.peer, sess.authenticator, sess.identity) == ("success", MN_MAC, BSSID, b"alice")
    msk = pos.msk[(MN_MAC, BSSID)]
    assert len(msk) == 64
    entries = [e for e in sup.pmksa_get(0) if e[0] == BSSID]
    assert len(entries) == 1, "no PMKSA for the target BSSID"
    bssid, pmkid_hex, pmk_hex = entries[0][:3]
    assert pmk_hex == pmk_from_msk(msk).hex(), "wpa_supplicant's PMK is not MSK[0:32] = MS-MPPE-Recv-Key"
    assert pmkid_hex == pmkid(pmk_from_msk(msk), BSSID, MN_MAC).hex()
    assert int(entries[0][5]) == 1  # akmp WPA-EAP
    # FreeRADIUS saw the station as 802.1X RADIUS usage writes it (the relay's Calling-Station-Id)
    assert radius.wait_decision("alice").station == "02-00-00-00-0E-00"
    # keys never reach our logs (PMKIDs may)
    assert msk[:32].hex() not in caplog.text and msk[32:].hex() not in caplog.text
    assert not re.search(msk[:8].hex(), re.sub(r"[^0-9a-f]", "", caplog.text.lower()))


def test_wrong_credentials_fail_and_cache_nothing(radius: FreeRadius, make_sup: Any, make_pos: Any) -> None:
    pos = make_pos()
    sup = make_sup(identity="carol", cert_of="alice")  # check_cert_cn: certificate is not carol's
    assert _preauth(sup).endswith("failed")
    sess = pos.wait_done()
    assert sess.outcome == "failure" and sess.error is None  # a clean Access-Reject, not a backend error
    assert not pos.msk and not [e for e in sup.pmksa_get(0) if e[0] == BSSID]
    assert [d.accepted for d in radius.accepts() if d.user == "carol"][-1] is False


def test_radius_down_times_out_typed_and_caches_nothing(radius: FreeRadius, make_sup: Any, make_pos: Any) -> None:
    pos = make_pos(timeout=0.5, retries=2)
    sup = make_sup()
    radius.stop()
    try:
        t0 = time.monotonic()
        assert _preauth(sup).endswith("failed")
        sess = pos.wait_done()
        assert isinstance(sess.error, RadiusTimeout) and sess.outcome == "failure"
        assert time.monotonic() - t0 < 10  # the EAP-Failure came at once, not after the peer's own timeout
        assert not pos.msk and not [e for e in sup.pmksa_get(0) if e[0] == BSSID]
    finally:
        radius.start(timeout=30)


def test_port_auth_0x888e_msk_matches_supplicant(radius: FreeRadius, make_sup: Any, make_pos: Any,
                                                  netns: tuple[str, str]) -> None:
    """The same relay as an ordinary wired 802.1X authenticator (EAPOL-Start to 01:80:c2:00:00:03): the MSK
    it decrypted equals the one wpa_supplicant derived (-K in this test run only)."""
    sup = make_sup(debug_keys=True)  # its first EAPOL-Start goes unanswered: no relay yet
    pos = make_pos(ethertypes=(ETH_P_PAE,))
    sup.mark()
    sup.request("LOGOFF")  # LOGON makes it send EAPOL-Start at once (else only every 30 s)
    sup.request("LOGON")
    _wait(sup, ["CTRL-EVENT-EAP-SUCCESS"])
    sess = pos.wait_done()
    assert sess.ethertype == ETH_P_PAE and sess.outcome == "success"
    # answered from veth1's own address, not from the group address the Start went to
    link = json.loads(subprocess.run(["ip", "-n", netns[1], "-j", "link", "show", "veth1"], check=True,
                                     capture_output=True, text=True).stdout)
    assert sess.authenticator == link[0]["address"]
    msk = pos.msk[(MN_MAC, sess.authenticator)]
    log = sup.log.read_text()
    derived = re.findall(r"EAP-TLS: Derived key - hexdump\(len=64\): ([0-9a-f ]+)", log)
    assert derived and derived[-1].replace(" ", "") == msk.hex()


def test_radius_unit_errors(pos: NsLoop) -> None:
    """Typed errors without a supplicant: nothing listening -> RadiusTimeout; no route -> RadiusUnreachable."""
    identity = bytes.fromhex("0201000a01") + b"alice"
    base = dict(secret=SECRET, nas_identifier="pos-b", nas_ip="10.99.0.2", timeout=0.2, retries=2)

    async def run(server: str, port: int) -> Any:
        return await RadiusEapSession(RadiusConfig(server=server, port=port, **base), MN_MAC).relay(identity)

    with pytest.raises(RadiusTimeout):
        pos.call(run("127.0.0.1", 1))
    with pytest.raises(RadiusUnreachable):
        pos.call(run("192.0.2.1", 1812))  # the pos namespace has no default route


def test_mppe_decrypt_matches_pyrad_salt_encryption() -> None:
    """RFC 2548 salt encryption as another implementation (pyrad's RFC 2868 SaltCrypt) writes it."""
    from pyrad import packet
    ra = os.urandom(16)
    pkt = packet.AuthPacket(code=packet.AccessAccept, secret=SECRET)
    pkt.request_authenticator = ra
    key = os.urandom(32)
    assert mppe_decrypt(pkt.SaltCrypt(key), SECRET, ra) == key
    try:  # a wrong secret garbles the length octet (usually caught) and always the key
        assert mppe_decrypt(pkt.SaltCrypt(key), b"wrong", ra) != key
    except RadiusProtocolError:
        pass


class FakePeer:
    """Raw 0x88C7 socket on veth0 in the mn namespace, to drive the relay frame by frame."""

    def __init__(self, netns: tuple[str, str]):
        self.nsl = NsLoop(netns[0])

        async def open_sock() -> socket.socket:  # created on the mn thread: the socket lives in that namespace
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_PREAUTH))
            s.bind(("veth0", ETH_P_PREAUTH))
            return s

        self.sock: socket.socket = self.nsl.call(open_sock())
        self.sock.settimeout(2)

    def send(self, ptype: int, body: bytes = b"", dst: str = BSSID) -> None:
        self.sock.send(mac_bytes(dst) + mac_bytes(MN_MAC) + struct.pack("!HBBH", ETH_P_PREAUTH, 1, ptype, len(body))
                       + body)

    def recv(self, timeout: float = 2.0) -> tuple[str, str, bytes] | None:
        """(dst, src, EAP packet) of the next frame to us, None if none comes."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                frame, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                return None
            if addr[2] == 4:  # PACKET_OUTGOING: our own frame
                continue
            version, ptype, length = struct.unpack("!BBH", frame[14:18])
            assert (version, ptype) == (2, 0) and frame[12:14] == b"\x88\xc7"
            return frame[:6].hex(":"), frame[6:12].hex(":"), frame[18:18 + length]
        return None

    def close(self) -> None:
        self.sock.close()
        self.nsl.close()


def _eap(code: int, ident: int, data: bytes = b"") -> bytes:
    return struct.pack("!BBH", code, ident, 4 + len(data)) + data


def test_relay_identifier_handling(netns: tuple[str, str], pos: NsLoop) -> None:
    """RFC 3748 4.1/4.3 as a pass-through authenticator applies them, driven by raw frames."""
    script: list[bytes | Exception] = [_eap(1, 0x42, b"\x0d\x20"), _eap(3, 0x42), RadiusTimeout("down")]
    calls: list[tuple[int, bytes]] = []
    done: queue.Queue[EapolSession] = queue.Queue()

    async def handler(sess: EapolSession, eap: bytes) -> bytes | None:
        calls.append((eap[1], eap))
        await asyncio.sleep(0.3)  # long enough for a duplicate to arrive while the backend works
        nxt = script.pop(0)
        if isinstance(nxt, Exception):
            raise nxt
        return nxt

    async def start() -> EapolRelay:
        r = EapolRelay("veth1", handler, ethertypes=(ETH_P_PREAUTH,), targets=[BSSID], on_done=done.put,
                       retransmit=0.6, max_retransmit=1)
        r.start()
        return r

    relay: EapolRelay = pos.call(start())
    peer = FakePeer(netns)
    try:
        peer.send(1, dst="02:00:00:00:0c:00")  # a BSSID this relay does not stand for
        assert peer.recv(0.5) is None
        peer.send(1)  # EAPOL-Start
        dst, src, eap = peer.recv()  # type: ignore[misc]
        assert (dst, src, eap[0], eap[4]) == (MN_MAC, BSSID, 1, 1)  # Request/Identity from the BSSID
        x = eap[1]
        peer.send(0, _eap(2, x ^ 0xFF, b"\x01alice"))  # wrong Identifier: discarded
        peer.send(0, _eap(2, x, b"\x01alice") + b"\0" * 20)  # right one (Ethernet-style padding after it)
        peer.send(0, _eap(2, x, b"\x01alice"))  # duplicate while the backend works: discarded
        dst, src, eap = peer.recv()  # type: ignore[misc]
        assert eap == _eap(1, 0x42, b"\x0d\x20") and [c[0] for c in calls] == [x]
        assert calls[0][1] == _eap(2, x, b"\x01alice")  # trimmed to the EAP length
        assert peer.recv()[2] == eap  # type: ignore[index]  # retransmitted by the authenticator
        assert peer.recv(1.0) is None  # max_retransmit reached
        peer.send(0, _eap(2, 0x42, b"\x0d\x00"))
        assert peer.recv()[2] == _eap(3, 0x42)  # type: ignore[index]
        sess = done.get(timeout=2)
        assert (sess.outcome, sess.identity, sess.error) == ("success", b"alice", None)
        peer.send(0, _eap(2, 0x42, b"\x0d\x00"))  # late duplicate after Success: discarded
        assert peer.recv(0.5) is None and len(calls) == 2
        # a restart gets a fresh Identity request; a backend error fails the peer with the Response's Identifier
        peer.send(1)
        y = peer.recv()[2][1]  # type: ignore[index]
        peer.send(0, _eap(2, y, b"\x01alice"))
        assert peer.recv()[2] == _eap(4, y)  # type: ignore[index]
        sess = done.get(timeout=2)
        assert sess.outcome == "failure" and isinstance(sess.error, RadiusTimeout)
        # a Start in the middle of a session abandons it (reported, so the backend can drop its state)
        peer.send(1)
        z = peer.recv()[2][1]  # type: ignore[index]
        peer.send(1)
        assert peer.recv()[2][1] != z  # type: ignore[index]  # the new Request does not look like a retransmission
        assert done.get(timeout=2).outcome == "abandoned" and done.empty()
    finally:
        peer.close()

        async def stop() -> None:
            relay.close()
        pos.call(stop())
