"""Turn a validated topology into a concrete plan: namespaces, interfaces, addresses, daemon inputs.

Pure data, no side effects: everything a run will create is decided here, so it can be shown
(`mihsec plan`) and tested without root.
"""
from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field

from testbed.channels import channel_freq
from testbed.errors import TopologyError
from testbed.medium.plan import MediumPlan, medium_plan
from testbed.routing import compute_routes, reachable
from testbed.topology import (AaaServer, AccessPoint, Link, Nas, PointOfService, Router, SecurityProfile, Station,
                              Topology)

SWITCH_NS = "sw"  # all of a run's switches (bridges) live in one namespace of their own


@dataclass
class WiredIf:
    node: str
    ifname: str
    ip: ipaddress.IPv4Interface | None
    switch: str | None  # the bridge it plugs into, or None for a point-to-point link
    port: str  # the other end: port name in the switch namespace, or the peer's ifname
    peer: str | None = None
    link: Link | None = None  # impairments and 802.1X settings


@dataclass
class NasPlan:
    """hostapd driver=wired on each port facing a station; the ports and the uplink share bridge br0."""
    node: str
    ports: list[str]
    profile: SecurityProfile
    bridge: str
    own_ip: ipaddress.IPv4Address
    aaa_ip: ipaddress.IPv4Address
    nas_id: str


@dataclass
class WiredSupplicant:
    """wpa_supplicant -D wired on a station's 802.1X-authenticated port."""
    node: str
    ifname: str
    nas: str
    profile: SecurityProfile
    identity: str
    password: str


@dataclass
class AgentPlan:
    node: str
    role: str  # mn | poa | pos | is
    mihf_id: str
    ip: ipaddress.IPv4Address | None
    domain: str | None


@dataclass
class ApPlan:
    node: str
    ifname: str
    ssid: str
    channel: int
    freq: int
    hw_mode: str
    profile: SecurityProfile
    bridge: str  # hostapd bridges the radio with the backhaul here
    own_ip: ipaddress.IPv4Address
    aaa_ip: ipaddress.IPv4Address
    nas_id: str
    # IEEE 802.11r, shared by the APs of one ESS and drawn per run (set in make_plan)
    mobility_domain: str = ""  # 4 hex digits
    ft_key: str = ""  # R0KH/R1KH key, 256 bits hex


@dataclass
class StaNetwork:
    """One network block of a station: the ESSs it covers with one set of credentials.

    ESSs sharing a security profile share one block without an SSID (it matches any SSID; the testbed
    always pins the BSSID): wpa_supplicant keys its PMKSA cache by network block, so a PMKSA made by
    pre-authentication while associated to one ESS is then usable at the AP of another.
    """
    ssid: str | None  # None: wildcard block for all of `ssids`
    ssids: list[str]
    profile: SecurityProfile
    scan_freqs: list[int]


@dataclass
class StaPlan:
    node: str
    ifname: str
    ssid: str  # the first network (id 0): the serving one when `serving` is set
    profile: SecurityProfile
    identity: str
    password: str  # for PEAP; generated per run, never in the topology file
    ip: ipaddress.IPv4Interface | None
    scan_freqs: list[int]
    networks: list[StaNetwork] = field(default_factory=list)
    serving: str | None = None  # AP node to associate with at bring-up

    def net_id(self, ssid: str) -> int:
        return next(i for i, n in enumerate(self.networks) if ssid in n.ssids)


@dataclass
class AaaPlan:
    node: str
    ip: ipaddress.IPv4Address
    clients: list[tuple[str, str]]  # (name, address) of each RADIUS client (an AP)
    users: list[StaPlan]


@dataclass
class Plan:
    topology: Topology
    radius_secret: str
    nodes: dict[str, str] = field(default_factory=dict)  # node -> role
    wired: list[WiredIf] = field(default_factory=list)
    aps: list[ApPlan] = field(default_factory=list)
    stations: list[StaPlan] = field(default_factory=list)
    aaa: list[AaaPlan] = field(default_factory=list)
    nas: list[NasPlan] = field(default_factory=list)
    wired_supplicants: list[WiredSupplicant] = field(default_factory=list)
    routes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # node -> [(network, gateway)]
    routers: set[str] = field(default_factory=set)
    agents: list[AgentPlan] = field(default_factory=list)
    positions: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # node -> x, y, z (m)
    # Push_Key keys, one per (PoS node, PoA node) of a domain, drawn per run, never in a topology file
    push_keys: dict[tuple[str, str], str] = field(default_factory=dict)
    medium: MediumPlan | None = None  # None: hwsim's built-in medium (every radio hears every other at -30 dBm)
    # MIH SA keys of network entities (stand-in for 802.21a's TLS mode, node_agents/secure/network.py): one per
    # pair that signals (PoS <-> PoA of its domain, PoA <-> PoA for LL_Auth), drawn per run
    sa_keys: dict[tuple[str, str], str] = field(default_factory=dict)

    def wired_of(self, node: str) -> list[WiredIf]:
        return [w for w in self.wired if w.node == node]

    def node_ip(self, node: str) -> ipaddress.IPv4Interface | None:
        ips = [w.ip for w in self.wired_of(node) if w.ip]
        return ips[0] if ips else None

    def ap(self, node: str) -> ApPlan:
        return next(a for a in self.aps if a.node == node)

    def station(self, node: str) -> StaPlan:
        return next(s for s in self.stations if s.node == node)


def make_plan(topo: Topology) -> Plan:
    plan = Plan(topo, radius_secret=secrets.token_hex(16))
    plan.nodes = {name: node.role for name, node in topo.nodes.items()}
    plan.positions = {name: node.position for name, node in topo.nodes.items() if node.position is not None}
    counters: dict[str, int] = {}

    def next_ifname(node: str, wanted: str | None) -> str:
        if wanted:
            return wanted
        counters[node] = counters.get(node, -1) + 1
        return f"eth{counters[node]}"

    for i, link in enumerate(topo.links):
        a_if = next_ifname(link.node, link.name)
        if link.switch:
            plan.wired.append(WiredIf(link.node, a_if, link.ip, link.switch, port=f"{link.node}-{i}", link=link))
        else:
            b_if = next_ifname(link.peer, None)
            plan.wired.append(WiredIf(link.node, a_if, link.ip, None, port=b_if, peer=link.peer, link=link))
            plan.wired.append(WiredIf(link.peer, b_if, link.peer_ip, None, port=a_if, peer=link.node, link=link))

    aaa_nodes = topo.of_role(AaaServer)
    for name in aaa_nodes:
        if plan.node_ip(name) is None:
            raise TopologyError(f"AAA node {name!r} has no IP address on any link")
    addrs: dict[str, list[ipaddress.IPv4Interface]] = {n: [w.ip for w in plan.wired_of(n) if w.ip] for n in topo.nodes}
    for name, sta in topo.of_role(Station).items():
        addrs[name] += [w.ip for w in sta.wireless if w.ip]
    plan.routers = set(topo.of_role(Router))
    plan.routes = compute_routes(addrs, plan.routers)

    def check_reach(src: str, dst_node: str, what: str) -> ipaddress.IPv4Address:
        dst = plan.node_ip(dst_node).ip
        if not reachable(plan.routes, addrs, src, dst):
            raise TopologyError(f"{what} {src!r} cannot reach {dst_node!r} ({dst}): no subnet or route in common")
        return dst

    ap_freqs: dict[str, list[int]] = {}
    for name, ap in topo.of_role(AccessPoint).items():
        w = ap.wireless[0]
        prof = topo.security[w.security]
        ip = plan.node_ip(name)
        if ip is None:
            raise TopologyError(f"access point {name!r} has no IP address on its backhaul link")
        aaa_ip = check_reach(name, prof.aaa, "access point")
        freq = channel_freq(w.channel)
        plan.aps.append(ApPlan(name, w.name, w.ssid, w.channel, freq, "g" if w.channel <= 14 else "a", prof,
                               bridge="br0", own_ip=ip.ip, aaa_ip=aaa_ip, nas_id=f"{name}.{topo.name}"))
        ap_freqs.setdefault(w.ssid, []).append(freq)
    for ssid in ap_freqs:  # one FT mobility domain and R0KH/R1KH key per ESS, never in a topology file
        md, ft_key = secrets.token_hex(2), secrets.token_hex(32)
        for a in plan.aps:
            if a.ssid == ssid:
                a.mobility_domain, a.ft_key = md, ft_key

    ssids = sorted(ap_freqs)
    for name, sta in topo.of_role(Station).items():
        for w in sta.wireless:
            prof = topo.security[w.security]
            first = plan.ap(sta.serving).ssid if sta.serving else \
                next((a.ssid for a in plan.aps if a.profile == prof), ssids[0])
            # one network block per set of credentials, the serving ESS's first
            order = [first] + [s for s in ssids if s != first]
            nets: list[StaNetwork] = []
            for s in order:
                prof_s = next(a.profile for a in plan.aps if a.ssid == s)
                same = next((n for n in nets if n.profile == prof_s), None)
                if same is None:
                    nets.append(StaNetwork(s, [s], prof_s, sorted(set(ap_freqs[s]))))
                else:
                    same.ssid, same.ssids = None, same.ssids + [s]
                    same.scan_freqs = sorted(set(same.scan_freqs) | set(ap_freqs[s]))
            plan.stations.append(StaPlan(name, w.name, first, nets[0].profile, w.identity,
                                         secrets.token_urlsafe(12), w.ip, nets[0].scan_freqs, nets, sta.serving))

    for name, nas in topo.of_role(Nas).items():
        prof = topo.security[nas.security]
        ports = [w for w in plan.wired_of(name) if w.peer and isinstance(topo.nodes[w.peer], Station)]
        ip = plan.node_ip(name)
        if not ports or ip is None:
            raise TopologyError(f"nas {name!r} needs a link to a station and an uplink with an IP address")
        plan.nas.append(NasPlan(name, [p.ifname for p in ports], prof, "br0", ip.ip,
                                check_reach(name, prof.aaa, "nas"), f"{name}.{topo.name}"))
        for p in ports:
            sta_if = next(w for w in plan.wired_of(p.peer) if w.peer == name)
            if sta_if.link and sta_if.link.dot1x_identity:
                plan.wired_supplicants.append(WiredSupplicant(p.peer, sta_if.ifname, name, prof,
                                                              sta_if.link.dot1x_identity, secrets.token_urlsafe(12)))

    for name in aaa_nodes:
        clients = [(a.node, str(a.own_ip)) for a in plan.aps if a.profile.aaa == name]
        clients += [(n.node, str(n.own_ip)) for n in plan.nas if n.profile.aaa == name]
        # points of service relay pre-authentication EAP to the AAA server: they are RADIUS clients too
        clients += [(p, str(plan.node_ip(p).ip)) for p in topo.of_role(PointOfService) if plan.node_ip(p)]
        users = [s for s in plan.stations if s.profile.aaa == name]
        users += [s for s in plan.wired_supplicants if s.profile.aaa == name]
        plan.aaa.append(AaaPlan(name, plan.node_ip(name).ip, clients, users))
    plan.agents = _agents(topo, plan, addrs)
    poas = [a for a in plan.agents if a.role == "poa"]
    plan.push_keys = {(p.node, q.node): secrets.token_hex(32) for p in plan.agents if p.role == "pos"
                      for q in poas if p.domain == q.domain}
    plan.medium = medium_plan(topo.medium, topo.nodes)
    plan.sa_keys = {**{pair: secrets.token_hex(32) for pair in plan.push_keys},
                    **{(p.node, q.node): secrets.token_hex(32) for i, p in enumerate(poas) for q in poas[i + 1:]}}
    return plan


_DEFAULT_AGENT = {"station": "mn", "ap": "poa", "nas": "poa", "pos": "pos"}


def _agents(topo: Topology, plan: Plan, addrs: dict[str, list[ipaddress.IPv4Interface]]) -> list[AgentPlan]:
    """Every node whose role implies an MIH agent (or that asks for one with `mih:`) gets one."""
    out = []
    for name, node in topo.nodes.items():
        role = (node.mih.role if node.mih and node.mih.role else None) or _DEFAULT_AGENT.get(node.role)
        if role is None:
            continue
        mihf_id = (node.mih.mihf_id if node.mih and node.mih.mihf_id else None) or f"{name}@{topo.name}"
        ips = addrs.get(name) or []
        out.append(AgentPlan(name, role, mihf_id, ips[0].ip if ips else None, node.domain))
    return out
