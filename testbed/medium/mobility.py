"""Mobility models as generators of positions, one every `step` seconds (Mininet-WiFi's shape, without its
global state): the first position yielded is the start (t = 0). Seeded: the same seed gives the same trace.

Models and parameters (Mininet-WiFi names where it has them):
  waypoints       points: [{position, time | speed}]: straight lines, arriving at `time` s (since the start)
                  or moving at `speed` m/s from the previous point; 0.1 s steps; ends at the last point
  linear          speed (m/s), angle (degrees, counter-clockwise from +x), duration (s, 0: until the area's edge)
  RandomWalk      min_v, max_v: a new direction and speed every step; reflected at the area's edges
  RandomWayPoint  min_v, max_v, max_wt: to a uniform random point at a uniform speed, then pause up to max_wt s
  GaussMarkov     velocity_mean, alpha (memory, 0..1), variance: speed and direction follow a Gauss-Markov
                  process (s_n = a s_n-1 + (1-a) mean + sqrt(1-a^2) N(0, variance)); reflected at the edges
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, fields
from typing import ClassVar, Iterator

from testbed.medium.propagation import Param

Vec = tuple[float, float, float]


@dataclass(frozen=True)
class Area:
    min_x: float
    min_y: float
    max_x: float
    max_y: float
    min_z: float | None = None
    max_z: float | None = None

    def contains(self, p: Vec) -> bool:
        ok = self.min_x <= p[0] <= self.max_x and self.min_y <= p[1] <= self.max_y
        if self.min_z is not None:
            ok = ok and p[2] >= self.min_z
        if self.max_z is not None:
            ok = ok and p[2] <= self.max_z
        return ok

    def reflect(self, x: float, y: float, vx: float, vy: float) -> tuple[float, float, float, float]:
        """Bounce a point (and its velocity) back inside the x/y bounds."""
        for _ in range(4):
            if x < self.min_x:
                x, vx = 2 * self.min_x - x, -vx
            elif x > self.max_x:
                x, vx = 2 * self.max_x - x, -vx
            if y < self.min_y:
                y, vy = 2 * self.min_y - y, -vy
            elif y > self.max_y:
                y, vy = 2 * self.max_y - y, -vy
        return min(max(x, self.min_x), self.max_x), min(max(y, self.min_y), self.max_y), vx, vy


@dataclass(frozen=True)
class Waypoint:
    position: Vec
    time: float | None = None
    speed: float | None = None


@dataclass(frozen=True)
class Mobility:
    name: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    needs_area: ClassVar[bool] = True
    step: float = 0.5

    def positions(self, start: Vec, area: Area | None, rng: random.Random) -> Iterator[Vec]:
        raise NotImplementedError


@dataclass(frozen=True)
class Waypoints(Mobility):
    name: ClassVar[str] = "waypoints"
    needs_area: ClassVar[bool] = False
    points: tuple[Waypoint, ...] = ()
    step: float = 0.1

    def schedule(self, start: Vec) -> list[tuple[float, Vec]]:
        """(arrival time, position) of each leg's end, the start first."""
        out, t, here = [(0.0, start)], 0.0, start
        for w in self.points:
            if w.time is not None:
                t = w.time
            else:
                assert w.speed is not None and w.speed > 0
                t += math.dist(here, w.position) / w.speed
            out.append((t, w.position))
            here = w.position
        return out

    def positions(self, start: Vec, area: Area | None, rng: random.Random) -> Iterator[Vec]:
        legs = self.schedule(start)
        end = legs[-1][0]
        n = 0
        while True:
            t = n * self.step
            yield _at(legs, t)
            if t >= end:
                return
            n += 1


def _at(legs: list[tuple[float, Vec]], t: float) -> Vec:
    for (t0, p0), (t1, p1) in zip(legs, legs[1:]):
        if t <= t1:
            if t1 <= t0:  # a jump (two points at the same time)
                return p1
            if t <= t0:
                return p0
            f = (t - t0) / (t1 - t0)
            return tuple(a + (b - a) * f for a, b in zip(p0, p1))  # type: ignore[return-value]
    return legs[-1][1]


@dataclass(frozen=True)
class Linear(Mobility):
    name: ClassVar[str] = "linear"
    needs_area: ClassVar[bool] = False
    params: ClassVar[tuple[Param, ...]] = (
        Param("speed", 1, 0, 100, "m/s", "speed"),
        Param("angle", 0, -360, 360, "deg", "direction, counter-clockwise from +x"),
        Param("duration", 0, 0, 86400, "s", "how long it moves (0: until the area's edge)"),
        Param("step", 0.1, 0.01, 10, "s", "time between positions"),
    )
    speed: float = 1
    angle: float = 0
    duration: float = 0
    step: float = 0.1

    def positions(self, start: Vec, area: Area | None, rng: random.Random) -> Iterator[Vec]:
        a = math.radians(self.angle)
        vx, vy = self.speed * math.cos(a), self.speed * math.sin(a)
        n = 0
        while True:
            t = n * self.step
            p = (start[0] + vx * t, start[1] + vy * t, start[2])
            if area is not None and not area.contains(p):
                return
            yield p
            if (self.duration and t >= self.duration) or (area is None and not self.duration) or self.speed == 0:
                return
            n += 1


@dataclass(frozen=True)
class RandomWalk(Mobility):
    name: ClassVar[str] = "RandomWalk"
    params: ClassVar[tuple[Param, ...]] = (
        Param("min_v", 1, 0, 100, "m/s", "lowest speed"),
        Param("max_v", 1, 0, 100, "m/s", "highest speed"),
        Param("step", 0.5, 0.01, 10, "s", "time between positions (and direction changes)"),
        Param("seed", 0, 0, 2**31 - 1, "", "random seed"),
    )
    min_v: float = 1
    max_v: float = 1
    seed: float = 0

    def positions(self, start: Vec, area: Area | None, rng: random.Random) -> Iterator[Vec]:
        assert area is not None
        x, y, z = start
        while True:
            yield (x, y, z)
            a, v = rng.uniform(0, 2 * math.pi), rng.uniform(self.min_v, self.max_v)
            x, y, _, _ = area.reflect(x + v * math.cos(a) * self.step, y + v * math.sin(a) * self.step, 0, 0)


@dataclass(frozen=True)
class RandomWayPoint(Mobility):
    name: ClassVar[str] = "RandomWayPoint"
    params: ClassVar[tuple[Param, ...]] = (
        Param("min_v", 1, 0.01, 100, "m/s", "lowest speed"),
        Param("max_v", 1, 0.01, 100, "m/s", "highest speed"),
        Param("max_wt", 0, 0, 3600, "s", "longest pause at a waypoint"),
        Param("step", 0.5, 0.01, 10, "s", "time between positions"),
        Param("seed", 0, 0, 2**31 - 1, "", "random seed"),
    )
    min_v: float = 1
    max_v: float = 1
    max_wt: float = 0
    seed: float = 0

    def positions(self, start: Vec, area: Area | None, rng: random.Random) -> Iterator[Vec]:
        assert area is not None
        x, y, z = start
        yield (x, y, z)
        while True:
            tx, ty = rng.uniform(area.min_x, area.max_x), rng.uniform(area.min_y, area.max_y)
            v = rng.uniform(self.min_v, self.max_v)
            left = math.hypot(tx - x, ty - y)
            while left > 1e-9:
                hop = min(v * self.step, left)
                x, y = x + (tx - x) * hop / left, y + (ty - y) * hop / left
                left -= hop
                yield (x, y, z)
            for _ in range(int(rng.uniform(0, self.max_wt) / self.step)):
                yield (x, y, z)


@dataclass(frozen=True)
class GaussMarkov(Mobility):
    name: ClassVar[str] = "GaussMarkov"
    params: ClassVar[tuple[Param, ...]] = (
        Param("velocity_mean", 1, 0, 100, "m/s", "mean speed"),
        Param("alpha", 0.75, 0, 1, "", "memory: 0 random each step, 1 constant velocity"),
        Param("variance", 1, 0, 100, "", "variance of the speed and direction innovations"),
        Param("step", 0.5, 0.01, 10, "s", "time between positions"),
        Param("seed", 0, 0, 2**31 - 1, "", "random seed"),
    )
    velocity_mean: float = 1
    alpha: float = 0.75
    variance: float = 1
    seed: float = 0

    def positions(self, start: Vec, area: Area | None, rng: random.Random) -> Iterator[Vec]:
        assert area is not None
        x, y, z = start
        a, sd = self.alpha, math.sqrt(self.variance)
        mean_d = rng.uniform(0, 2 * math.pi)
        v, d = self.velocity_mean, mean_d
        while True:
            yield (x, y, z)
            vx, vy = v * math.cos(d) * self.step, v * math.sin(d) * self.step
            x, y, rvx, rvy = area.reflect(x + vx, y + vy, vx, vy)
            if (rvx, rvy) != (vx, vy):  # bounced: head the other way on average too
                d = mean_d = math.atan2(rvy, rvx)
            v = abs(a * v + (1 - a) * self.velocity_mean + math.sqrt(1 - a * a) * rng.gauss(0, sd))
            d = a * d + (1 - a) * mean_d + math.sqrt(1 - a * a) * rng.gauss(0, sd)


MODELS: dict[str, type[Mobility]] = {m.name: m for m in (Waypoints, Linear, RandomWalk, RandomWayPoint, GaussMarkov)}


def make_mobility(spec: dict) -> Mobility:
    """A model from a `mobility:` mapping ({model: name, <params>}); ValueError names what is wrong."""
    spec = dict(spec)
    name = spec.pop("model", None)
    cls = MODELS.get(name)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown mobility model {name!r} (known: {', '.join(MODELS)})")
    if cls is Waypoints:
        return _waypoints(spec)
    table = {p.name: p for p in cls.params}
    for key, value in spec.items():
        p = table.get(key)
        if p is None:
            raise ValueError(f"{name} has no parameter {key!r} (it has: {', '.join(table)})")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name}.{key} must be a number, not {value!r}")
        if not p.lo <= value <= p.hi:
            raise ValueError(f"{name}.{key} = {value} is out of range [{p.lo:g}, {p.hi:g}] {p.unit}".rstrip())
    if "min_v" in table and spec.get("min_v", 1) > spec.get("max_v", 1):
        raise ValueError(f"{name}: min_v must not exceed max_v")
    assert {f.name for f in fields(cls)} == set(table), cls
    return cls(**spec)


def _waypoints(spec: dict) -> Waypoints:
    pts = spec.pop("points", None)
    if spec:
        raise ValueError(f"waypoints has no parameter {next(iter(spec))!r} (it has: points)")
    if not isinstance(pts, list) or not pts:
        raise ValueError("waypoints needs `points`: a list of {position: [x, y, z], time: s | speed: m/s}")
    out, last_t = [], 0.0
    for i, p in enumerate(pts):
        if not isinstance(p, dict) or set(p) - {"position", "time", "speed"} or "position" not in p:
            raise ValueError(f"waypoints.points[{i}] must be {{position: [x, y, z], time: s | speed: m/s}}")
        pos = p["position"]
        if not (isinstance(pos, (list, tuple)) and len(pos) == 3 and all(isinstance(c, (int, float)) for c in pos)):
            raise ValueError(f"waypoints.points[{i}].position must be [x, y, z]")
        t, v = p.get("time"), p.get("speed")
        if (t is None) == (v is None):
            raise ValueError(f"waypoints.points[{i}] needs exactly one of `time` or `speed`")
        if t is not None and (not isinstance(t, (int, float)) or t < last_t):
            raise ValueError(f"waypoints.points[{i}].time = {t} must be a number >= the previous time ({last_t:g})")
        if v is not None and (not isinstance(v, (int, float)) or not 0 < v <= 1000):
            raise ValueError(f"waypoints.points[{i}].speed = {v} is out of range (0, 1000] m/s")
        last_t = t if t is not None else last_t
        out.append(Waypoint(tuple(float(c) for c in pos), t, v))  # type: ignore[arg-type]
    return Waypoints(points=tuple(out))


def trace(model: Mobility, start: Vec, area: Area | None, seed: int, limit: int) -> list[Vec]:
    """The first `limit` positions (tests, plots)."""
    gen = model.positions(start, area, random.Random(seed))
    return [p for _, p in zip(range(limit), gen)]


class Runner:
    """Runs models on a clock the caller passes in: which nodes are where, when. The medium process ticks it;
    tests tick it with made-up times."""

    def __init__(self) -> None:
        self.moving: dict[str, tuple[Iterator[Vec], float, float]] = {}  # node -> (positions, step, next due)

    def start(self, node: str, model: Mobility, start: Vec, area: Area | None, now: float) -> None:
        rng = random.Random(f"{int(getattr(model, 'seed', 0))}:{node}")  # per node: one seed, many stations
        self.moving[node] = (model.positions(start, area, rng), model.step, now)

    def stop(self) -> None:
        self.moving.clear()

    def due(self) -> float | None:
        return min((d for _, _, d in self.moving.values()), default=None)

    def tick(self, now: float) -> list[tuple[str, Vec]]:
        """The positions due by `now` (the latest per node); finished models drop out."""
        moves: dict[str, Vec] = {}
        for node, (gen, step, due) in list(self.moving.items()):
            while due <= now:
                try:
                    moves[node] = next(gen)
                except StopIteration:
                    del self.moving[node]
                    break
                due += step
                self.moving[node] = (gen, step, due)
        return list(moves.items())
