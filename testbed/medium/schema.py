"""The topology file's `medium:` section and per-station `mobility:` (pydantic), and the checks that need
the whole topology (positions, area). Mininet-WiFi's names: noise_th, txpower, antennaGain, antennaHeight,
min_x/min_y/max_x/max_y, model names and their parameters.

    medium:
      propagation: {model: logDistance, exp: 3}
      noise_th: -91
      txpower: 14            # defaults for every radio ...
      antennaGain: 5
      area: {min_x: 0, min_y: 0, max_x: 400, max_y: 100}
      radios:
        sta1: {txpower: 10}  # ... and per radio node
"""
from __future__ import annotations

from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from testbed.medium.mobility import Area, Waypoints, make_mobility
from testbed.medium.propagation import make_model

TXPOWER = {"ge": -20, "le": 40}  # dBm
GAIN = {"ge": -20, "le": 40}  # dBi
HEIGHT = {"gt": 0, "le": 1000}  # m


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AreaSpec(_Model):
    min_x: float = 0
    min_y: float = 0
    max_x: float
    max_y: float
    min_z: float | None = None
    max_z: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "AreaSpec":
        if self.max_x <= self.min_x or self.max_y <= self.min_y:
            raise ValueError("the area needs max_x > min_x and max_y > min_y")
        if self.min_z is not None and self.max_z is not None and self.max_z < self.min_z:
            raise ValueError("the area needs max_z >= min_z")
        return self

    def area(self) -> Area:
        return Area(**self.model_dump())


class RadioSpec(_Model):
    txpower: float | None = Field(None, **TXPOWER)
    antennaGain: float | None = Field(None, **GAIN)
    antennaHeight: float | None = Field(None, **HEIGHT)


class MediumSpec(_Model):
    propagation: dict[str, Any] = {"model": "logDistance"}
    noise_th: float = Field(-91, ge=-130, le=-40, description="noise floor, dBm")
    txpower: float = Field(14, **TXPOWER)
    antennaGain: float = Field(5, **GAIN)
    antennaHeight: float = Field(1, **HEIGHT)
    seed: int = Field(0, ge=0, description="seed of the loss draws")
    area: AreaSpec | None = None
    radios: dict[str, RadioSpec] = {}

    @field_validator("propagation")
    @classmethod
    def _model(cls, v: dict[str, Any]) -> dict[str, Any]:
        params = dict(v)
        make_model(params.pop("model", "logDistance"), params)
        return {"model": v.get("model", "logDistance"), **params}


def check_mobility(v: dict[str, Any] | None) -> dict[str, Any] | None:
    if v is not None:
        make_mobility(v)
    return v


def _radio_nodes(nodes: dict[str, Any]) -> dict[str, Any]:
    return {n: x for n, x in nodes.items() if x.role == "ap" or (x.role == "station" and x.wireless)}


def semantic_errors(medium: MediumSpec | None, nodes: dict[str, Any]) -> Iterable[tuple[tuple[object, ...], str]]:
    """(path, problem) pairs, as topology._semantic_errors reports them."""
    radios = _radio_nodes(nodes)
    if medium is None:
        for n, x in nodes.items():
            if getattr(x, "mobility", None) is not None:
                yield ("nodes", n, "mobility"), "mobility needs a `medium:` section"
        return
    area = medium.area.area() if medium.area else None
    for n in medium.radios:
        if n not in radios:
            yield ("medium", "radios", n), f"{n!r} is not a node with a radio (an ap, or a station with wireless)"
    for n, x in radios.items():
        if x.position is None:
            yield ("nodes", n), f"{x.role} {n!r} needs a `position` (the topology has a medium)"
        elif area is not None and not area.contains(x.position):
            yield ("nodes", n, "position"), f"{x.role} {n!r} at {list(x.position)} is outside the declared area"
        spec = getattr(x, "mobility", None)
        if spec is None:
            continue
        model = make_mobility(spec)
        if model.needs_area and area is None:
            yield ("nodes", n, "mobility"), f"{spec['model']} needs `medium.area` to move within"
        if isinstance(model, Waypoints) and area is not None:
            for i, w in enumerate(model.points):
                if not area.contains(w.position):
                    yield ("nodes", n, "mobility", "points", i), \
                        f"waypoint {list(w.position)} is outside the declared area"
