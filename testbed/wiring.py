"""The wired part of a plan in namespaces: switches (bridges in one namespace), veth pairs, the bridge of
every AP and NAS, addresses, forwarding, netem impairments, and static routes."""
from __future__ import annotations

from collections.abc import Callable

from testbed import impair, network
from testbed.plan import SWITCH_NS, Plan


def build(plan: Plan, ns: Callable[[str], str]) -> None:
    """Switches, veth pairs, the bridges of APs and NASs, addresses, forwarding, link impairments."""
    for name, sw in plan.topology.switches.items():
        network.add_bridge(ns(SWITCH_NS), name, sw.stp)
    done: set[tuple[str, str]] = set()
    for w in plan.wired:
        if w.switch:
            network.add_veth(ns(w.node), w.ifname, ns(SWITCH_NS), w.port)
            network.enslave(ns(SWITCH_NS), w.port, w.switch)
        elif (w.peer, w.port) not in done:
            network.add_veth(ns(w.node), w.ifname, ns(w.peer), w.port)
            done.add((w.node, w.ifname))
    for node, role in plan.nodes.items():
        wired = plan.wired_of(node)
        if role in ("ap", "nas"):  # backhaul (and wired ports) join a bridge; hostapd adds the radio
            bridge = "br0"
            network.add_bridge(ns(node), bridge)
            # the PoA agent's port into its bridge (mla0 <-> mla1): LL_Auth frames enter and leave here
            network.add_veth(ns(node), "mla0", ns(node), "mla1")
            network.enslave(ns(node), "mla1", bridge)
            for w in wired:
                network.enslave(ns(node), w.ifname, bridge)
                if w.ip:
                    network.add_address(ns(node), bridge, w.ip)
        else:
            for w in wired:
                if w.ip:
                    network.add_address(ns(node), w.ifname, w.ip)
        if role == "router":
            network.enable_forwarding(ns(node))
        if role == "station":  # multi-homed MN: a subnet on a radio not yet associated must not attract replies
            for conf in ("all", "default"):
                network.sysctl(ns(node), f"net.ipv4.conf.{conf}.ignore_routes_with_linkdown", "1")
    impaired: set[tuple[str, str]] = set()
    for w in plan.wired:  # impairments on both ends, so both directions see them
        lk = w.link
        if lk and (lk.delay_ms or lk.jitter_ms or lk.loss_pct or lk.rate_mbit):
            other_ns = ns(SWITCH_NS) if w.switch else ns(w.peer)
            for end in {(ns(w.node), w.ifname), (other_ns, w.port)} - impaired:
                impair.set_netem(*end, lk.delay_ms, lk.jitter_ms, lk.loss_pct, lk.rate_mbit)
                impaired.add(end)


def add_routes(plan: Plan, ns: Callable[[str], str]) -> None:
    for node, routes in plan.routes.items():
        for dst, gw in routes:
            network.add_route(ns(node), dst, gw)
