"""Deploy, watch and stop the MIH agents: one `python -m node_agents.agent` process per node namespace."""
from __future__ import annotations

import json
import os
import socket
import sys
from dataclasses import asdict
from pathlib import Path

from node_agents.agent import AgentConfig
from testbed import REPO_ROOT
from testbed.daemons.base import Daemon
from testbed.errors import DaemonError
from testbed.plan import AgentPlan
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

    def _spawn(self) -> None:
        os.environ.setdefault("PYTHONPATH", str(REPO_ROOT))  # the agent package, also when not installed
        super()._spawn()

    def call(self, request: dict, timeout: float = 30.0) -> dict:
        try:
            return control_call(Path(self.cfg.control), request, timeout)
        except OSError as e:
            raise DaemonError(self.name, f"control socket: {e}", self.log) from e

    def health(self, peers: bool = True) -> dict:
        return self.call({"cmd": "health", "peers": peers}, timeout=75.0)  # two MIH transactions per peer

    def start(self, timeout: float = 90.0) -> None:  # type: ignore[override]
        def ready() -> bool:
            return Path(self.cfg.control).exists() and self.health(peers=False).get("ok", False)

        super().start(ready, timeout)


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
