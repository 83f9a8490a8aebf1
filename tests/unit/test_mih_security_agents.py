"""MIH security in the running agents, natively (no radios): real agent processes (python -m node_agents.agent)
in network namespaces of our own, a real FreeRADIUS behind the PoS, the MN's EAP peer a real wpa_supplicant
(driver wired on a veth, as in the testbed). An attacker namespace on the same segment (a bridge that floods
every frame, so it sniffs MN <-> PoS traffic) forges, replays, bit-flips and floods MIH PDUs at the PoS and
PoA agents. Each attack runs with protection on (accepted must be 0) and off (accepted > 0: the test can fail).

Layout: ns mn (10.98.0.1, + veth mpa0/mpa1 for the EAP peer), pos (10.98.0.2, FreeRADIUS on 127.0.0.1),
poa (10.98.0.4, agent without hostapd), atk (10.98.0.3); all on bridge br0 in ns pos with ageing_time 0.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from node_agents.config import AgentConfig
from node_agents.mih import Message
from node_agents.mih.codec import encode
from node_agents.mih.compound import Alt
from node_agents.mih.samples import wifi
from testbed.agents import AgentProcess
from testbed.daemons.freeradius import FreeRadius
from testbed.daemons.wpa import WpaSupplicant
from testbed.pki import Pki, generate

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(os.geteuid() != 0 or not all(map(shutil.which, ("freeradius", "wpa_supplicant", "ip"))),
                       reason="needs root, freeradius, wpa_supplicant and iproute2"),
]

MN_MAC, BSSID_B = "02:00:00:00:0e:01", "02:00:00:00:0b:01"
IP = {"mn": "10.98.0.1", "pos": "10.98.0.2", "atk": "10.98.0.3", "poa": "10.98.0.4"}
MN, POS, POA = "mn@sec.test", "pos@sec.test", "poa-b@sec.test"
SECRET, SERVER, PORT = "pos-radius-secret", "aaa.test", 4551
PUSH_KEY, SA_KEY = "11" * 32, "22" * 32  # fixed in this test; the plan draws them per run
_libc = ctypes.CDLL(None, use_errno=True)


def _ip(*args: str, ns: str | None = None) -> None:
    subprocess.run((["ip", "-n", ns] if ns else ["ip"]) + list(args), check=True, capture_output=True, timeout=10)


def in_ns(ns: str, fn: Callable[[], Any]) -> Any:
    """fn() on a thread that entered namespace ns: sockets it makes live there."""
    out: list[Any] = []

    def run() -> None:
        fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, 0x40000000) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)
        out.append(fn())

    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    return out[0]


@pytest.fixture(scope="module")
def ns() -> Iterator[dict[str, str]]:
    tag = f"mihsec-sa{os.getpid()}"
    names = {r: f"{tag}-{r}" for r in ("mn", "pos", "poa", "atk")}
    try:
        for n in names.values():
            _ip("netns", "add", n)
            _ip("link", "set", "lo", "up", ns=n)
        p = names["pos"]
        _ip("link", "add", "br0", "type", "bridge", "ageing_time", "0", ns=p)  # floods: the attacker sniffs
        _ip("link", "set", "br0", "up", ns=p)
        # the PoS on a port of its own: frames to the bridge's own address would not be flooded
        _ip("link", "add", "eth0", "type", "veth", "peer", "name", "vpos", ns=p)
        _ip("link", "set", "vpos", "master", "br0", "up", ns=p)
        _ip("addr", "add", f"{IP['pos']}/24", "dev", "eth0", ns=p)
        _ip("link", "set", "eth0", "up", ns=p)
        for r in ("mn", "poa", "atk"):
            _ip("link", "add", "eth0", "netns", names[r], "type", "veth", "peer", "name", f"v{r}", "netns", p)
            _ip("link", "set", f"v{r}", "master", "br0", "up", ns=p)
            _ip("addr", "add", f"{IP[r]}/24", "dev", "eth0", ns=names[r])
            _ip("link", "set", "eth0", "up", ns=names[r])
        m = names["mn"]
        _ip("link", "add", "mpa0", "type", "veth", "peer", "name", "mpa1", ns=m)
        _ip("link", "set", "mpa1", "address", MN_MAC, ns=m)
        for d in ("mpa0", "mpa1"):
            _ip("link", "set", d, "up", ns=m)
        yield names
    finally:
        for n in names.values():
            subprocess.run(["ip", "netns", "del", n], capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    d = tmp_path_factory.mktemp("pki")
    try:
        yield generate(d, SERVER, ["alice"])
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def radius(ns: dict[str, str], pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeRadius]:
    rad = FreeRadius("freeradius pos", tmp_path_factory.mktemp("radius") / "conf", netns=ns["pos"])
    rad.render([("pos", "127.0.0.0/8", SECRET)], [("alice", "TLS", None)], pki, "127.0.0.1", 1812)
    try:
        rad.start(timeout=30)
        yield rad
    finally:
        rad.stop()
        shutil.rmtree(rad.conf_dir.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def eap_peer(ns: dict[str, str], pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WpaSupplicant]:
    d = tmp_path_factory.mktemp("peer")
    cert, key = pki.clients["alice"]
    conf = d / "wpa.conf"
    conf.touch(mode=0o600)
    conf.write_text(f"ctrl_interface={d / 'ctrl'}\nap_scan=0\nnetwork={{\n\tkey_mgmt=IEEE8021X\n\teapol_flags=0\n"
                    f"\teap=TLS\n\tidentity=\"alice\"\n\tca_cert=\"{pki.ca_cert}\"\n\tdomain_match=\"{SERVER}\"\n"
                    f"\tclient_cert=\"{cert}\"\n\tprivate_key=\"{key}\"\n}}\n")
    sup = WpaSupplicant("mn", netns=ns["mn"], conf=conf, ctrl_dir=d / "ctrl", ifname="mpa1", log=d / "wpa.log",
                        local_dir=d, driver="wired")
    try:
        sup.start(timeout=20)
        deadline = time.monotonic() + 10
        while sup.status().get("wpa_state") in (None, "DISCONNECTED", "SCANNING", "INACTIVE"):
            assert time.monotonic() < deadline, sup.status()
            time.sleep(0.1)
        yield sup
    finally:
        sup.stop()
        shutil.rmtree(d, ignore_errors=True)


class Agents:
    """PoS, PoA and MN agents as real processes, with protection on or off."""

    def __init__(self, ns: dict[str, str], d: Path, peer: WpaSupplicant, protection: bool):
        db = [{"ssid": "mihsec-b", "domain": "b", "akm": "WPA-EAP", "eap": ["TLS"], "subnet": None, "gateway": None,
               "pos": {"mihf_id": POS, "ip": IP["pos"]},
               "poas": [{"node": "apb", "bssid": BSSID_B, "channel": 6, "freq": 2437, "mihf_id": POA,
                         "ip": IP["poa"]}]}]
        common = {"mih_protection": protection}
        cfgs = {
            "pos": AgentConfig("pos", "pos", POS, str(d / "pos.sock"), peers={POA: IP["poa"]},
                               pcap=str(d / "pos.pcap"), retransmit_interval=1.0, transaction_lifetime=20.0,
                               extra={**common, "aaa_ip": "127.0.0.1", "radius_secret": SECRET, "own_ip": IP["pos"],
                                      "nas_id": "pos.sec", "is_db": db, "push_keys": {POA: PUSH_KEY},
                                      "poa_ips": {POA: IP["poa"]}, "sa_keys": {POA: SA_KEY}}),
            "poa": AgentConfig("poa", "poa", POA, str(d / "poa.sock"), peers={POS: IP["pos"]},
                               extra={**common, "bssid": BSSID_B, "is_db": db, "push_keys": {POS: PUSH_KEY},
                                      "sa_keys": {POS: SA_KEY}}),
            "mn": AgentConfig("mn", "mn", MN, str(d / "mn.sock"), peers={POS: IP["pos"]}, pcap=str(d / "mn.pcap"),
                              retransmit_interval=1.0, transaction_lifetime=20.0,
                              extra={**common, "radio_mac": MN_MAC, "eap_peer_ctrl": str(peer.ctrl_path),
                                     "eap_peer_port": "mpa0", "net_ids": {"mihsec-b": 0},
                                     "is_server": {"mihf_id": POS, "ip": IP["pos"]}}),
        }
        self.procs: dict[str, AgentProcess] = {}
        try:
            for role in ("pos", "poa", "mn"):
                p = self.procs[role] = AgentProcess(cfgs[role], ns[role], d / f"{role}.json", d / f"{role}.log")
                p.start(timeout=30)
        except BaseException:
            self.stop()
            raise

    def call(self, role: str, req: dict, timeout: float = 90.0) -> dict:
        return self.procs[role].call(req, timeout)

    def stats(self, role: str) -> dict:
        return self.call(role, {"cmd": "stats"})

    def stop(self) -> None:
        for p in self.procs.values():
            p.stop()


@pytest.fixture(scope="module", params=[True, False], ids=["protected", "clear"])
def agents(request: pytest.FixtureRequest, ns: dict[str, str], radius: FreeRadius, eap_peer: WpaSupplicant,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agents]:
    d = tmp_path_factory.mktemp("agents")
    a = Agents(ns, d, eap_peer, request.param)
    a.protection = request.param  # type: ignore[attr-defined]
    try:
        yield a
    finally:
        a.stop()
        keep = os.environ.get("MIHSEC_KEEP_LOGS")  # debugging: the agents' logs (no keys in them)
        if keep:
            for role in a.procs:
                shutil.copy(d / f"{role}.log", Path(keep) / f"{role}-{'protected' if request.param else 'clear'}.log")
        shutil.rmtree(d, ignore_errors=True)  # configs hold keys


# ---- the attacker ----
class Attacker:
    """UDP socket and a sniffer in the attacker's namespace."""

    def __init__(self, ns: str):
        self.udp: socket.socket = in_ns(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        self.udp.bind((IP["atk"], 0))
        self.raw: socket.socket = in_ns(ns, lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                                                   socket.htons(0x0800)))
        self.raw.bind(("eth0", 0x0800))
        self.raw.settimeout(0.2)

    def send(self, to: str, frame: bytes, count: int = 1) -> None:
        for _ in range(count):
            self.udp.sendto(frame, (IP[to], PORT))

    def sniff(self, src: str, dst: str, seconds: float) -> list[bytes]:
        """MIH frames from src to dst seen on the wire for `seconds`."""
        out, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                f = self.raw.recv(65535)
            except TimeoutError:
                continue
            ip = f[14:]
            ihl = (ip[0] & 15) * 4
            if ip[9] != 17 or socket.inet_ntoa(ip[12:16]) != IP[src] or socket.inet_ntoa(ip[16:20]) != IP[dst]:
                continue
            if struct.unpack("!H", ip[ihl + 2:ihl + 4])[0] != PORT:
                continue
            out.append(bytes(ip[ihl + 8:]))
        return out

    def close(self) -> None:
        self.udp.close()
        self.raw.close()


@pytest.fixture
def attacker(ns: dict[str, str]) -> Iterator[Attacker]:
    a = Attacker(ns["atk"])
    try:
        yield a
    finally:
        a.close()


def forged(name: str, src: str, dst: str, tid: int = 77, **fields: Any) -> bytes:
    return encode(Message.of(name, src=src, dst=dst, tid=tid, **fields))


def until(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


# ---- tests ----
def test_sa_established_with_real_eap_and_traffic_protected(agents: Agents, radius: FreeRadius) -> None:
    r = agents.call("mn", {"cmd": "discover"})  # Get_Information: needs the SA first (protection on)
    assert r["ok"], r
    sec = agents.call("pos", {"cmd": "health", "peers": False})["security"]
    mn_sec = agents.call("mn", {"cmd": "health", "peers": False})["security"]
    if agents.protection:  # type: ignore[attr-defined]
        assert radius.wait_decision("alice").accepted, "FreeRADIUS did not authenticate the MN's EAP peer"
        sas = [s for s in sec["sas"] if s["peer"] == MN]
        assert len(sas) == 1 and sas[0]["confirmed"], sec
        assert [s["said"] for s in mn_sec["sas"] if s["peer"] == POS] == [sas[0]["said"]]
        assert sec["received_protected"] >= 2 and mn_sec["received_protected"] >= 1
        assert agents.stats("pos")["sa"]["sa_established"] == 1
        assert not any(k.startswith("rx_") for k in sec), sec  # nothing refused in a clean exchange
        # the PoS <-> PoA SA from the per-run key is up on both ends
        assert [s["peer"] for s in sec["sas"] if s["confirmed"]].count(POA) == 1
        # keys never in the agents' logs; SAIDs may be
        for role in ("mn", "pos"):
            text = agents.procs[role].log.read_text()
            assert "MIH SA 0x" in text and SA_KEY not in text
    else:
        assert sec["sas"] == [] and not sec.get("received_protected")


def test_rekey_replaces_the_sa_and_traffic_goes_on(agents: Agents) -> None:
    if not agents.protection:  # type: ignore[attr-defined]  # plain 802.21: the PoS offers no SA at all
        r = agents.call("mn", {"cmd": "sa", "rekey": True})
        assert not r["ok"] and "no EAP-based MIH SA" in r["error"], r
        return
    agents.call("mn", {"cmd": "discover"})
    old = {s["said"] for s in agents.call("mn", {"cmd": "health", "peers": False})["security"]["sas"]
           if s["peer"] == POS}
    r = agents.call("mn", {"cmd": "sa", "rekey": True})
    assert r["ok"] and r["said"] not in old, r
    assert agents.call("mn", {"cmd": "discover"})["ok"]
    # the old SA ends after the grace period on both sides; the new one carries the traffic
    assert until(lambda: [s["said"] for s in agents.call("pos", {"cmd": "health", "peers": False})["security"]["sas"]
                          if s["peer"] == MN] == [r["said"]], 10)
    assert agents.call("mn", {"cmd": "discover"})["ok"]


def test_pro_auth_travels_protected_and_push_key_under_network_sa(agents: Agents) -> None:
    before = agents.stats("pos")
    r = agents.call("mn", {"cmd": "preauth", "mode": "eap_over_mih", "target": BSSID_B, "ssid": "mihsec-b",
                           "pos": POS, "pos_ip": IP["pos"], "timeout": 15})
    after = agents.stats("pos")
    # EAP went through the PoS to FreeRADIUS and was accepted; the key push reached the PoA, which has no
    # hostapd here (natively), so the install and therefore the pre-authentication fail at the very end
    assert after["pro_auth"] > before["pro_auth"] and after["accepts"] > before["accepts"], (r, after)
    poa = agents.stats("poa")
    assert poa["pushes_refused"] == 0  # the Push_Key verified (integrity, replay counter)
    if agents.protection:  # type: ignore[attr-defined]
        assert poa["security"]["received_protected"] >= 1 and not poa["security"].get("rx_dropped")
        assert after["security"]["received_protected"] > before["security"].get("received_protected", 0)


ATTACKS = ["forged Link_Going_Down", "forged MN_HO_Commit", "forged Pro_Auth", "forged Push_Key",
           "replayed protected PDU", "bit-flipped PDU"]


def _victim_counter(agents: Agents, attack: str) -> int:
    if attack == "forged Push_Key":
        s = agents.stats("poa")
        return s["pushes_refused"] + s["keys_installed"]
    s = agents.stats("pos")
    return {"forged Link_Going_Down": s["events"].get("Link_Going_Down", 0), "forged MN_HO_Commit": s["ho_commit"],
            "forged Pro_Auth": s["pro_auth"]}.get(attack, s["info"])


def _attack_frames(attacker: Attacker, agents: Agents, attack: str) -> tuple[str, list[bytes]]:
    if attack == "forged Link_Going_Down":
        return "pos", [forged("Link_Going_Down.indication", MN, POS, link_id=wifi(MN_MAC),
                              time_interval=100, link_going_down_reason="explicit_disconnect")]
    if attack == "forged MN_HO_Commit":
        return "pos", [forged("MN_HO_Commit.request", MN, POS, link_type="IEEE802_11",
                              target_network_info=Alt("link_addr", Alt("mac", BSSID_B)))]
    if attack == "forged Pro_Auth":
        return "pos", [forged("Pro_Auth.request", MN, POS, mn_mihf_id=MN, mn_link_addr=Alt("mac", MN_MAC),
                              poa=Alt("mac", BSSID_B), eap_payload=bytes.fromhex("0201000a01") + b"alice")]
    if attack == "forged Push_Key":
        return "poa", [forged("Push_Key.request", POS, POA, mn_link_addr=Alt("mac", "02:00:00:00:ee:ee"),
                              poa=Alt("mac", BSSID_B), key_name=bytes(16), wrapped_key=bytes(40), key_lifetime=60,
                              akm_suite=0x000FAC01, replay_counter=2**40, integrity_tag=bytes(16))]
    # capture a real MN -> PoS Get_Information on the wire, then replay it / flip a bit of its TID
    got: list[bytes] = []
    t = threading.Thread(target=lambda: got.extend(attacker.sniff("mn", "pos", 4)))
    t.start()
    time.sleep(0.3)
    assert agents.call("mn", {"cmd": "discover"})["ok"]
    t.join()
    gi = [f for f in got if len(f) > 8 and f[2:4] == b"\x44\x01"]  # SID 4 (IS), request, AID 1
    assert gi, f"sniffed no Get_Information among {len(got)} frames"
    frame = gi[0]
    if attack == "replayed protected PDU":
        return "pos", [frame]
    flipped = bytearray(frame)
    flipped[5] ^= 0x01  # the TID: authenticated data under protection, a new transaction without it
    return "pos", [bytes(flipped)]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack(agents: Agents, attacker: Attacker, attack: str) -> None:
    to, frames = _attack_frames(attacker, agents, attack)
    before = _victim_counter(agents, attack)
    drops_before = agents.stats(to)["security"].get("rx_dropped", 0)
    for f in frames:
        attacker.send(to, f)
    if agents.protection:  # type: ignore[attr-defined]
        assert until(lambda: agents.stats(to)["security"].get("rx_dropped", 0) >= drops_before + len(frames))
        assert _victim_counter(agents, attack) == before, f"{attack} accepted under protection"
    else:
        assert until(lambda: _victim_counter(agents, attack) > before), f"{attack} not accepted in the clear"
    assert agents.call("mn", {"cmd": "discover"})["ok"]  # the legitimate MN still gets served


def test_flood_is_counted_logged_once_and_service_goes_on(agents: Agents, attacker: Attacker) -> None:
    frame = forged("MN_HO_Commit.request", MN, POS, link_type="IEEE802_11",
                   target_network_info=Alt("link_addr", Alt("mac", BSSID_B)))
    before = agents.stats("pos")
    logged = agents.procs["pos"].log.read_text().count("dropped (rx_unprotected)")
    t0 = time.monotonic()
    attacker.send("pos", frame, count=2000)  # bounded: 2000 datagrams to our own namespace
    assert agents.call("mn", {"cmd": "discover"})["ok"]
    after = agents.stats("pos")
    if not agents.protection:  # type: ignore[attr-defined]
        assert until(lambda: agents.stats("pos")["ho_commit"] > before["ho_commit"])  # plain 802.21 takes them
        return
    dropped = after["security"].get("rx_unprotected", 0) - before["security"].get("rx_unprotected", 0)
    print(f"\nflood: 2000 forged PDUs in {time.monotonic() - t0:.2f} s, {dropped} dropped as unprotected, "
          f"{after['ho_commit'] - before['ho_commit']} accepted")
    assert after["ho_commit"] == before["ho_commit"] and dropped > 0
    log = agents.procs["pos"].log.read_text()
    assert log.count("dropped (rx_unprotected)") == logged + 1  # once per (peer, reason): not once per PDU
    assert log.count("refused") < 20
