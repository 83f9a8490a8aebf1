"""Topology -> what the medium process needs: one radio per AP / wireless station, its position, tx power,
antenna gain and height, mobility; the propagation model and noise floor. Pure data."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from testbed.medium.schema import MediumSpec


@dataclass
class RadioPlan:
    node: str
    position: tuple[float, float, float]
    txpower: float
    antennaGain: float
    antennaHeight: float
    mobility: dict[str, Any] | None = None


@dataclass
class MediumPlan:
    propagation: dict[str, Any]
    noise_th: float
    seed: int
    area: dict[str, float | None] | None
    radios: list[RadioPlan]

    def config(self, macs: dict[str, str]) -> dict[str, Any]:
        """The medium process's configuration, once each node's radio MAC is known."""
        cfg = asdict(self)
        for r in cfg["radios"]:
            r["mac"] = macs[r["node"]]
        return cfg


def medium_plan(spec: MediumSpec | None, nodes: dict[str, Any]) -> MediumPlan | None:
    if spec is None:
        return None
    radios = []
    for name, node in nodes.items():
        if not (node.role == "ap" or (node.role == "station" and node.wireless)):
            continue
        own = spec.radios.get(name)
        pick = lambda key: getattr(own, key) if own and getattr(own, key) is not None else getattr(spec, key)  # noqa
        radios.append(RadioPlan(name, tuple(node.position), pick("txpower"), pick("antennaGain"),
                                pick("antennaHeight"), getattr(node, "mobility", None)))
    return MediumPlan(dict(spec.propagation), spec.noise_th, spec.seed,
                      spec.area.model_dump() if spec.area else None, radios)
