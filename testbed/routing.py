"""Static routes for a topology: hosts use a router on their subnet, routers learn the rest by BFS.

Pure data: input is each node's addresses and which nodes are routers; output is, per node,
a list of (destination network, gateway) with "0.0.0.0/0" for a default route.
"""
from __future__ import annotations

import ipaddress
from collections import deque

Net = ipaddress.IPv4Network
Ip = ipaddress.IPv4Interface


def compute_routes(addrs: dict[str, list[Ip]], routers: set[str]) -> dict[str, list[tuple[str, str]]]:
    nets_of = {n: {a.network for a in ips} for n, ips in addrs.items()}
    all_nets = set().union(*nets_of.values()) if nets_of else set()
    # router -> [(neighbour router, gateway ip on the shared network)]
    adj: dict[str, list[tuple[str, str]]] = {r: [] for r in routers}
    for r in routers:
        for other in routers - {r}:
            for a in addrs.get(other, []):
                if a.network in nets_of.get(r, set()):
                    adj[r].append((other, str(a.ip)))
                    break
    routes: dict[str, list[tuple[str, str]]] = {n: [] for n in addrs}
    for r in routers:
        via: dict[str, str] = {}  # router -> first-hop gateway from r
        queue = deque([(nb, gw) for nb, gw in adj[r]])
        seen = {r}
        while queue:
            node, gw = queue.popleft()
            if node in seen:
                continue
            seen.add(node)
            via[node] = gw
            queue.extend((nb, gw) for nb, _ in adj[node] if nb not in seen)
        for net in sorted(all_nets - nets_of.get(r, set())):
            owner = next((o for o in via if net in nets_of.get(o, set())), None)
            if owner is not None:
                routes[r].append((str(net), via[owner]))
    for node, ips in addrs.items():
        if node in routers:
            continue
        gw = next((str(a.ip) for ip in ips for rt in sorted(routers) for a in addrs.get(rt, [])
                   if a.network == ip.network), None)
        if gw is not None:
            routes[node].append(("0.0.0.0/0", gw))
    return routes


def reachable(routes: dict[str, list[tuple[str, str]]], addrs: dict[str, list[Ip]], src: str,
              dst: ipaddress.IPv4Address) -> bool:
    """Follow the routes hop by hop (longest prefix first) from `src` until `dst` is on a local subnet."""
    owner = {a.ip: n for n, ips in addrs.items() for a in ips}
    node = src
    for _ in range(16):
        if any(dst in a.network for a in addrs.get(node, [])):
            return True
        match = [(ipaddress.ip_network(net), gw) for net, gw in routes.get(node, [])
                 if dst in ipaddress.ip_network(net)]
        if not match:
            return False
        gw = max(match, key=lambda m: m[0].prefixlen)[1]
        node = owner.get(ipaddress.ip_address(gw), "")
    return False
