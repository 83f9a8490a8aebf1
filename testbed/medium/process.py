"""The medium as seen from the orchestrator: start it (registered before any daemon), move nodes, read its
counters, stop it. If it dies during a run, the main thread gets a DaemonError (through SIGUSR1): without
it the kernel silently falls back to its built-in medium, and every result after that would be wrong.

    medium = start_medium(plan.medium, {"ap1": "02:00:00:00:00:00", ...}, state, results)
    medium.move("sta1", (120, 0, 0))
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from testbed import REPO_ROOT
from testbed.agents import control_call
from testbed.daemons.base import Daemon, log_cause
from testbed.errors import DaemonError
from testbed.medium.plan import MediumPlan
from testbed.state import RunState

log = logging.getLogger(__name__)


class MediumProcess(Daemon):
    exe = "testbed.medium"

    def __init__(self, config: dict[str, Any], results: Path, state: RunState):
        self.config_path = results / "conf" / "medium.json"
        self.frames = results / "medium.frames"
        self.control_path = state.dir / "medium.sock"
        argv = [sys.executable, "-m", "testbed.medium", "--config", str(self.config_path),
                "--control", str(self.control_path), "--log", str(self.frames)]
        super().__init__("medium", None, argv, results / "logs" / "medium.log", state)
        self.config = config
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None
        self._old_handler: Any = None

    def spawn(self) -> None:
        os.environ.setdefault("PYTHONPATH", str(REPO_ROOT))
        self.config_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(self.config, indent=1))
        super().spawn()

    def start(self, timeout: float = 120.0) -> None:  # type: ignore[override]
        """Returns once the medium is registered with mac80211_hwsim (python starts slowly under TCG)."""
        super().start(lambda: self.control_path.exists() and self.call({"cmd": "health"}).get("registered"),
                      timeout)
        if threading.current_thread() is threading.main_thread():
            self._old_handler = signal.signal(signal.SIGUSR1, self._died)
        self._watch = threading.Thread(target=self._watchdog, name="medium-watchdog", daemon=True)
        self._watch.start()

    def _watchdog(self) -> None:
        assert self.proc is not None
        while not self._stopping.wait(0.2):
            if self.proc.poll() is not None:
                log.error("medium died with status %s: %s", self.proc.returncode, log_cause(self.log))
                if self._old_handler is not None:
                    os.kill(os.getpid(), signal.SIGUSR1)
                return

    def _died(self, *_: object) -> None:
        code = self.proc.returncode if self.proc else None
        raise DaemonError(self.name, f"died during the run (status {code}: {log_cause(self.log) or 'no output'}); "
                                     "the radios fell back to hwsim's built-in medium, so the run is void", self.log)

    def call(self, request: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        try:
            reply = control_call(self.control_path, request, timeout)
        except OSError as e:
            self.check_alive()
            raise DaemonError(self.name, f"control socket: {e}", self.log) from e
        if not reply.get("ok"):
            raise DaemonError(self.name, f"{request.get('cmd')}: {reply.get('error')}", self.log)
        return reply

    # --- the API mobility and measurements use ----------------------------------------------------

    def move(self, node: str, position: tuple[float, float, float]) -> None:
        self.call({"cmd": "move", "node": node, "position": list(position)})

    def positions(self) -> dict[str, tuple[float, float, float]]:
        return {n: tuple(p) for n, p in self.call({"cmd": "positions"})["positions"].items()}  # type: ignore

    def signal(self, tx: str, rx: str, freq: int = 2412) -> float:
        """The model's signal (dBm) from `tx` to `rx` at their present positions."""
        return self.call({"cmd": "signal", "tx": tx, "rx": rx, "freq": freq})["signal"]

    def stats(self) -> dict[str, int]:
        return self.call({"cmd": "stats"})["counters"]

    def start_mobility(self) -> list[str]:
        """Run every station's `mobility:` model from now on; returns the nodes that move."""
        return self.call({"cmd": "mobility", "action": "start"})["moving"]

    def stop_mobility(self) -> None:
        self.call({"cmd": "mobility", "action": "stop"})

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._old_handler is not None:
            signal.signal(signal.SIGUSR1, self._old_handler)
            self._old_handler = None
        super().stop(timeout)
        self.control_path.unlink(missing_ok=True)


def start_medium(plan: MediumPlan | None, macs: dict[str, str], state: RunState,
                 results: Path) -> MediumProcess | None:
    """The network's hook: a running, registered medium, or None when the topology has no `medium:`."""
    if plan is None:
        return None
    medium = MediumProcess(plan.config(macs), results, state)
    medium.start()
    return medium
