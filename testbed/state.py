"""What a run created, recorded before it is created, so `mihsec down` can remove it after a crash.

Every run owns /run/mihsec/<run id>/ (sockets, state.json, secrets it needs at runtime)
and names its namespaces "mh<run id>-<node>", so leftovers can be found by prefix too.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_ROOT = Path(os.environ.get("MIHSEC_STATE_ROOT", "/run/mihsec"))
NS_PREFIX = "mh"


@dataclass
class Proc:
    pid: int
    name: str  # the daemon, e.g. "hostapd ap1"
    exe: str  # basename of the executable, checked before killing (pids get reused)


@dataclass
class RunState:
    run_id: str
    namespaces: list[str] = field(default_factory=list)
    processes: list[Proc] = field(default_factory=list)
    radios: list[str] = field(default_factory=list)  # hwsim radio names we created
    root_links: list[str] = field(default_factory=list)  # links created in the root namespace

    @property
    def dir(self) -> Path:
        return STATE_ROOT / self.run_id

    @classmethod
    def new(cls) -> "RunState":
        state = cls(secrets.token_hex(2))
        state.dir.mkdir(parents=True, exist_ok=False, mode=0o700)
        state.save()
        return state

    @classmethod
    def load(cls, path: Path) -> "RunState":
        raw = json.loads(path.read_text())
        raw["processes"] = [Proc(**p) for p in raw.get("processes", [])]
        return cls(**raw)

    def save(self) -> None:
        tmp = self.dir / "state.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(self.dir / "state.json")

    def ns_name(self, node: str) -> str:
        return f"{NS_PREFIX}{self.run_id}-{node}"

    def add_namespace(self, name: str) -> None:
        self.namespaces.append(name)
        self.save()

    def add_process(self, pid: int, name: str, exe: str) -> None:
        self.processes.append(Proc(pid, name, exe))
        self.save()

    def add_radio(self, name: str) -> None:
        self.radios.append(name)
        self.save()

    def add_root_link(self, name: str) -> None:
        self.root_links.append(name)
        self.save()

    def remove_dir(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def all_states() -> list[RunState]:
    states = []
    for path in sorted(STATE_ROOT.glob("*/state.json")):
        try:
            states.append(RunState.load(path))
        except (ValueError, TypeError, OSError):
            continue
    return states
