"""What every role is to the agent: it receives the agent's configuration and its MIHF, nothing more."""
from __future__ import annotations

from typing import Any

from node_agents.config import AgentConfig
from node_agents.mih import Incoming, Message, MihfEndpoint


class Role:
    """Base: handles nothing."""

    def __init__(self, cfg: AgentConfig, mihf: MihfEndpoint):
        self.cfg, self.mihf = cfg, mihf
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
