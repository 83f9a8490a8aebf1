"""Propagation, loss and mobility models of the wireless medium against hand-computed values."""
from __future__ import annotations

import math
import statistics

import pytest

from testbed.medium import loss
from testbed.medium.mobility import Area, GaussMarkov, Linear, RandomWalk, RandomWayPoint, make_mobility, trace
from testbed.medium.propagation import Friis, Itu, Link, LogDistance, LogNormalShadowing, TwoRayGround, make_model, rssi

F = 2412.0  # MHz; lambda = 0.124292 m; PLfs(1 m) = 20 log10(4 pi / lambda) = 40.095 dB
PL1 = 40.095


def test_friis_by_hand() -> None:
    assert Friis().path_loss(Link(1, F)) == pytest.approx(PL1, abs=0.001)
    assert rssi(Friis(), Link(100, F), 14, 5, 5) == pytest.approx(24 - (PL1 + 40), abs=0.001)
    assert Friis(sL=2).path_loss(Link(1, F)) == pytest.approx(PL1 + 3.0103, abs=0.001)
    assert Friis().path_loss(Link(0, F)) == pytest.approx(PL1 - 20, abs=0.001)  # d = 0 counts as 0.1 m


def test_log_distance_by_hand() -> None:
    m = LogDistance()  # Mininet-WiFi defaults: exp 3, 1 m
    assert rssi(m, Link(10, F), 14, 5, 5) == pytest.approx(-46.095, abs=0.001)
    assert rssi(m, Link(100, F), 14, 5, 5) == pytest.approx(-76.095, abs=0.001)
    assert LogDistance(exp=2, ref_d=10).path_loss(Link(100, F)) == pytest.approx(PL1 + 20 + 20, abs=0.001)


def test_shadowing_is_seeded_per_link() -> None:
    plain = LogDistance().path_loss(Link(50, F))
    assert LogNormalShadowing(variance=0).path_loss(Link(50, F, key="a|b")) == pytest.approx(plain)
    m = LogNormalShadowing(variance=4, seed=7)
    one = m.path_loss(Link(50, F, key="a|b"))
    assert m.path_loss(Link(50, F, key="a|b")) == one  # same link, same place: same value
    assert LogNormalShadowing(variance=4, seed=8).path_loss(Link(50, F, key="a|b")) != one
    draws = [m.path_loss(Link(50, F, key=f"k{i}")) - plain for i in range(4000)]
    assert abs(statistics.mean(draws)) < 0.3 and statistics.stdev(draws) == pytest.approx(4, abs=0.3)


def test_two_ray_ground_by_hand() -> None:
    m = TwoRayGround()  # crossover 4 pi ht hr / lambda = 101.1 m for 1 m antennas
    assert m.path_loss(Link(50, F)) == pytest.approx(PL1 + 20 * math.log10(50), abs=0.001)
    assert m.path_loss(Link(1000, F)) == pytest.approx(120, abs=0.001)
    assert m.path_loss(Link(1000, F, ht=2, hr=1.5)) == pytest.approx(120 - 9.542, abs=0.001)


def test_itu_by_hand() -> None:
    f_term = 67.648  # 20 log10(2412)
    assert Itu().path_loss(Link(10, F)) == pytest.approx(f_term + 28 - 28, abs=0.001)
    assert Itu().path_loss(Link(100, F)) == pytest.approx(f_term + 76 - 28, abs=0.001)  # N = 38 beyond 16 m
    assert Itu(pL=30).path_loss(Link(100, F)) == pytest.approx(f_term + 60 - 28, abs=0.001)
    assert Itu(lF=15, nFloors=2).path_loss(Link(10, F)) == pytest.approx(f_term + 30, abs=0.001)
    assert Itu(lF=15, floor_height=3).path_loss(Link(10, F, dz=7)) == pytest.approx(f_term + 30, abs=0.001)


def test_model_table_checks() -> None:
    assert isinstance(make_model("logDistance", {"exp": 3.5}), LogDistance)
    with pytest.raises(ValueError, match="unknown propagation model 'cost231'"):
        make_model("cost231")
    with pytest.raises(ValueError, match=r"logDistance.exp = 12 is out of range \[1, 8\]"):
        make_model("logDistance", {"exp": 12})
    with pytest.raises(ValueError, match="friis has no parameter 'exp'"):
        make_model("friis", {"exp": 2})


def test_loss_curve_by_hand() -> None:
    snr10 = loss.RATES[4].snr10  # 6 Mb/s: -82 dBm sensitivity, -91 dBm floor: 9 dB
    assert snr10 == 9
    assert loss.per(9, 9) == pytest.approx(0.1)
    assert loss.per(9 - math.log(9), 9) == pytest.approx(0.5)
    assert loss.per(9, 9, 2048) == pytest.approx(1 - 0.9 ** 2)
    assert loss.per(60, 9) < 1e-20 and loss.per(-30, 9) > 0.999999
    assert loss.rate_of(0, 0, 2412)[0] == 8 and loss.rate_of(0, 0, 5180) == (9, 0)  # 5 GHz starts at 6 Mb/s
    assert loss.rate_of(7, loss.FLAG_MCS, 2412) == (-64 + 91, 11)  # MCS 7: -64 dBm, shown as 54 Mb/s


AREA = Area(0, 0, 100, 50)


@pytest.mark.parametrize("model", [RandomWalk(min_v=1, max_v=3), RandomWayPoint(min_v=2, max_v=5, max_wt=2),
                                   GaussMarkov(velocity_mean=4, alpha=0.5)])
def test_random_models_reproducible_and_bounded(model) -> None:
    a = trace(model, (50, 25, 1), AREA, 3, 400)
    assert a == trace(model, (50, 25, 1), AREA, 3, 400)
    assert a != trace(model, (50, 25, 1), AREA, 4, 400)
    assert a[0] == (50, 25, 1) and all(AREA.contains(p) and p[2] == 1 for p in a)
    assert len({p[:2] for p in a}) > 50  # it does move


def test_random_walk_speed() -> None:
    a = trace(RandomWalk(min_v=2, max_v=4, step=0.5), (50, 25, 0), Area(-1e6, -1e6, 1e6, 1e6), 1, 200)
    hops = [math.dist(p, q) for p, q in zip(a, a[1:])]
    assert min(hops) >= 1 - 1e-9 and max(hops) <= 2 + 1e-9


def test_gauss_markov_alpha_one_is_straight() -> None:
    a = trace(GaussMarkov(velocity_mean=2, alpha=1, step=0.5), (0, 0, 0), Area(-1e6, -1e6, 1e6, 1e6), 5, 20)
    hops = [(q[0] - p[0], q[1] - p[1]) for p, q in zip(a, a[1:])]
    assert all(h == pytest.approx(hops[0]) for h in hops) and math.hypot(*hops[0]) == pytest.approx(1)


def test_waypoints_times_and_speeds() -> None:
    m = make_mobility({"model": "waypoints", "points": [{"position": [10, 0, 0], "time": 1},
                                                        {"position": [10, 10, 0], "speed": 5}]})
    a = trace(m, (0, 0, 0), None, 0, 1000)
    assert len(a) == 31  # 0.1 s steps over 1 s + 2 s
    assert a[0] == (0, 0, 0)
    assert a[5] == pytest.approx((5, 0, 0)) and a[10] == pytest.approx((10, 0, 0))
    assert a[20] == pytest.approx((10, 5, 0)) and a[-1] == pytest.approx((10, 10, 0))


def test_linear_until_duration_or_edge() -> None:
    a = trace(Linear(speed=2, angle=90, duration=1), (0, 0, 0), None, 0, 1000)
    assert len(a) == 11 and a[-1] == pytest.approx((0, 2, 0))
    b = trace(Linear(speed=10, angle=0), (95, 10, 0), AREA, 0, 1000)
    assert b[-1][0] <= 100 and len(b) == 6


def test_mobility_table_checks() -> None:
    with pytest.raises(ValueError, match="unknown mobility model 'Levy'"):
        make_mobility({"model": "Levy"})
    with pytest.raises(ValueError, match=r"GaussMarkov.alpha = 2 is out of range \[0, 1\]"):
        make_mobility({"model": "GaussMarkov", "alpha": 2})
    with pytest.raises(ValueError, match="min_v must not exceed max_v"):
        make_mobility({"model": "RandomWalk", "min_v": 5, "max_v": 1})
    with pytest.raises(ValueError, match="exactly one of `time` or `speed`"):
        make_mobility({"model": "waypoints", "points": [{"position": [1, 2, 3]}]})
    with pytest.raises(ValueError, match=r"points\[1\].time = 1 must be a number >= the previous time"):
        make_mobility({"model": "waypoints", "points": [{"position": [1, 2, 3], "time": 2},
                                                        {"position": [1, 2, 3], "time": 1}]})


def test_runner_follows_the_clock() -> None:
    from testbed.medium.mobility import Runner

    r = Runner()
    m = make_mobility({"model": "waypoints", "points": [{"position": [10, 0, 0], "time": 1}]})
    r.start("sta1", m, (0, 0, 0), None, now=100.0)
    assert r.due() == 100.0
    assert r.tick(100.0) == [("sta1", (0, 0, 0))]
    assert r.tick(100.05) == []
    (node, pos), = r.tick(100.55)  # five steps due: only the latest position counts
    assert node == "sta1" and pos == pytest.approx((5, 0, 0))
    assert r.tick(200.0)[0][1] == pytest.approx((10, 0, 0)) and r.due() is None  # finished
