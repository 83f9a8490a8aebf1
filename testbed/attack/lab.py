"""A native lab (no radios): real MIH agent processes in network namespaces of our own, a real FreeRADIUS
behind the PoS, the MN's EAP peer a real wpa_supplicant (driver wired on a veth, as the testbed's), and an
attacker namespace on the same segment. The segment is a bridge with ageing_time 0: it floods every frame,
so the attacker sees MN <-> PoS traffic as on a shared medium.

    ns mn   10.98.0.1  agent (mn) + veth mpa0/mpa1 (EAP peer)
    ns pos  10.98.0.2  agent (pos), FreeRADIUS on 127.0.0.1, bridge br0
    ns atk  10.98.0.3  attacker
    ns poa  10.98.0.4  agent (poa, without hostapd: key installs fail, Push_Key is verified)

Everything it creates (namespaces, daemons, files holding keys) goes on close(), also after an error.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from node_agents.config import AgentConfig
from testbed.agents import AgentProcess
from testbed.daemons.freeradius import FreeRadius
from testbed.daemons.wpa import WpaSupplicant
from testbed.pki import Pki, generate

MN_MAC, BSSID_B = "02:00:00:00:0e:01", "02:00:00:00:0b:01"
IP = {"mn": "10.98.0.1", "pos": "10.98.0.2", "atk": "10.98.0.3", "poa": "10.98.0.4"}
MN, POS, POA = "mn@sec.test", "pos@sec.test", "poa-b@sec.test"
SERVER, PORT = "aaa.test", 4551


def _ip(*args: str, ns: str | None = None) -> None:
    subprocess.run((["ip", "-n", ns] if ns else ["ip"]) + list(args), check=True, capture_output=True, timeout=10)


class Lab:
    """Namespaces, FreeRADIUS and the EAP peer; agents come and go with start_agents()/stop_agents()."""

    def __init__(self, tag: str | None = None):
        self.tag = tag or f"mihsec-lab{os.getpid()}"
        self.ns = {r: f"{self.tag}-{r}" for r in ("mn", "pos", "poa", "atk")}
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.tag}-"))
        os.chmod(self.dir, 0o700)
        self.radius_secret = os.urandom(16).hex()  # drawn per lab, like the plan's
        self.push_key, self.sa_key = os.urandom(32).hex(), os.urandom(32).hex()
        self.radius: FreeRadius | None = None
        self.pki: Pki | None = None
        self.peer: WpaSupplicant | None = None
        self.agents: dict[str, AgentProcess] = {}
        self.protection: bool | None = None

    def __enter__(self) -> "Lab":
        try:
            self._net()
            self._daemons()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _net(self) -> None:
        for n in self.ns.values():
            _ip("netns", "add", n)
            _ip("link", "set", "lo", "up", ns=n)
        p = self.ns["pos"]
        _ip("link", "add", "br0", "type", "bridge", "ageing_time", "0", ns=p)  # floods: the attacker sniffs
        _ip("link", "set", "br0", "arp", "off", "up", ns=p)  # else br0 answers ARP for eth0's address too
        # the PoS on a port of its own: frames to the bridge's own address would not be flooded
        _ip("link", "add", "eth0", "type", "veth", "peer", "name", "vpos", ns=p)
        _ip("link", "set", "vpos", "master", "br0", "up", ns=p)
        _ip("addr", "add", f"{IP['pos']}/24", "dev", "eth0", ns=p)
        _ip("link", "set", "eth0", "up", ns=p)
        for r in ("mn", "poa", "atk"):
            _ip("link", "add", "eth0", "netns", self.ns[r], "type", "veth", "peer", "name", f"v{r}", "netns", p)
            _ip("link", "set", f"v{r}", "master", "br0", "up", ns=p)
            _ip("addr", "add", f"{IP[r]}/24", "dev", "eth0", ns=self.ns[r])
            _ip("link", "set", "eth0", "up", ns=self.ns[r])
        m = self.ns["mn"]
        _ip("link", "add", "mpa0", "type", "veth", "peer", "name", "mpa1", ns=m)
        _ip("link", "set", "mpa1", "address", MN_MAC, ns=m)
        for d in ("mpa0", "mpa1"):
            _ip("link", "set", d, "up", ns=m)

    def _daemons(self) -> None:
        self.pki = pki = generate(self.dir / "pki", SERVER, ["alice"])
        self.radius = FreeRadius("freeradius pos", self.dir / "radius" / "conf", netns=self.ns["pos"])
        self.radius.render([("pos", "127.0.0.0/8", self.radius_secret)], [("alice", "TLS", None)], pki,
                           "127.0.0.1", 1812)
        self.radius.start(timeout=30)
        d = self.dir / "peer"
        d.mkdir()
        cert, key = pki.clients["alice"]
        conf = d / "wpa.conf"
        conf.touch(mode=0o600)
        conf.write_text(f"ctrl_interface={d / 'ctrl'}\nap_scan=0\nnetwork={{\n\tkey_mgmt=IEEE8021X\n\teapol_flags=0\n"
                        f"\teap=TLS\n\tidentity=\"alice\"\n\tca_cert=\"{pki.ca_cert}\"\n\tdomain_match=\"{SERVER}\"\n"
                        f"\tclient_cert=\"{cert}\"\n\tprivate_key=\"{key}\"\n}}\n")
        self.peer = WpaSupplicant("mn", netns=self.ns["mn"], conf=conf, ctrl_dir=d / "ctrl", ifname="mpa1",
                                  log=d / "wpa.log", local_dir=d, driver="wired")
        self.peer.start(timeout=20)
        deadline = time.monotonic() + 10  # PREAUTH needs a current network block
        while self.peer.status().get("wpa_state") in (None, "DISCONNECTED", "SCANNING", "INACTIVE"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the EAP peer did not pick its network: {self.peer.status()}")
            time.sleep(0.1)

    def start_agents(self, protection: bool) -> None:
        self.stop_agents()
        self.protection = protection
        d = self.dir / ("agents-on" if protection else "agents-off")
        d.mkdir(mode=0o700, exist_ok=True)
        db = [{"ssid": "mihsec-b", "domain": "b", "akm": "WPA-EAP", "eap": ["TLS"], "subnet": None, "gateway": None,
               "pos": {"mihf_id": POS, "ip": IP["pos"]},
               "poas": [{"node": "apb", "bssid": BSSID_B, "channel": 6, "freq": 2437, "mihf_id": POA,
                         "ip": IP["poa"]}]}]
        common = {"mih_protection": protection}
        assert self.peer is not None
        cfgs = {
            "pos": AgentConfig("pos", "pos", POS, str(d / "pos.sock"), peers={POA: IP["poa"]},
                               retransmit_interval=1.0, transaction_lifetime=20.0,
                               extra={**common, "aaa_ip": "127.0.0.1", "radius_secret": self.radius_secret,
                                      "own_ip": IP["pos"], "nas_id": "pos.lab", "is_db": db,
                                      "push_keys": {POA: self.push_key}, "poa_ips": {POA: IP["poa"]},
                                      "sa_keys": {POA: self.sa_key}}),
            "poa": AgentConfig("poa", "poa", POA, str(d / "poa.sock"), peers={POS: IP["pos"]},
                               extra={**common, "bssid": BSSID_B, "is_db": db, "push_keys": {POS: self.push_key},
                                      "sa_keys": {POS: self.sa_key}}),
            "mn": AgentConfig("mn", "mn", MN, str(d / "mn.sock"), peers={POS: IP["pos"]},
                              retransmit_interval=1.0, transaction_lifetime=20.0,
                              extra={**common, "radio_mac": MN_MAC, "eap_peer_ctrl": str(self.peer.ctrl_path),
                                     "eap_peer_port": "mpa0", "net_ids": {"mihsec-b": 0},
                                     "is_server": {"mihf_id": POS, "ip": IP["pos"]}}),
        }
        for role in ("pos", "poa", "mn"):
            p = self.agents[role] = AgentProcess(cfgs[role], self.ns[role], d / f"{role}.json", d / f"{role}.log")
            p.start(timeout=30)

    def call(self, role: str, req: dict, timeout: float = 90.0) -> dict:
        return self.agents[role].call(req, timeout)

    def stats(self, role: str) -> dict:
        return self.call(role, {"cmd": "stats"})

    def stop_agents(self) -> None:
        for p in self.agents.values():
            p.stop()
        self.agents = {}

    def close(self) -> None:
        self.stop_agents()
        for d in (self.peer, self.radius):
            if d is not None:
                try:
                    d.stop()
                except Exception:  # keep tearing down
                    pass
        for n in self.ns.values():
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)  # PKI keys, RADIUS secret, agent configs with SA keys
