"""Configure, deploy, watch and stop the MIH agents: one `python -m node_agents.agent` process per node
namespace. Each agent's configuration comes from the plan plus what only the running network knows
(radio addresses, daemon sockets: `Running`)."""
from __future__ import annotations

import json
import os
import socket
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from node_agents.config import AgentConfig
from testbed import REPO_ROOT
from testbed.daemons.base import Daemon
from testbed.errors import DaemonError
from testbed.plan import AgentPlan, Plan
from testbed.state import RunState


def control_call(path: Path, request: dict, timeout: float = 30.0) -> dict:
    """One JSON request on an agent's control socket (JSON lines over a UNIX stream socket)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        s.sendall(json.dumps(request).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


class AgentProcess(Daemon):
    exe = "node_agents.agent"

    def __init__(self, cfg: AgentConfig, netns: str | None, conf_path: Path, log: Path,
                 state: RunState | None = None, verbose: bool = False):
        conf_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(conf_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # may hold keys (issue 5)
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(cfg), f, indent=1)
        argv = [sys.executable, "-m", "node_agents.agent", "--config", str(conf_path)] + (["-v"] if verbose else [])
        super().__init__(f"agent {cfg.node}", netns, argv, log, state)
        self.cfg = cfg

    def spawn(self) -> None:
        os.environ.setdefault("PYTHONPATH", str(REPO_ROOT))  # the agent package, also when not installed
        super().spawn()

    def call(self, request: dict, timeout: float = 30.0) -> dict:
        try:
            return control_call(Path(self.cfg.control), request, timeout)
        except OSError as e:
            raise DaemonError(self.name, f"control socket: {e}", self.log) from e

    def health(self, peers: bool = True) -> dict:
        return self.call({"cmd": "health", "peers": peers}, timeout=75.0)  # two MIH transactions per peer

    def start(self, timeout: float = 90.0) -> None:  # type: ignore[override]
        self.spawn()
        self.ready(timeout)

    def ready(self, timeout: float = 90.0) -> None:
        """After spawn(): wait until the agent answers on its control socket (see Daemon.wait_ready)."""
        self.wait_ready(lambda: Path(self.cfg.control).exists() and self.health(peers=False).get("ok", False),
                        timeout)


def agent_configs(agents: list[AgentPlan], run_dir: Path, pcap_dir: Path | None,
                  extras: dict[str, dict] | None = None) -> list[AgentConfig]:
    """Peers by role (MN <-> PoS, PoS <-> its domain's PoAs); `extras` carries each role's settings."""
    cfgs = []
    for a in agents:
        peers = {o.mihf_id: str(o.ip) for o in agents if o is not a and o.ip is not None and _talks_to(a, o)}
        cfgs.append(AgentConfig(node=a.node, role=a.role, mihf_id=a.mihf_id,
                                control=str(run_dir / "agents" / f"{a.node}.sock"),
                                peers=peers, pcap=str(pcap_dir / f"mih-{a.node}.pcap") if pcap_dir else None,
                                extra=(extras or {}).get(a.node, {})))
    return cfgs


def _talks_to(a: AgentPlan, b: AgentPlan) -> bool:
    """Who an agent signals with: MN <-> every PoS/IS; PoS <-> PoAs of its domain and MNs."""
    pair = {a.role, b.role}
    if pair in ({"mn", "pos"}, {"mn", "is"}):
        return True
    if pair == {"pos", "poa"}:
        return a.domain == b.domain
    return False


@dataclass
class Running:
    """What only the running network knows, for the agents: radio addresses and daemon control sockets."""
    bssids: dict[str, str] = field(default_factory=dict)  # AP node -> BSSID
    hostapd_ctrl: dict[str, str] = field(default_factory=dict)  # AP node -> its hostapd
    sta_macs: dict[str, str] = field(default_factory=dict)  # station -> radio MAC
    wpas_ctrl: dict[str, str] = field(default_factory=dict)  # station -> its radio's wpa_supplicant
    wired_ctrl: dict[str, str] = field(default_factory=dict)  # station -> its wired 802.1X supplicant
    eap_peer_ctrl: dict[str, str] = field(default_factory=dict)  # station -> its EAP peer for MIH pre-auth


def _is_server(plan: Plan, station: str, pos: dict[str, AgentPlan]) -> dict | None:
    """The MN's information server: the PoS of the domain it is attached to (its serving AP's, or its
    802.1X port's), else any PoS. How an MN finds its IS server (DHCP, DNS) is outside 802.21."""
    topo = plan.topology
    near = [s.serving for s in plan.stations if s.node == station]
    near += [w.peer for w in plan.wired_of(station) if w.peer]
    domains = [topo.nodes[n].domain for n in near if n in topo.nodes]
    p = next((p for d in domains for p in pos.values() if d and p.domain == d), None) or \
        next(iter(pos.values()), None)
    return {"mihf_id": p.mihf_id, "ip": str(p.ip)} if p else None


def _ess_subnet(plan: Plan, ap: str) -> tuple[str | None, str | None]:
    """The IPv4 subnet behind an AP (its DS) and the router on it, for the information service."""
    ip = plan.node_ip(ap)
    if ip is None:
        return None, None
    gw = next((w.ip for w in plan.wired if w.ip and w.ip.network == ip.network
               and plan.nodes.get(w.node) == "router"), None)
    return str(ip.network), str(gw.ip) if gw else None


def agent_extras(plan: Plan, run: Running) -> dict[str, dict]:
    """Role settings of each agent: daemon sockets, the information-service database, push keys."""
    agents = {a.node: a for a in plan.agents}
    poas = {a.node: a for a in plan.agents if a.role == "poa"}
    pos = {a.node: a for a in plan.agents if a.role == "pos"}
    push = plan.push_keys
    is_db = []  # one entry per ESS: what Get_Information answers
    for ssid in sorted({a.ssid for a in plan.aps}):
        members = [a for a in plan.aps if a.ssid == ssid]
        dom = plan.topology.nodes[members[0].node].domain
        dpos = next((p for p in pos.values() if p.domain == dom), None)
        subnet, gateway = _ess_subnet(plan, members[0].node)
        is_db.append({"ssid": ssid, "domain": dom, "akm": members[0].profile.akm,
                      "eap": [members[0].profile.eap], "subnet": subnet, "gateway": gateway,
                      "pos": {"mihf_id": dpos.mihf_id, "ip": str(dpos.ip)} if dpos else None,
                      "poas": [{"node": a.node, "bssid": run.bssids[a.node], "channel": a.channel,
                                "freq": a.freq, "mihf_id": agents[a.node].mihf_id if a.node in agents else None,
                                "ip": str(agents[a.node].ip) if a.node in agents else None}
                               for a in members]})
    extras: dict[str, dict] = {}
    for node, a in agents.items():
        if a.role == "poa":
            extras[node] = {"hostapd_ctrl": run.hostapd_ctrl.get(node), "bssid": run.bssids.get(node, ""),
                            "llauth_port": "mla0", "is_db": is_db,
                            "push_keys": {pos[p].mihf_id: k for (p, q), k in push.items() if q == node}}
        elif a.role == "pos":
            aaa = plan.aaa[0] if plan.aaa else None
            extras[node] = {"aaa_ip": str(aaa.ip) if aaa else None, "radius_secret": plan.radius_secret,
                            "own_ip": str(a.ip),
                            "nas_id": f"{node}.{plan.topology.name}", "is_db": is_db,
                            "push_keys": {poas[q].mihf_id: k for (p, q), k in push.items() if p == node},
                            "poa_ips": {poas[q].mihf_id: str(poas[q].ip) for (p, q) in push if p == node}}
        elif a.role == "mn" and node in run.sta_macs:
            sta = next(s for s in plan.stations if s.node == node)
            extras[node] = {"wpas_ctrl": run.wpas_ctrl[node], "radio_mac": run.sta_macs[node],
                            "radio_ifname": sta.ifname, "wired_ctrl": run.wired_ctrl.get(node),
                            "eap_peer_ctrl": run.eap_peer_ctrl.get(node), "eap_peer_port": "mpa0",
                            "net_ids": {s: i for i, n in enumerate(sta.networks) for s in n.ssids},
                            "identity": sta.identity,
                            "is_server": _is_server(plan, node, pos)}
    by_node = {a.node: a.mihf_id for a in plan.agents}
    for node in agents:
        x = extras.setdefault(node, {})
        x["mih_protection"] = plan.topology.mih_protection
        x["sa_keys"] = {by_node[q if p == node else p]: k for (p, q), k in plan.sa_keys.items() if node in (p, q)}
    return extras
