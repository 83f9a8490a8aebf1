"""The network being described: the same pydantic models as a topology file (testbed.topology), filled in
call by call and validated as one Topology, so a script and a YAML file are two front doors to one model."""
from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from testbed import topology as topo
from testbed.errors import TopologyError

Position = str | tuple[float, ...] | list[float] | None


def position(value: Position) -> tuple[float, float, float] | None:
    """Mininet-WiFi's "x,y,z" string (or "x,y"), or a sequence of 2-3 numbers."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    try:
        xyz = [float(p) for p in parts]
    except (TypeError, ValueError):
        raise TopologyError(f"position {value!r}: expected 'x,y,z' (metres), e.g. '10,0,0'") from None
    if len(xyz) not in (2, 3):
        raise TopologyError(f"position {value!r}: expected 2 or 3 coordinates, got {len(xyz)}")
    return (xyz[0], xyz[1], xyz[2] if len(xyz) == 3 else 0.0)


def name_of(x: Any) -> str:
    """Calls take node, switch and profile objects or their names."""
    return x if isinstance(x, str) else x.name


def checked(model: type[BaseModel], where: str, **fields: Any) -> BaseModel:
    """One part of the topology, validated at once so a bad keyword fails at the call that gave it."""
    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as e:
        problems = "; ".join(f"{_field(err['loc'])}: {err['msg']}" for err in e.errors())
        raise TopologyError(f"{where}: {problems}") from None


def _field(loc: tuple) -> str:
    """A node is checked inside a one-node Topology: name the node's own field, not nodes.<name>.<role>."""
    if loc[:1] == ("nodes",):
        loc = loc[3:] if len(loc) > 3 else ("name",)
    return ".".join(str(p) for p in loc) or "(top)"


class Spec:
    """The parts of one topology, in the order they were added."""

    def __init__(self, name: str, description: str = "", country: str | None = None, version: int = 2):
        self.head: dict[str, Any] = {"version": version, "name": name, "description": description, "country": country}
        self.security: dict[str, topo.SecurityProfile] = {}
        self.switches: dict[str, topo.Switch] = {}
        self.domains: dict[str, topo.Domain] = {}
        self.nodes: dict[str, BaseModel] = {}
        self.links: list[topo.Link] = []
        self.medium: BaseModel | None = None  # the wireless medium (testbed/medium), e.g. setPropagationModel()

    def claim(self, name: str, what: str) -> None:
        taken = {**{n: "node" for n in self.nodes}, **{s: "switch" for s in self.switches}}
        if name in taken:
            raise TopologyError(f"{what} {name!r}: the name is already used by a {taken[name]}")

    def data(self) -> dict[str, Any]:
        dump = lambda m: m.model_dump(mode="json", exclude_defaults=True)  # noqa: E731
        out = {k: v for k, v in self.head.items() if v not in (None, "")}
        out["security"] = {k: dump(v) for k, v in self.security.items()}
        out["switches"] = {k: dump(v) for k, v in self.switches.items()}
        out["domains"] = {k: dump(v) for k, v in self.domains.items()}
        out["nodes"] = {k: {"role": v.role, **dump(v)} for k, v in self.nodes.items()}
        out["links"] = [dump(link) for link in self.links]
        if self.medium is not None:
            out["medium"] = self.medium.model_dump(mode="json", exclude_none=True)
        return {k: v for k, v in out.items() if v or k in ("name", "nodes")}

    def topology(self) -> topo.Topology:
        return topo.validate(self.data(), f"network {self.head['name']!r}")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.data(), sort_keys=False, default_flow_style=None, width=120)

    @classmethod
    def of(cls, t: topo.Topology) -> "Spec":
        s = cls(t.name, t.description, t.country, t.version)
        s.security, s.switches, s.domains = dict(t.security), dict(t.switches), dict(t.domains)
        s.nodes, s.links = dict(t.nodes), list(t.links)
        s.medium = t.medium
        return s
