"""Errors shown to the user as one line naming the cause (and the log to read).

They live with the agents because the agents raise them too (a daemon's control socket); the
orchestrator's own errors (testbed/errors.py) derive from MihsecError."""
from __future__ import annotations

from pathlib import Path


class MihsecError(Exception):
    """An error the CLI prints as a single line, without a traceback."""


class DaemonError(MihsecError):
    """A daemon failed to start, died, or did not answer."""

    def __init__(self, daemon: str, problem: str, log: Path | None = None):
        self.daemon, self.problem, self.log = daemon, problem, log
        where = f" (log: {log})" if log else ""
        super().__init__(f"{daemon}: {problem}{where}")
