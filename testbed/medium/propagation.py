"""Propagation models as small plug-ins: each declares its parameters as a table (Mininet-WiFi names and
defaults) and computes a path loss in dB for one link. Received signal = Pt + Gt + Gr - path_loss.

Formulas (d in m, f in MHz, lambda = c/f):
  PLfs(d)            = 10 log10((4 pi d)^2 sL / lambda^2)                  free space (Friis), d = 0 -> 0.1
  friis              = PLfs(d)
  logDistance        = PLfs(ref_d) + 10 exp log10(d / ref_d)
  logNormalShadowing = logDistance + X,  X ~ N(0, variance) dB, drawn once per link and position pair,
                       from `seed` (Mininet-WiFi uses its `variance` as the standard deviation: so do we)
  twoRayGround       = PLfs(d) below the crossover dc = 4 pi ht hr / lambda, else 40 log10 d - 20 log10(ht hr)
  ITU                = 20 log10 f + N log10 d + lF nFloors - 28  (ITU-R P.1238 shape; N = pL if set, else
                       28 up to 16 m and 38 beyond, as Mininet-WiFi; nFloors fixed or from z / floor_height)
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, fields
from typing import ClassVar

C = 299_792_458.0


@dataclass(frozen=True)
class Param:
    name: str
    default: float
    lo: float
    hi: float
    unit: str
    doc: str


@dataclass(frozen=True)
class Link:
    """What a model sees of one transmitter -> receiver pair."""
    distance: float  # m
    freq: float  # MHz
    ht: float = 1.0  # antenna heights, m (twoRayGround)
    hr: float = 1.0
    dz: float = 0.0  # height difference, m (ITU floors)
    key: str = ""  # identifies the pair and positions, for seeded per-link draws


def free_space(d: float, freq: float, sL: float = 1.0) -> float:
    d = d if d > 0 else 0.1
    lam = C / (freq * 1e6)
    return 10 * math.log10((4 * math.pi * d) ** 2 * sL / lam ** 2)


@dataclass(frozen=True)
class Model:
    name: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()

    def path_loss(self, link: Link) -> float:
        raise NotImplementedError


@dataclass(frozen=True)
class Friis(Model):
    name: ClassVar[str] = "friis"
    params: ClassVar[tuple[Param, ...]] = (Param("sL", 1, 1, 100, "", "system loss factor (linear)"),)
    sL: float = 1

    def path_loss(self, link: Link) -> float:
        return free_space(link.distance, link.freq, self.sL)


@dataclass(frozen=True)
class LogDistance(Model):
    name: ClassVar[str] = "logDistance"
    params: ClassVar[tuple[Param, ...]] = (
        Param("exp", 3, 1, 8, "", "path loss exponent"),
        Param("ref_d", 1, 0.1, 1000, "m", "reference distance: free-space loss up to it"),
        Param("sL", 1, 1, 100, "", "system loss factor (linear)"),
    )
    exp: float = 3
    ref_d: float = 1
    sL: float = 1

    def path_loss(self, link: Link) -> float:
        d = max(link.distance, 0.1)
        return free_space(self.ref_d, link.freq, self.sL) + 10 * self.exp * math.log10(d / self.ref_d)


@dataclass(frozen=True)
class LogNormalShadowing(LogDistance):
    name: ClassVar[str] = "logNormalShadowing"
    params: ClassVar[tuple[Param, ...]] = LogDistance.params + (
        Param("variance", 2, 0, 30, "dB", "shadowing standard deviation (Mininet-WiFi's name)"),
        Param("seed", 0, 0, 2**31 - 1, "", "seed of the per-link draws"),
    )
    variance: float = 2
    seed: float = 0

    def path_loss(self, link: Link) -> float:
        rng = random.Random(f"{int(self.seed)}:{link.key}")  # same link, same place: same shadowing
        return super().path_loss(link) + rng.gauss(0.0, self.variance)


@dataclass(frozen=True)
class TwoRayGround(Model):
    name: ClassVar[str] = "twoRayGround"
    params: ClassVar[tuple[Param, ...]] = (Param("sL", 1, 1, 100, "", "system loss factor (linear)"),)
    sL: float = 1

    def path_loss(self, link: Link) -> float:
        d = max(link.distance, 0.1)
        crossover = 4 * math.pi * link.ht * link.hr / (C / (link.freq * 1e6))
        if d < crossover:
            return free_space(d, link.freq, self.sL)
        return 40 * math.log10(d) - 20 * math.log10(link.ht * link.hr)


@dataclass(frozen=True)
class Itu(Model):
    name: ClassVar[str] = "ITU"
    params: ClassVar[tuple[Param, ...]] = (
        Param("pL", 0, 0, 100, "", "power loss coefficient N (0: 28 up to 16 m, 38 beyond)"),
        Param("lF", 0, 0, 50, "dB", "floor penetration loss per floor"),
        Param("nFloors", 0, 0, 100, "", "floors between every pair (used when floor_height is 0)"),
        Param("floor_height", 0, 0, 20, "m", "if > 0: floors counted from the radios' z"),
    )
    pL: float = 0
    lF: float = 0
    nFloors: float = 0
    floor_height: float = 0

    def path_loss(self, link: Link) -> float:
        d = max(link.distance, 0.1)
        n = self.pL or (28 if d <= 16 else 38)
        floors = int(abs(link.dz) // self.floor_height) if self.floor_height > 0 else self.nFloors
        return 20 * math.log10(link.freq) + n * math.log10(d) + self.lF * floors - 28


MODELS: dict[str, type[Model]] = {m.name: m for m in (Friis, LogDistance, LogNormalShadowing, TwoRayGround, Itu)}


def make_model(name: str, values: dict[str, float] | None = None) -> Model:
    """A model from its name and parameters; ValueError names an unknown model or parameter, or a value out
    of its range."""
    cls = MODELS.get(name)
    if cls is None:
        raise ValueError(f"unknown propagation model {name!r} (known: {', '.join(MODELS)})")
    table = {p.name: p for p in cls.params}
    for key, value in (values or {}).items():
        p = table.get(key)
        if p is None:
            raise ValueError(f"{name} has no parameter {key!r} (it has: {', '.join(table) or 'none'})")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name}.{key} must be a number, not {value!r}")
        if not p.lo <= value <= p.hi:
            raise ValueError(f"{name}.{key} = {value} is out of range [{p.lo:g}, {p.hi:g}] {p.unit}".rstrip())
    assert {f.name for f in fields(cls)} == set(table), cls  # the table and the fields agree
    return cls(**(values or {}))


def rssi(model: Model, link: Link, txpower: float, gain_tx: float, gain_rx: float) -> float:
    """Received signal in dBm."""
    return txpower + gain_tx + gain_rx - model.path_loss(link)
