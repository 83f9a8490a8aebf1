"""Running nodes: a plan brought up as namespaces, links, radios and daemons, and torn down again.

    with Network(plan, results_dir) as net:
        net.stations["sta1"].wpas.request("STATUS")

Everything created is recorded in a RunState first, so a crash leaves nothing `mihsec down`
cannot find; a normal exit, an exception or Ctrl-C tears it all down here.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyroute2 import IPRoute

from testbed import impair, network, pki as pkimod
from testbed.agents import AgentProcess, agent_configs
from testbed.capture import Tcpdump
from testbed.daemons.freeradius import FreeRadius
from testbed.daemons.wpa import Hostapd, WpaSupplicant
from testbed.errors import MihsecError
from testbed.hwsim import HwsimControl, Radio
from testbed.medium.process import MediumProcess, start_medium
from testbed.plan import SWITCH_NS, ApPlan, Plan, StaPlan
from testbed.render import render_to
from testbed.state import RunState

log = logging.getLogger(__name__)


@dataclass
class ApNode:
    plan: ApPlan
    netns: str
    radio: Radio
    hostapd: Hostapd | None = None

    @property
    def bssid(self) -> str:
        return self.radio.mac


@dataclass
class StationNode:
    plan: StaPlan
    netns: str
    radio: Radio
    wpas: WpaSupplicant | None = None

    @property
    def mac(self) -> str:
        return self.radio.mac


@dataclass
class Network:
    plan: Plan
    results: Path
    verbose: bool = False
    capture: bool = True
    # hostapd / wpa_supplicant config lines appended per node (tests use it to break a daemon on purpose)
    extra_conf: dict[str, list[str]] = field(default_factory=dict)

    state: RunState | None = None
    aps: dict[str, ApNode] = field(default_factory=dict)
    stations: dict[str, StationNode] = field(default_factory=dict)
    aaa: dict[str, FreeRadius] = field(default_factory=dict)
    tcpdump: Tcpdump | None = None
    switch_captures: list[Tcpdump] = field(default_factory=list)
    nas: dict[str, list[Hostapd]] = field(default_factory=dict)  # node -> one hostapd per wired port
    wired: dict[str, WpaSupplicant] = field(default_factory=dict)  # station -> its wired 802.1X supplicant
    eap_peers: dict[str, WpaSupplicant] = field(default_factory=dict)  # station -> EAP peer for MIH pre-auth
    agents: dict[str, AgentProcess] = field(default_factory=dict)
    with_agents: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    medium: MediumProcess | None = None  # the wireless medium, when the topology declares one
    _hwsim: HwsimControl | None = None

    @property
    def logs(self) -> Path:
        return self.results / "logs"

    @property
    def pcap(self) -> Path:
        return self.results / "hwsim0.pcap"

    def ns(self, node: str) -> str:
        assert self.state is not None
        return self.state.ns_name(node)

    # --- bring-up ------------------------------------------------------------------------

    def start(self) -> "Network":
        t0 = time.monotonic()
        if (self.results / "conf").exists():  # logs and decision logs would mix two runs
            raise MihsecError(f"results directory {self.results} already holds a run; choose another")
        self.results.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        self.state = RunState.new()
        try:
            self._build_links()
            self._build_radios()
            macs = {n: x.radio.mac for n, x in (self.aps | self.stations).items()}
            self.medium = start_medium(self.plan.medium, macs, self.state, self.results)  # before any daemon
            for sup in self.plan.wired_supplicants:  # one station address on every medium: PMKSAs are keyed
                if sup.node in self.stations:      # by it (before routes: a link going down drops them)
                    network.set_mac(self.ns(sup.node), sup.ifname, self.stations[sup.node].mac)
            self._add_routes()
            self.timings["network"] = time.monotonic() - t0
            t1 = time.monotonic()
            self._start_daemons()
            self.timings["daemons"] = time.monotonic() - t1
        except BaseException:
            self.stop()
            raise
        self.timings["bring_up"] = time.monotonic() - t0
        return self

    def _build_links(self) -> None:
        st = self.state
        assert st is not None
        for node in [SWITCH_NS, *self.plan.nodes]:
            st.add_namespace(self.ns(node))
            network.create_namespace(self.ns(node))
        for name, sw in self.plan.topology.switches.items():
            network.add_bridge(self.ns(SWITCH_NS), name, sw.stp)
        done: set[tuple[str, str]] = set()
        for w in self.plan.wired:
            if w.switch:
                network.add_veth(self.ns(w.node), w.ifname, self.ns(SWITCH_NS), w.port)
                network.enslave(self.ns(SWITCH_NS), w.port, w.switch)
            elif (w.peer, w.port) not in done:
                network.add_veth(self.ns(w.node), w.ifname, self.ns(w.peer), w.port)
                done.add((w.node, w.ifname))
        for node, role in self.plan.nodes.items():
            wired = self.plan.wired_of(node)
            if role in ("ap", "nas"):  # backhaul (and wired ports) join a bridge; hostapd adds the radio
                bridge = "br0"
                network.add_bridge(self.ns(node), bridge)
                # the PoA agent's port into its bridge (mla0 <-> mla1): LL_Auth frames enter and leave here
                network.add_veth(self.ns(node), "mla0", self.ns(node), "mla1")
                network.enslave(self.ns(node), "mla1", bridge)
                for w in wired:
                    network.enslave(self.ns(node), w.ifname, bridge)
                    if w.ip:
                        network.add_address(self.ns(node), bridge, w.ip)
            else:
                for w in wired:
                    if w.ip:
                        network.add_address(self.ns(node), w.ifname, w.ip)
            if role == "router":
                network.enable_forwarding(self.ns(node))
            if role == "station":  # multi-homed MN: a subnet on a radio not yet associated must not attract replies
                for conf in ("all", "default"):
                    network.sysctl(self.ns(node), f"net.ipv4.conf.{conf}.ignore_routes_with_linkdown", "1")
        impaired: set[tuple[str, str]] = set()
        for w in self.plan.wired:  # impairments on both ends, so both directions see them
            lk = w.link
            if lk and (lk.delay_ms or lk.jitter_ms or lk.loss_pct or lk.rate_mbit):
                other_ns = self.ns(SWITCH_NS) if w.switch else self.ns(w.peer)
                for end in {(self.ns(w.node), w.ifname), (other_ns, w.port)} - impaired:
                    impair.set_netem(*end, lk.delay_ms, lk.jitter_ms, lk.loss_pct, lk.rate_mbit)
                    impaired.add(end)

    def _add_routes(self) -> None:
        for node, routes in self.plan.routes.items():
            for dst, gw in routes:
                network.add_route(self.ns(node), dst, gw)

    def _build_radios(self) -> None:
        st = self.state
        assert st is not None
        self._hwsim = HwsimControl()
        wanted: list[tuple[str, str, object]] = [(a.node, a.ifname, a) for a in self.plan.aps]
        wanted += [(s.node, s.ifname, s) for s in self.plan.stations]
        for node, ifname, p in wanted:
            phy = f"{self.ns(node)}-{ifname}"
            st.add_radio(phy)
            radio = self._hwsim.new_radio(phy)
            self._hwsim.move_to_netns(radio, self.ns(node))
            network.rename(self.ns(node), radio.ifname, ifname)
            if isinstance(p, ApPlan):
                self.aps[node] = ApNode(p, self.ns(node), radio)
            else:
                assert isinstance(p, StaPlan)
                network.set_up(self.ns(node), ifname)
                network.sysctl(self.ns(node), f"net.ipv4.conf.{ifname}.ignore_routes_with_linkdown", "1")
                if p.ip:
                    network.add_address(self.ns(node), ifname, p.ip)
                self.stations[node] = StationNode(p, self.ns(node), radio)

    def _start_daemons(self) -> None:
        st = self.state
        assert st is not None
        conf = self.results / "conf"
        conf.mkdir(mode=0o700, exist_ok=True)
        ctrl_dir = st.dir / "ctrl"  # one directory per node: sockets are named after interfaces
        ctrl_dir.mkdir(mode=0o700)
        identities = [s.identity for s in self.plan.stations] + [s.identity for s in self.plan.wired_supplicants]
        pki = pkimod.generate(self.results / "pki", f"aaa.{self.plan.topology.name}", identities)

        if self.capture:
            with IPRoute() as ipr:  # hwsim0 sees every frame on the simulated medium
                idx = ipr.link_lookup(ifname="hwsim0")
                if idx:
                    ipr.link("set", index=idx[0], state="up")
                    self.tcpdump = Tcpdump("tcpdump hwsim0", None, "hwsim0", self.pcap, self.logs / "tcpdump.log",
                                           st)
                    self.tcpdump.start()

            for sw in self.plan.topology.switches:  # the DS: MIH and pre-authentication frames between domains
                t = Tcpdump(f"tcpdump {sw}", self.ns(SWITCH_NS), sw, self.results / f"{sw}.pcap",
                            self.logs / f"tcpdump-{sw}.log", st, bpf="udp port 4551 or ether proto 0x88c7")
                self.switch_captures.append(t)
                t.start()

        for a in self.plan.aaa:
            rad = FreeRadius(f"freeradius {a.node}", conf / a.node, netns=self.ns(a.node), verbose=self.verbose,
                             state=st)
            rad.log = self.logs / f"{a.node}.freeradius.log"
            rad.render(clients=[(name, f"{ip}/32", self.plan.radius_secret) for name, ip in a.clients],
                       users=[(u.identity, u.profile.eap, u.password if u.profile.eap == "PEAP" else None)
                              for u in a.users],
                       pki=pki, address="0.0.0.0")
            self.aaa[a.node] = rad
            rad.start()

        for node, ap in self.aps.items():
            path = render_to("hostapd.conf.j2", conf / f"{node}.hostapd.conf", ap=ap.plan, driver="nl80211",
                             ctrl_dir=ctrl_dir / node, verbose=self.verbose, radius_port=1812,
                             radius_secret=self.plan.radius_secret, extra_lines=self.extra_conf.get(node, []),
                             country=self.plan.topology.country)
            ap.hostapd = Hostapd(node, ap.netns, path, ctrl_dir / node, ap.plan.ifname, self.logs / f"{node}.hostapd.log",
                                 st.dir, st, self.verbose)
            ap.hostapd.start()

        for node, sta in self.stations.items():
            cert, key = pki.clients.get(sta.plan.identity, (None, None))
            path = render_to("wpa_supplicant.conf.j2", conf / f"{node}.wpa_supplicant.conf", sta=sta.plan,
                             ctrl_dir=ctrl_dir / node, pki=pki, client_cert=cert, client_key=key,
                             extra_lines=self.extra_conf.get(node, []))
            sta.wpas = WpaSupplicant(node, sta.netns, path, ctrl_dir / node, sta.plan.ifname,
                                     self.logs / f"{node}.wpa_supplicant.log", st.dir, st, self.verbose)
            sta.wpas.start()

        for n in self.plan.nas:
            self.nas[n.node] = []
            for port in n.ports:
                path = render_to("hostapd-wired.conf.j2", conf / f"{n.node}-{port}.hostapd.conf", nas=n, port=port,
                                 ctrl_dir=ctrl_dir / n.node, verbose=self.verbose, radius_port=1812,
                                 radius_secret=self.plan.radius_secret)
                h = Hostapd(n.node, self.ns(n.node), path, ctrl_dir / n.node, port,
                            self.logs / f"{n.node}-{port}.hostapd.log", st.dir, st, self.verbose)
                self.nas[n.node].append(h)
                h.start()

        for sup in self.plan.wired_supplicants:
            cert, key = pki.clients[sup.identity]
            path = render_to("wpa_supplicant-wired.conf.j2", conf / f"{sup.node}-{sup.ifname}.wpa_supplicant.conf",
                             sup=sup, ctrl_dir=ctrl_dir / sup.node, pki=pki, client_cert=cert, client_key=key)
            w = WpaSupplicant(sup.node, self.ns(sup.node), path, ctrl_dir / sup.node, sup.ifname,
                              self.logs / f"{sup.node}-{sup.ifname}.wpa_supplicant.log", st.dir, st, self.verbose,
                              driver="wired")
            self.wired[sup.node] = w
            w.start()
            # ap_scan=0: it authenticates on its own at start; a port is up once EAP succeeded
            w.wait_event(["CTRL-EVENT-EAP-SUCCESS", "CTRL-EVENT-CONNECTED"], timeout=60)

        for node, sta in self.stations.items():
            if sta.plan.serving:
                self.associate(node, sta.plan.serving)

        if any(a.role == "pos" for a in self.plan.agents):
            for node, sta in self.stations.items():
                self._start_eap_peer(node, sta, pki, conf, ctrl_dir)

        if self.with_agents and self.plan.agents:
            pcaps = self.results / "mih"
            pcaps.mkdir(exist_ok=True)
            (st.dir / "agents").mkdir(mode=0o700, exist_ok=True)
            for cfg in agent_configs(self.plan.agents, st.dir, pcaps, self._agent_extras()):
                a = AgentProcess(cfg, self.ns(cfg.node), conf / f"{cfg.node}.agent.json",
                                 self.logs / f"{cfg.node}.agent.log", st, self.verbose)
                self.agents[cfg.node] = a
                a.start()

    def _start_eap_peer(self, node: str, sta: StationNode, pki: pkimod.Pki, conf: Path, ctrl_dir: Path) -> None:
        """The MN's EAP peer for pre-authentication over MIH: wpa_supplicant (wired) on veth mpa1, whose
        other end (mpa0) belongs to the MN agent; same MAC as the radio, so PMKIDs bind to the radio."""
        st = self.state
        assert st is not None
        network.add_veth(self.ns(node), "mpa0", self.ns(node), "mpa1")
        network.set_mac(self.ns(node), "mpa1", sta.mac)
        cert, key = pki.clients[sta.plan.identity]
        path = render_to("wpa_supplicant-wired.conf.j2", conf / f"{node}-mpa1.wpa_supplicant.conf", sup=sta.plan,
                         ctrl_dir=ctrl_dir / node, pki=pki, client_cert=cert, client_key=key)
        w = WpaSupplicant(f"{node}-eap-peer", self.ns(node), path, ctrl_dir / node, "mpa1",
                          self.logs / f"{node}-mpa1.wpa_supplicant.log", st.dir, st, self.verbose, driver="wired")
        self.eap_peers[node] = w
        w.start()

    def _is_server(self, station: str, pos: dict) -> dict | None:
        """The MN's information server: the PoS of the domain it is attached to (its serving AP's, or its
        802.1X port's), else any PoS. How an MN finds its IS server (DHCP, DNS) is outside 802.21."""
        topo = self.plan.topology
        near = [self.plan.station(station).serving] if station in self.stations else []
        near += [w.peer for w in self.plan.wired_of(station) if w.peer]
        domains = [topo.nodes[n].domain for n in near if n in topo.nodes]
        p = next((p for d in domains for p in pos.values() if d and p.domain == d), None) or \
            next(iter(pos.values()), None)
        return {"mihf_id": p.mihf_id, "ip": str(p.ip)} if p else None

    def _ess_subnet(self, ap: str) -> tuple[str | None, str | None]:
        """The IPv4 subnet behind an AP (its DS) and the router on it, for the information service."""
        ip = self.plan.node_ip(ap)
        if ip is None:
            return None, None
        gw = next((w.ip for w in self.plan.wired if w.ip and w.ip.network == ip.network
                   and self.plan.nodes.get(w.node) == "router"), None)
        return str(ip.network), str(gw.ip) if gw else None

    def _agent_extras(self) -> dict[str, dict]:
        """Role settings of each agent: daemon sockets, the information-service database, push keys."""
        import secrets as _secrets

        plan, agents = self.plan, {a.node: a for a in self.plan.agents}
        poas = {a.node: a for a in plan.agents if a.role == "poa"}
        pos = {a.node: a for a in plan.agents if a.role == "pos"}
        push = {(p, q): _secrets.token_hex(32) for p in pos for q in poas if pos[p].domain == poas[q].domain}
        is_db = []  # one entry per ESS: what Get_Information answers
        for ssid in sorted({a.plan.ssid for a in self.aps.values()}):
            members = [a for a in self.aps.values() if a.plan.ssid == ssid]
            dom = plan.topology.nodes[members[0].plan.node].domain
            dpos = next((p for p in pos.values() if p.domain == dom), None)
            subnet, gateway = self._ess_subnet(members[0].plan.node)
            is_db.append({"ssid": ssid, "domain": dom, "akm": members[0].plan.profile.akm,
                          "eap": [members[0].plan.profile.eap], "subnet": subnet, "gateway": gateway,
                          "pos": {"mihf_id": dpos.mihf_id, "ip": str(dpos.ip)} if dpos else None,
                          "poas": [{"node": a.plan.node, "bssid": a.bssid, "channel": a.plan.channel,
                                    "freq": a.plan.freq, "mihf_id": agents[a.plan.node].mihf_id
                                    if a.plan.node in agents else None,
                                    "ip": str(agents[a.plan.node].ip) if a.plan.node in agents else None}
                                   for a in members]})
        extras: dict[str, dict] = {}
        for node, a in agents.items():
            if a.role == "poa":
                ap = self.aps.get(node)
                extras[node] = {"hostapd_ctrl": str(ap.hostapd.ctrl_path) if ap else None,
                                "bssid": ap.bssid if ap else "", "llauth_port": "mla0", "is_db": is_db,
                                "push_keys": {pos[p].mihf_id: k for (p, q), k in push.items() if q == node}}
            elif a.role == "pos":
                aaa = plan.aaa[0] if plan.aaa else None
                extras[node] = {"aaa_ip": str(aaa.ip) if aaa else None, "radius_secret": plan.radius_secret,
                                "own_ip": str(a.ip),
                                "nas_id": f"{node}.{plan.topology.name}", "is_db": is_db,
                                "push_keys": {poas[q].mihf_id: k for (p, q), k in push.items() if p == node},
                                "poa_ips": {poas[q].mihf_id: str(poas[q].ip) for (p, q) in push if p == node}}
            elif a.role == "mn" and node in self.stations:
                sta = self.stations[node]
                extras[node] = {"wpas_ctrl": str(sta.wpas.ctrl_path), "radio_mac": sta.mac,
                                "radio_ifname": sta.plan.ifname,
                                "wired_ctrl": str(self.wired[node].ctrl_path) if node in self.wired else None,
                                "eap_peer_ctrl": str(self.eap_peers[node].ctrl_path) if node in self.eap_peers
                                else None, "eap_peer_port": "mpa0",
                                "net_ids": {s: i for i, n in enumerate(sta.plan.networks) for s in n.ssids},
                                "identity": sta.plan.identity,
                                "is_server": self._is_server(node, pos)}
        return extras

    def associate(self, station: str, ap: str, timeout: float = 60.0) -> float:
        """Connect `station` to `ap` (full EAP the first time); returns the duration in seconds."""
        sta, target = self.stations[station], self.aps[ap]
        wpas = sta.wpas
        assert wpas is not None
        net_id = sta.plan.net_id(target.plan.ssid)
        wpas.scan([target.plan.freq])  # before pinning: see node_agents/roles/mn.py _handover
        wpas.set_network(net_id, "bssid", target.bssid)
        wpas.mark()
        t0 = time.monotonic()
        wpas.ok(f"SELECT_NETWORK {net_id}")
        ev = wpas.wait_event(["CTRL-EVENT-CONNECTED"], timeout)
        wpas.set_network(net_id, "bssid", "any")
        return ev.mono - t0

    # --- teardown -------------------------------------------------------------------------

    def footprint(self) -> tuple[int, int]:
        """Processes of this run (in its namespaces, or started by it) and their resident memory, MiB."""
        st = self.state
        assert st is not None
        pids = {p for n in st.namespaces for p in network.namespace_pids(n)} | {p.pid for p in st.processes}
        rss = 0
        for pid in pids:
            try:
                rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * 4096
            except (OSError, IndexError):
                pass  # gone meanwhile
        return len(pids), rss // 2**20

    def stop(self) -> None:
        """Idempotent; safe on a half-built network."""
        daemons = list(self.agents.values()) + list(self.wired.values()) + list(self.eap_peers.values())
        daemons += [h for hs in self.nas.values() for h in hs]
        daemons += [s.wpas for s in self.stations.values()] + [a.hostapd for a in self.aps.values()]
        daemons += list(self.aaa.values()) + [self.tcpdump] + self.switch_captures + [self.medium]
        for d in daemons:
            if d is not None:
                try:
                    d.stop()
                except Exception as e:  # keep tearing down the rest
                    log.warning("stopping %s: %s", d.name, e)
        if self._hwsim is not None:
            self._hwsim.close()  # destroys the radios
            self._hwsim = None
        if self.state is not None:
            for name in reversed(self.state.namespaces):
                network.remove_namespace(name)
            self.state.remove_dir()
            self.state = None

    def __enter__(self) -> "Network":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
