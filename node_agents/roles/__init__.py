"""What each kind of agent does beyond the common MIHF: mn, poa, pos (base.py: the interface).

An agent loads only its own role's module, by name: the roles pull in pyroute2, pyrad, the EAPOL
relay, and under TCG every such import adds seconds to each agent's start."""
from __future__ import annotations

import importlib

from node_agents.config import AgentConfig
from node_agents.mih import MihfEndpoint
from node_agents.mihsa import MihSecurity
from node_agents.secure import NetworkSas
from node_agents.roles.base import Role

ROLES = {"mn": "node_agents.roles.mn", "poa": "node_agents.roles.poa", "pos": "node_agents.roles.pos"}


def make_role(cfg: AgentConfig, mihf: MihfEndpoint, sec: MihSecurity, net: NetworkSas) -> Role:
    module = ROLES.get(cfg.role)
    cls: type[Role] = importlib.import_module(module).ROLE if module else Role
    return cls(cfg, mihf, sec, net)
