"""What every role is to the agent: it receives the agent's configuration, its MIHF and its MIH SAs, nothing more."""
from __future__ import annotations

from typing import Any

from node_agents.config import AgentConfig
from node_agents.mih import Incoming, Message, MihfEndpoint
from node_agents.mihsa import MihSecurity
from node_agents.secure import NetworkSas

EVENTS = frozenset({"Link_Up", "Link_Down", "Link_Going_Down", "Link_Detected"})  # what Capability_Discover offers


class Role:
    """Base: handles nothing."""

    def __init__(self, cfg: AgentConfig, mihf: MihfEndpoint, sec: MihSecurity, net: NetworkSas):
        self.cfg, self.mihf, self.sec = cfg, mihf, sec  # sec: the MIHF's SAs (disabled: protection off)
        self.net = net  # SAs with network peers (PoS <-> PoA, PoA <-> PoA): ensure() before sending
        self.extra: dict[str, Any] = cfg.extra

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def on_mih(self, inc: Incoming) -> Message | None | bool:
        """Return a response, None for 'handled, no response', or False for 'not mine'."""
        return False

    async def command(self, req: dict) -> dict | None:
        return None
