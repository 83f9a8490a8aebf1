"""Turn a validated topology into a concrete plan: namespaces, interfaces, addresses, daemon inputs.

Pure data, no side effects: everything a run will create is decided here, so it can be shown
(`mihsec plan`) and tested without root.
"""
from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field

from testbed.errors import TopologyError
from testbed.topology import AaaServer, AccessPoint, SecurityProfile, Station, Topology

SWITCH_NS = "sw"  # all of a run's switches (bridges) live in one namespace of their own


def channel_freq(channel: int) -> int:
    if channel == 14:
        return 2484
    if channel <= 13:
        return 2407 + 5 * channel
    return 5000 + 5 * channel


@dataclass
class WiredIf:
    node: str
    ifname: str
    ip: ipaddress.IPv4Interface | None
    switch: str | None  # the bridge it plugs into, or None for a point-to-point link
    port: str  # the other end: port name in the switch namespace, or the peer's ifname
    peer: str | None = None


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


@dataclass
class StaPlan:
    node: str
    ifname: str
    ssid: str
    profile: SecurityProfile
    identity: str
    password: str  # for PEAP; generated per run, never in the topology file
    ip: ipaddress.IPv4Interface | None
    scan_freqs: list[int]


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
    counters: dict[str, int] = {}

    def next_ifname(node: str, wanted: str | None) -> str:
        if wanted:
            return wanted
        counters[node] = counters.get(node, -1) + 1
        return f"eth{counters[node]}"

    for i, link in enumerate(topo.links):
        a_if = next_ifname(link.node, link.name)
        if link.switch:
            plan.wired.append(WiredIf(link.node, a_if, link.ip, link.switch, port=f"{link.node}-{i}"))
        else:
            b_if = next_ifname(link.peer, None)
            plan.wired.append(WiredIf(link.node, a_if, link.ip, None, port=b_if, peer=link.peer))
            plan.wired.append(WiredIf(link.peer, b_if, link.peer_ip, None, port=a_if, peer=link.node))

    aaa_nodes = topo.of_role(AaaServer)
    for name in aaa_nodes:
        if plan.node_ip(name) is None:
            raise TopologyError(f"AAA node {name!r} has no IP address on any link")

    ap_freqs: dict[str, list[int]] = {}
    for name, ap in topo.of_role(AccessPoint).items():
        w = ap.wireless[0]
        prof = topo.security[w.security]
        ip = plan.node_ip(name)
        if ip is None:
            raise TopologyError(f"access point {name!r} has no IP address on its backhaul link")
        aaa_ip = plan.node_ip(prof.aaa)
        if aaa_ip.ip not in ip.network:
            raise TopologyError(f"access point {name!r} ({ip}) and its AAA {prof.aaa!r} ({aaa_ip}) are not on "
                                "one subnet; topology v1 has no routing")
        freq = channel_freq(w.channel)
        plan.aps.append(ApPlan(name, w.name, w.ssid, w.channel, freq, "g" if w.channel <= 14 else "a", prof,
                               bridge="br0", own_ip=ip.ip, aaa_ip=aaa_ip.ip, nas_id=f"{name}.{topo.name}"))
        ap_freqs.setdefault(w.ssid, []).append(freq)

    ssids = sorted(ap_freqs)
    for name, sta in topo.of_role(Station).items():
        for w in sta.wireless:
            prof = topo.security[w.security]
            ssid = next((a.ssid for a in plan.aps if a.profile == prof), ssids[0])
            plan.stations.append(StaPlan(name, w.name, ssid, prof, w.identity, secrets.token_urlsafe(12), w.ip,
                                         sorted(set(ap_freqs[ssid]))))

    for name in aaa_nodes:
        clients = [(a.node, str(a.own_ip)) for a in plan.aps if a.profile.aaa == name]
        users = [s for s in plan.stations if s.profile.aaa == name]
        plan.aaa.append(AaaPlan(name, plan.node_ip(name).ip, clients, users))
    return plan
