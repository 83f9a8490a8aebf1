"""Link impairments with tc netem inside a namespace (pyroute2): delay, jitter, loss, rate.

Egress only: impair both ends of a link for both directions. One root qdisc per interface, replaced
in place, so changing an impairment between two measurements never leaves an old one behind.
"""
from __future__ import annotations

import subprocess

from pyroute2 import NetNS
from pyroute2.netlink.exceptions import NetlinkError

from testbed.errors import SetupError


def _index(ns: NetNS, netns: str, ifname: str) -> int:
    found = ns.link_lookup(ifname=ifname)
    if not found:
        raise SetupError(f"cannot impair {ifname} in {netns}: no such interface")
    return found[0]


def set_netem(netns: str, ifname: str, delay_ms: float = 0, jitter_ms: float = 0, loss_pct: float = 0,
              rate_mbit: float | None = None) -> None:
    """Make `ifname`'s egress delay, jitter, drop and/or rate-limit packets (all zero: clear)."""
    if not (delay_ms or jitter_ms or loss_pct or rate_mbit):
        clear(netns, ifname)
        return
    if rate_mbit:
        # pyroute2 (0.9.7) cannot encode netem's rate attribute (an int fails to pack, "2.5mbit" to parse):
        # iproute2's tc can.
        argv = ["ip", "netns", "exec", netns, "tc", "qdisc", "replace", "dev", ifname, "root", "handle", "1:",
                "netem", "limit", "10000", "delay", f"{delay_ms:g}ms", f"{jitter_ms:g}ms", "loss",
                f"{loss_pct:g}%", "rate", f"{rate_mbit * 1000:.0f}kbit"]
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise SetupError(f"tc netem on {ifname} in {netns} failed: {r.stderr.strip()}")
        return
    kw: dict = {"delay": int(delay_ms * 1000), "jitter": int(jitter_ms * 1000), "loss": loss_pct, "limit": 10000}
    with NetNS(netns) as ns:
        idx = _index(ns, netns, ifname)
        try:
            ns.tc("replace", "netem", index=idx, root=True, handle="1:", **kw)
        except NetlinkError as e:
            raise SetupError(f"tc netem on {ifname} in {netns} failed: {e} (kernel without sch_netem?)") from e


def clear(netns: str, ifname: str) -> None:
    """Back to the interface's default qdisc; nothing to clear is fine."""
    with NetNS(netns) as ns:
        found = ns.link_lookup(ifname=ifname)
        if not found:
            return
        try:
            ns.tc("del", index=found[0], root=True)
        except NetlinkError:
            pass  # the default qdisc: nothing of ours there


def show(netns: str, ifname: str) -> list[dict]:
    """The root qdisc of `ifname`: [{"kind": "netem", "delay_ms": ..., "loss_pct": ...}] (for checks)."""
    from pyroute2.netlink.rtnl.tcmsg.common import tick_in_usec

    with NetNS(netns) as ns:
        idx = _index(ns, netns, ifname)
        out = []
        for q in ns.get_qdiscs(index=idx):
            if q.get("parent") != 0xFFFFFFFF:
                continue
            item = {"kind": q.get_attr("TCA_KIND")}
            opts = q.get_attr("TCA_OPTIONS")
            if item["kind"] == "netem" and opts is not None:
                item["delay_ms"] = round(opts.get("delay", 0) / tick_in_usec / 1000, 3)
                item["loss_pct"] = round(opts.get("loss", 0) * 100 / (2**32 - 1), 3)
            out.append(item)
        return out
