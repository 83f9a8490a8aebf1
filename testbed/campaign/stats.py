"""Statistics per scheme and parameter point: median, p5/p95, mean with a 95 % confidence interval, CV."""
from __future__ import annotations

import math
from collections import defaultdict
from statistics import mean, median, stdev

from testbed.campaign import preauth
from testbed.campaign.record import PHASES, HandoverRecord

# Two-sided 95 % Student t quantiles by degrees of freedom (1..30); beyond 30 the normal 1.96 is close.
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t95(df: int) -> float:
    if df < 1:
        return math.nan
    return _T95[df - 1] if df <= len(_T95) else 1.96 + 2.4 / df  # within 0.3 % of the exact value


def percentile(xs: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def describe(xs: list[float]) -> dict[str, float | int | None]:
    """n, median, p5, p95, mean, ci95 (half-width of the t interval of the mean), sd, cv (sd / mean)."""
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    n = len(xs)
    if n == 0:
        return {"n": 0, "median": None, "p5": None, "p95": None, "mean": None, "ci95": None, "sd": None,
                "cv": None, "min": None, "max": None}
    m = mean(xs)
    sd = stdev(xs) if n > 1 else None
    ci = t95(n - 1) * sd / math.sqrt(n) if sd is not None else None
    r = lambda v: None if v is None else round(v, 3)  # noqa: E731
    return {"n": n, "median": r(median(xs)), "p5": r(percentile(xs, 5)), "p95": r(percentile(xs, 95)),
            "mean": r(m), "ci95": r(ci), "sd": r(sd), "cv": r(sd / m) if sd is not None and m else None,
            "min": r(min(xs)), "max": r(max(xs))}


def point_key(params: dict) -> str:
    return ",".join(f"{k}={params[k]:g}" if isinstance(params[k], (int, float)) else f"{k}={params[k]}"
                    for k in sorted(params))


def summarise(records: list[HandoverRecord]) -> dict:
    """summary.json: one entry per (scheme, parameter point) of the measured (non-warm-up) handovers."""
    cells: dict[tuple[str, str], list[HandoverRecord]] = defaultdict(list)
    failed: dict[tuple[str, str], list[HandoverRecord]] = defaultdict(list)
    unsupported: dict[str, str] = {}
    for r in records:
        if r.status == "unsupported":
            unsupported[r.scheme] = r.error
            continue
        if r.warmup:
            continue
        (cells if r.status == "measured" else failed)[(r.scheme, point_key(r.params))].append(r)
    out = []
    for (scheme, pk) in sorted(set(cells) | set(failed)):
        rs = cells.get((scheme, pk), [])
        params = (rs or failed[(scheme, pk)])[0].params
        entry = {
            "scheme": scheme, "params": params, "n": len(rs), "failed": len(failed.get((scheme, pk), [])),
            "errors": sorted({f.error for f in failed.get((scheme, pk), [])})[:5],
            "handover_ms": describe([r.total_ms for r in rs]),
            "interruption_ms": describe([r.interruption_ms for r in rs]),
            "lost_packets": describe([r.lost_packets for r in rs]),
            "to_first_data_ms": describe([r.to_first_data_ms() for r in rs]),
            "eap_frames": describe([r.eap_on_air for r in rs]),
            "cleartext_data": describe([r.cleartext_data for r in rs]),
            "aaa_accepts": describe([r.aaa_accepts for r in rs]),
            "prep_ms": describe([r.prep_ms for r in rs]),
            "preauth_hops": preauth.hops_summary([r.prep_hops for r in rs]),
            "phases_events": {p: describe([r.phases_events.get(p) for r in rs]) for p in PHASES},
            "phases_pcap": {p: describe([r.phases_pcap.get(p) for r in rs]) for p in PHASES},
            "disagreements": _disagreement_counts(rs),
            # handovers whose packet-clock figures are left empty because the capture has holes
            "capture_incomplete": sum(1 for r in rs if r.capture.startswith("incomplete")),
        }
        out.append(entry)
    return {"cells": out, "unsupported": unsupported, "preauth": preauth.compare(out),
            "measured": sum(c["n"] for c in out), "failed": sum(c["failed"] for c in out),
            "capture_incomplete": sum(c["capture_incomplete"] for c in out)}


def _disagreement_counts(rs: list[HandoverRecord]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in rs:
        for d in r.disagreements:
            counts[d.split(":", 1)[0]] += 1
    return dict(counts)


def cell(summary: dict, scheme: str, **params: float) -> dict | None:
    """The summary entry of `scheme` at the point whose parameters include `params`."""
    for c in summary["cells"]:
        if c["scheme"] == scheme and all(c["params"].get(k) == v for k, v in params.items()):
            return c
    return None
