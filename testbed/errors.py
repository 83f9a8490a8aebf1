"""Errors shown to the user as one line naming the cause (and the log to read)."""
from __future__ import annotations

from node_agents.errors import DaemonError, MihsecError

__all__ = ["MihsecError", "DaemonError", "TopologyError", "SetupError"]


class TopologyError(MihsecError):
    """A topology file is missing, malformed or inconsistent."""


class SetupError(MihsecError):
    """A required package, kernel image or host capability is missing."""
