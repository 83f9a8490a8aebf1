"""What each kind of agent does beyond the common MIHF: mn, poa, pos (base.py: the interface)."""
from __future__ import annotations

from node_agents.config import AgentConfig
from node_agents.mih import MihfEndpoint
from node_agents.mihsa import MihSecurity
from node_agents.secure import NetworkSas
from node_agents.roles.base import Role
from node_agents.roles.mn import MnRole
from node_agents.roles.poa import PoaRole
from node_agents.roles.pos import PosRole

ROLES: dict[str, type[Role]] = {"mn": MnRole, "poa": PoaRole, "pos": PosRole}


def make_role(cfg: AgentConfig, mihf: MihfEndpoint, sec: MihSecurity, net: NetworkSas) -> Role:
    return ROLES.get(cfg.role, Role)(cfg, mihf, sec, net)
