"""Link impairments with tc inside a namespace (pyroute2): netem for delay/jitter/loss, tbf for rate."""
from __future__ import annotations

from pyroute2 import NetNS
from pyroute2.netlink.exceptions import NetlinkError

from testbed.errors import SetupError


def set_netem(netns: str, ifname: str, delay_ms: float = 0, jitter_ms: float = 0, loss_pct: float = 0,
              rate_mbit: float | None = None) -> None:
    """Replace the root qdisc of `ifname` (egress only: impair both ends for both directions)."""
    clear(netns, ifname)
    if not (delay_ms or jitter_ms or loss_pct or rate_mbit):
        return
    with NetNS(netns) as ns:
        found = ns.link_lookup(ifname=ifname)
        if not found:
            raise SetupError(f"cannot impair {ifname} in {netns}: no such interface")
        idx = found[0]
        try:
            ns.tc("replace", "netem", index=idx, handle="1:", delay=int(delay_ms * 1000), jitter=int(jitter_ms * 1000),
                  loss=loss_pct, limit=10000)
            if rate_mbit:
                ns.tc("add", "tbf", index=idx, parent="1:", handle="2:", rate=f"{rate_mbit}mbit", burst=32 * 1024,
                      latency=50 * 1000)
        except NetlinkError as e:
            raise SetupError(f"tc on {ifname} in {netns} failed: {e} (kernel without sch_netem/sch_tbf?)") from e


def clear(netns: str, ifname: str) -> None:
    with NetNS(netns) as ns:
        found = ns.link_lookup(ifname=ifname)
        if not found:
            return
        try:
            ns.tc("del", index=found[0], handle="1:")
        except NetlinkError:
            pass  # no qdisc of ours: nothing to clear
