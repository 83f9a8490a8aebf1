"""A picture of a topology (PNG): domains as shaded boxes, nodes by role, wired links, wireless reach."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on test machines and in the VM
import matplotlib.pyplot as plt  # noqa: E402

from testbed.topology import AccessPoint, Station, Topology  # noqa: E402

STYLE = {  # role -> (marker, colour)
    "station": ("o", "#1f77b4"), "ap": ("^", "#d62728"), "nas": ("s", "#ff7f0e"), "aaa": ("D", "#9467bd"),
    "router": ("h", "#7f7f7f"), "host": ("p", "#2ca02c"), "pos": ("*", "#8c564b"), "switch": ("s", "#bcbd22"),
}


def _layout(t: Topology) -> dict[str, tuple[float, float]]:
    """Given positions where the file has them; the rest on a grid per domain (routers and core in the middle)."""
    pos: dict[str, tuple[float, float]] = {}
    groups: dict[str, list[str]] = {}
    for name, node in t.nodes.items():
        groups.setdefault(node.domain or "", []).append(name)
    for d in t.domains.values():
        groups.setdefault("", [])
    doms = [d for d in groups if d] or [""]
    for di, dom in enumerate(sorted(groups)):
        names = groups[dom] + [s for s, _ in [(d.switch, 0) for n, d in t.domains.items() if n == dom]]
        x0 = (sorted(doms).index(dom) if dom else len(doms) / 2 - 0.5) * 120
        y0 = 0 if dom else -110
        cols = max(1, math.ceil(math.sqrt(len(names))))
        for i, n in enumerate(names):
            pos[n] = (x0 + (i % cols) * 35, y0 + (i // cols) * 35)
    for sw in t.switches:
        pos.setdefault(sw, (len(pos) * 7 % 240, -150))
    for name, node in t.nodes.items():  # file positions win, offset into the node's domain column
        if node.position is not None and node.domain:
            base = sorted(doms).index(node.domain) * 120
            pos[name] = (base + node.position[0] * 0.8, node.position[1] * 0.8 + 60)
    return pos


def draw(t: Topology, out: Path) -> Path:
    pos = _layout(t)
    fig, ax = plt.subplots(figsize=(11, 7))
    for i, (dname, dom) in enumerate(sorted(t.domains.items())):
        members = [pos[n] for n, node in t.nodes.items() if node.domain == dname] + [pos[dom.switch]]
        xs, ys = zip(*members)
        ax.add_patch(plt.Rectangle((min(xs) - 18, min(ys) - 18), max(xs) - min(xs) + 36, max(ys) - min(ys) + 36,
                                   alpha=0.12, color=f"C{i}", zorder=0))
        ax.text(min(xs) - 15, max(ys) + 12, f"domain {dname}", fontsize=10, weight="bold")
    for link in t.links:
        other = link.switch or link.peer
        (x1, y1), (x2, y2) = pos[link.node], pos[other]
        ax.plot([x1, x2], [y1, y2], "-", color="#444", lw=1.2 if not link.dot1x_identity else 2.5, zorder=1)
        label = [str(link.ip.ip)] if link.ip else []
        if link.delay_ms:
            label.append(f"{link.delay_ms:g} ms")
        if link.dot1x_identity:
            label.append("802.1X")
        if label:
            ax.text((x1 + x2) / 2, (y1 + y2) / 2, ", ".join(label), fontsize=7, color="#333")
    aps = t.of_role(AccessPoint)
    for sname, sta in t.of_role(Station).items():
        for ap in aps:
            if sta.serving == ap or (sta.wireless and not sta.serving and len(aps) <= 4):
                (x1, y1), (x2, y2) = pos[sname], pos[ap]
                ax.plot([x1, x2], [y1, y2], ":", color="#1f77b4", lw=1.5, zorder=1)
    for name, node in t.nodes.items():
        marker, colour = STYLE.get(node.role, ("o", "k"))
        ax.scatter(*pos[name], s=260, marker=marker, color=colour, zorder=3, edgecolors="k")
        extra = f"\n{node.wireless[0].ssid} ch{node.wireless[0].channel}" if isinstance(node, AccessPoint) else ""
        ax.annotate(f"{name} ({node.role}){extra}", pos[name], xytext=(8, -14), textcoords="offset points",
                    fontsize=8)
    for sw in t.switches:
        marker, colour = STYLE["switch"]
        ax.scatter(*pos[sw], s=200, marker=marker, color=colour, zorder=3, edgecolors="k")
        ax.annotate(f"{sw} (switch)", pos[sw], xytext=(8, 6), textcoords="offset points", fontsize=8)
    ax.set_title(f"{t.name}: {t.description}" if t.description else t.name)
    ax.axis("off")
    ax.margins(0.12)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
