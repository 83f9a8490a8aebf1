"""Start, watch and stop one daemon process inside a network namespace."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

from testbed.errors import DaemonError
from testbed.state import RunState

# The log line most likely to say why a daemon died (hostapd: "Line 12: unknown ...").
_CAUSE = re.compile(r"(line \d+:|error|fail|invalid|unknown|could not|cannot|no such|unable)", re.I)


def log_cause(log: Path) -> str | None:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        if _CAUSE.search(line):
            return re.sub(r"^\d+\.\d+: ", "", line.strip())[:200]
    return lines[-1].strip()[:200] if lines else None


class Daemon:
    """A process run with `ip netns exec` (which also remounts /sys for the namespace)."""

    exe: str = ""

    def __init__(self, name: str, netns: str | None, argv: list[str], log: Path, state: RunState | None = None):
        self.name, self.netns, self.argv, self.log, self.state = name, netns, argv, log, state
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        cmd = (["ip", "netns", "exec", self.netns] if self.netns else []) + self.argv
        with open(self.log, "ab") as out:
            os.chmod(self.log, 0o600)
            try:
                self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
            except FileNotFoundError as e:
                raise DaemonError(self.name, f"executable not found: {e.filename} (run `make setup`)") from e
        if self.state:
            self.state.add_process(self.proc.pid, self.name, self.exe or os.path.basename(self.argv[0]))

    def start(self, ready: Callable[[], bool], timeout: float = 20.0) -> None:
        """Spawn, then poll `ready()` until it is true; a death or a timeout raises DaemonError."""
        self.spawn()
        self.wait_ready(ready, timeout)

    def wait_ready(self, ready: Callable[[], bool], timeout: float = 20.0) -> None:
        """Poll `ready()` of a spawned daemon. Several daemons spawned first and waited for in turn start side by
        side: their start-up (Python's under TCG: seconds) overlaps, with no thread to clean up after Ctrl-C."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (code := self.proc.poll()) is not None:
                cause = log_cause(self.log) or "no output"
                raise DaemonError(self.name, f"exited with status {code}: {cause}", self.log)
            try:
                if ready():
                    return
            except DaemonError:
                pass
            time.sleep(0.05)
        self.stop()
        raise DaemonError(self.name, f"not ready after {timeout:g} s", self.log)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if self.proc is not None and (code := self.proc.poll()) is not None:
            raise DaemonError(self.name, f"died with status {code}: {log_cause(self.log) or 'no output'}", self.log)

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
