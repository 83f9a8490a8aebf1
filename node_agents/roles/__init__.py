"""What each kind of agent does beyond the common MIHF: mn, poa, pos."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from node_agents.agent import Agent
    from node_agents.mih import Incoming, Message


class Role:
    """Base: handles nothing. A role sees the agent (its MIHF, config, logger)."""

    def __init__(self, agent: "Agent"):
        self.agent = agent
        self.cfg = agent.cfg
        self.extra: dict[str, Any] = agent.cfg.extra

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def on_mih(self, inc: "Incoming") -> "Message | None | bool":
        """Return a response, None for 'handled, no response', or False for 'not mine'."""
        return False

    async def command(self, req: dict) -> dict | None:
        return None


def make_role(agent: "Agent") -> Role:
    role = agent.cfg.role
    if role == "poa":
        from node_agents.roles.poa import PoaRole
        return PoaRole(agent)
    if role == "mn":
        from node_agents.roles.mn import MnRole
        return MnRole(agent)
    if role == "pos":
        from node_agents.roles.pos import PosRole
        return PosRole(agent)
    return Role(agent)
