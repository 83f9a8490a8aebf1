"""Namespaces, veths, bridges and addresses through pyroute2 (netlink, no shell)."""
from __future__ import annotations

import ipaddress
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pyroute2 import NetNS, netns

from testbed.errors import SetupError


def create_namespace(name: str) -> None:
    if name in netns.listnetns():
        raise SetupError(f"network namespace {name} already exists (leftover of a run? try `mihsec down`)")
    netns.create(name)
    with NetNS(name) as ns:
        ns.link("set", index=ns.link_lookup(ifname="lo")[0], state="up")


def remove_namespace(name: str) -> None:
    if name in netns.listnetns():
        netns.remove(name)


def namespace_pids(name: str) -> list[int]:
    """Processes whose network namespace is `name` (what `ip netns pids` does)."""
    try:
        ino = os.stat(f"/run/netns/{name}").st_ino
    except FileNotFoundError:
        return []
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.stat(proc / "ns" / "net").st_ino == ino:
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@contextmanager
def ns(name: str) -> Iterator[NetNS]:
    with NetNS(name) as handle:
        yield handle


def _index(handle: NetNS, ifname: str) -> int:
    found = handle.link_lookup(ifname=ifname)
    if not found:
        raise SetupError(f"interface {ifname} not found")
    return found[0]


def add_veth(ns_a: str, if_a: str, ns_b: str, if_b: str) -> None:
    with ns(ns_a) as a:
        a.link("add", ifname=if_a, kind="veth", peer={"ifname": if_b, "net_ns_fd": ns_b})
        a.link("set", index=_index(a, if_a), state="up")
    with ns(ns_b) as b:
        b.link("set", index=_index(b, if_b), state="up")


def add_bridge(ns_name: str, bridge: str, stp: bool = False) -> None:
    with ns(ns_name) as h:
        h.link("add", ifname=bridge, kind="bridge", br_stp_state=int(stp), br_forward_delay=0)
        h.link("set", index=_index(h, bridge), state="up")


def enslave(ns_name: str, ifname: str, bridge: str) -> None:
    with ns(ns_name) as h:
        h.link("set", index=_index(h, ifname), master=_index(h, bridge), state="up")


def add_address(ns_name: str, ifname: str, ip: ipaddress.IPv4Interface) -> None:
    with ns(ns_name) as h:
        h.addr("add", index=_index(h, ifname), address=str(ip.ip), prefixlen=ip.network.prefixlen)


def rename(ns_name: str, old: str, new: str) -> None:
    with ns(ns_name) as h:
        idx = _index(h, old)
        h.link("set", index=idx, state="down")
        h.link("set", index=idx, ifname=new)


def set_mac(ns_name: str, ifname: str, mac: str) -> None:
    with ns(ns_name) as h:
        idx = _index(h, ifname)
        h.link("set", index=idx, state="down")
        h.link("set", index=idx, address=mac)
        h.link("set", index=idx, state="up")


def set_up(ns_name: str, ifname: str) -> None:
    with ns(ns_name) as h:
        h.link("set", index=_index(h, ifname), state="up")


def add_route(ns_name: str, dst: str, gateway: str) -> None:
    with ns(ns_name) as h:
        h.route("add", dst=dst, gateway=gateway)


def sysctl(ns_name: str, key: str, value: str) -> None:
    """Namespaced sysctls (ip_forward, conf.*) are set from inside: /proc/sys shows the caller's namespace."""
    r = subprocess.run(["ip", "netns", "exec", ns_name, "sysctl", "-q", "-w", f"{key}={value}"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SetupError(f"cannot set {key} in {ns_name}: {r.stderr.strip()}")


def enable_forwarding(ns_name: str) -> None:
    sysctl(ns_name, "net.ipv4.ip_forward", "1")
