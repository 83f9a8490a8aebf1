"""An agent's configuration: written (0600) by the orchestrator, read by `python -m node_agents.agent`."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class AgentConfig:
    node: str
    role: str
    mihf_id: str
    control: str  # UNIX socket path for the orchestrator
    listen: str = "0.0.0.0"
    port: int = 4551
    peers: dict[str, str] = field(default_factory=dict)  # MIHF ID -> IP address
    pcap: str | None = None
    # A lost frame costs 2 s, not ODTONE's 5 s; the lifetime covers a PoS that waits for RADIUS retries
    # (3 x 2 s) and then for its own Push_Key transaction before it can answer a Pro_Auth.
    retransmit_interval: float = 2.0
    max_retransmissions: int = 3
    transaction_lifetime: float = 30.0
    extra: dict = field(default_factory=dict)  # role-specific settings (daemon sockets, keys, ...)

    @classmethod
    def load(cls, path: Path) -> "AgentConfig":
        return cls(**json.loads(path.read_text()))
