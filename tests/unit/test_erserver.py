"""The ER server (Debian's hostapd, testbed/daemons/erserver.py) and the ERP build of wpa_supplicant, end to end
on a wire: no radios, so on the host.

Two namespaces of our own joined by a veth pair: "auth" holds the ER server (RADIUS on its 127.0.0.1) and a
hostapd driver=wired authenticator on veth "au0" (erp_send_reauth_start=1); "peer" holds the ERP wpa_supplicant
(-D wired) on "pe0". A full EAP-TLS bootstraps the ERP keys; a re-authentication is then ERP; after ERP_FLUSH
on the server the ERP is refused, and a full EAP follows once the station drops its ERP keys.
"""
from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path
from typing import Iterator

import pytest

from testbed import network, wpabuild
from testbed.daemons.erserver import ErServer
from node_agents.hostap import parse_kv
from testbed.daemons.wpa import Hostapd, WpaSupplicant
from testbed.errors import DaemonError
from testbed.pki import generate

ERP_EXE = wpabuild.installed()
pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("hostapd") or ERP_EXE is None,
                       reason="needs root, hostapd and the ERP wpa_supplicant (make setup)"),
]

REALM, IDENTITY, SECRET = "erp.test", "sta@erp.test", "erp-test-secret"
FULL_OK = "CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully"
ERP_OK = "CTRL-EVENT-EAP-SUCCESS EAP re-authentication completed successfully"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Wire:
    """ER server + wired authenticator + ERP peer, started in that order."""

    def __init__(self, tmp: Path, auth_ns: str, peer_ns: str):
        pki = generate(tmp / "pki", "aaa.erp.test", [IDENTITY])
        port = _free_port()
        self.server = ErServer("er-server", tmp / "as", tmp / "as.log", netns=auth_ns, local_dir=tmp)
        self.server.render([("nas", "127.0.0.1/32", SECRET)], [IDENTITY], pki, REALM, auth_port=port)
        conf = tmp / "nas.conf"
        conf.write_text(f"interface=au0\ndriver=wired\nctrl_interface={tmp / 'nas'}\nlogger_stdout=-1\n"
                        "logger_stdout_level=2\nieee8021x=1\neapol_version=2\nuse_pae_group_addr=1\n"
                        f"own_ip_addr=127.0.0.1\nnas_identifier=nas.erp.test\nauth_server_addr=127.0.0.1\n"
                        f"auth_server_port={port}\nauth_server_shared_secret={SECRET}\n"
                        f"erp_domain={REALM}\nerp_send_reauth_start=1\n")
        self.nas = Hostapd("nas", netns=auth_ns, conf=conf, ctrl_dir=tmp / "nas", ifname="au0", log=tmp / "nas.log",
                           local_dir=tmp)
        cert, key = pki.clients[IDENTITY]
        sconf = tmp / "peer.conf"
        sconf.write_text(f"ctrl_interface={tmp / 'peer'}\nap_scan=0\nnetwork={{\n key_mgmt=IEEE8021X\n eapol_flags=0\n"
                         f" eap=TLS\n identity=\"{IDENTITY}\"\n ca_cert=\"{pki.ca_cert}\"\n"
                         f" client_cert=\"{cert}\"\n private_key=\"{key}\"\n erp=1\n disabled=1\n}}\n")
        self.peer = WpaSupplicant("peer", netns=peer_ns, conf=sconf, ctrl_dir=tmp / "peer", ifname="pe0",
                                  log=tmp / "peer.log", local_dir=tmp, driver="wired", exe=str(ERP_EXE))

    def start(self) -> None:
        self.server.start()
        self.nas.start()
        self.peer.start()
        self.peer.mark()
        self.peer.ok("ENABLE_NETWORK 0")  # disabled until now, so no event comes before the monitor attached

    def stop(self) -> None:
        for d in (self.peer, self.nas, self.server):
            d.stop()

    def reauthenticate(self, timeout: float = 20) -> list[str]:
        """The peer logs off; once the authenticator has seen that, it forgets the port's EAP state machine (so
        it sends Re-auth-Start again) and the peer logs on; returns the peer's events up to its EAP success."""
        mac = self.peer_mac
        logoffs = self._logoffs(mac)
        self.peer.ok("LOGOFF")
        deadline = time.monotonic() + 10  # a Logoff arriving after DEAUTHENTICATE would start a new machine
        while self._logoffs(mac) == logoffs:  # whose Re-auth-Start the logged-off peer drops
            assert time.monotonic() < deadline, "the authenticator never saw the EAPOL-Logoff"
            time.sleep(0.02)
        self.nas.ok(f"DEAUTHENTICATE {mac}")
        start = self.peer.mark()
        self.peer.ok("LOGON")
        self.peer.wait_event(["CTRL-EVENT-EAP-SUCCESS"], timeout=timeout)
        assert self.peer.mon is not None
        return [e.text for e in self.peer.mon.since(start)]

    def _logoffs(self, mac: str) -> int:
        sta = parse_kv(self.nas.request(f"STA {mac}"))
        return int(sta.get("dot1xAuthEapolLogoffFramesRx", -1))

    @property
    def peer_mac(self) -> str:
        return self.peer.status()["address"]


@pytest.fixture
def wire(tmp_path: Path) -> Iterator[Wire]:
    tag = f"mhterp{os.getpid() % 100000}"
    auth_ns, peer_ns = f"{tag}a", f"{tag}p"
    network.create_namespace(auth_ns)
    network.create_namespace(peer_ns)
    w = None
    try:
        network.add_veth(auth_ns, "au0", peer_ns, "pe0")
        w = Wire(tmp_path, auth_ns, peer_ns)
        yield w
    finally:
        if w is not None:
            w.stop()
        network.remove_namespace(auth_ns)
        network.remove_namespace(peer_ns)


def test_full_eap_bootstraps_erp_then_one_erp_exchange(wire: Wire) -> None:
    wire.start()
    assert wire.peer.request("GET_CAPABILITY erp").strip() == "ERP"
    ev = wire.peer.wait_event(["CTRL-EVENT-EAP-SUCCESS", "CTRL-EVENT-EAP-FAILURE"], timeout=30)
    assert ev.text.startswith(FULL_OK)
    assert len([d for d in wire.server.accepts() if d.accepted]) == 1

    texts = wire.reauthenticate()
    assert any(t.startswith(ERP_OK) for t in texts), texts
    assert not any(t.startswith("CTRL-EVENT-EAP-STARTED") for t in texts), texts  # no EAP method ran
    # the ER server answered once more: the ERP Access-Accept carrying EAP-Finish/Re-auth
    assert len([d for d in wire.server.accepts() if d.accepted]) == 2
    log = wire.server.log.read_text(errors="replace")
    assert "EAP-Finish/Re-auth" in log or "Re-auth" in log


def test_erp_keys_lost_at_server_refused_then_full_eap_after_station_flush(wire: Wire) -> None:
    """The ER server lost its keys (a restart does the same): it rejects the Re-auth (unknown keyName-NAI)
    without an EAP-Finish, so the authenticator's EAP-Failure (identifier 0) is discarded by wpa_supplicant 2.10,
    which keeps its ERP keys and would try ERP again. The testbed's fallback (testbed/erp.py) is the
    station's ERP_FLUSH: the next authentication is a full EAP, which bootstraps ERP again."""
    wire.start()
    assert wire.peer.wait_event(["CTRL-EVENT-EAP-SUCCESS"], timeout=30).text.startswith(FULL_OK)
    wire.server.erp_flush()
    with pytest.raises(DaemonError, match="timed out"):
        wire.reauthenticate(timeout=5)
    log = wire.server.log.read_text(errors="replace")
    assert "User-Name not found" in log  # the keyName-NAI of the Re-auth: no key for it any more
    assert len([d for d in wire.server.accepts() if d.accepted]) == 1  # only the first full EAP

    wire.peer.ok("ERP_FLUSH")
    texts = wire.reauthenticate()
    assert any(t.startswith(FULL_OK) for t in texts) and not any(t.startswith(ERP_OK) for t in texts), texts
    texts = wire.reauthenticate()  # re-bootstrapped: ERP again
    assert any(t.startswith(ERP_OK) for t in texts), texts
