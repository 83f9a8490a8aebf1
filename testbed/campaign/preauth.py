"""Pre-authentication as a first-class figure: its duration per scheme and AAA RTT beside the same EAP
method over the air (full_eap_tls's EAP phase at the same parameter point), and where its time went: the
per-hop breakdown the MIH agents stamp (node_agents/hops.py), median over the trials of a cell."""
from __future__ import annotations

from statistics import median

REFERENCE = "full_eap_tls"  # EAP-TLS over the air: the method every pre-authentication scheme runs
# Outside the EAP round trips: the peer's start, its completion event, the key push (over the air the AP gets
# the MSK itself); the rest is comparable with the over-the-air EAP phase (EAP-STARTED -> EAP-SUCCESS).
NOT_EXCHANGE = ("before_first", "after_last", "key_push")


def exchange_ms(b: dict) -> float:
    return sum(v for k, v in b["total_ms"].items() if k not in NOT_EXCHANGE)


def hops_summary(breakdowns: list[dict]) -> dict:
    """Median over trials of each segment's total per pre-authentication (ms), and of the round trips."""
    bs = [b for b in breakdowns if b and b.get("total_ms")]
    if not bs:
        return {}
    names = list(dict.fromkeys(n for b in bs for n in b["total_ms"]))
    return {"n": len(bs), "round_trips": median(b["round_trips"] for b in bs),
            "exchange_ms": round(median(exchange_ms(b) for b in bs), 1),
            "total_ms": {n: round(median(b["total_ms"][n] for b in bs if n in b["total_ms"]), 1) for n in names},
            "per_round_trip_ms": {n: round(median(b["median_ms"][n] for b in bs if n in b.get("median_ms", {})), 2)
                                  for n in names if any(n in b.get("median_ms", {}) for b in bs)}}


def compare(cells: list[dict]) -> list[dict]:
    """One row per cell with a pre-authentication: its median duration, the reference's EAP phase at the same
    parameters, their ratio, and the cell's breakdown."""
    rows = []
    for c in cells:
        if not c.get("prep_ms", {}).get("n"):
            continue
        ref = next((r for r in cells if r["scheme"] == REFERENCE and r["params"] == c["params"]), None)
        air = ref["phases_events"]["eap"]["median"] if ref else None
        pre = c["prep_ms"]["median"]
        ex = c.get("preauth_hops", {}).get("exchange_ms")
        rows.append({"scheme": c["scheme"], "params": c["params"], "preauth_ms": pre, "eap_over_air_ms": air,
                     "ratio": round(pre / air, 2) if air else None, "exchange_ms": ex,
                     "exchange_ratio": round(ex / air, 2) if air and ex is not None else None,
                     "hops": c.get("preauth_hops", {})})
    return rows


def _f(v: float | None, digits: int = 0) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def report_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    L = ["## Pre-authentication", "",
         f"Median pre-authentication (prep) beside the EAP phase of {REFERENCE} (the same EAP-TLS over the air) "
         "at the same AAA RTT and loss; *ratio* = pre-auth / over the air. Pre-authentication runs from the MN's "
         "PREAUTH to its completion event, so it also holds the EAPOL-Start, the key push (EAP over MIH) and the "
         "peer's start-up that the over-the-air EAP phase (EAP-STARTED → EAP-SUCCESS) leaves out; *exchange* is "
         "the pre-authentication's EAP round trips alone (its per-hop stamps without those), the part comparable "
         "with the over-the-air EAP phase.", "",
         "| scheme | AAA RTT +ms | loss % | pre-auth ms | EAP over the air ms | ratio | exchange ms | exchange "
         "ratio | EAP round trips |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        p = r["params"]
        L.append(f"| {r['scheme']} | {p.get('aaa_rtt_ms', 0):g} | {p.get('serving_loss', 0):g} | "
                 f"{_f(r['preauth_ms'])} | {_f(r['eap_over_air_ms'])} | {_f(r['ratio'], 2)} | "
                 f"{_f(r.get('exchange_ms'))} | {_f(r.get('exchange_ratio'), 2)} | {_f(r['hops'].get('round_trips'))} |")
    L.append("")
    for r in rows:
        h = r["hops"]
        if not h:
            continue
        p = r["params"]
        L.append(f"Where the time of `{r['scheme']}` went at AAA RTT +{p.get('aaa_rtt_ms', 0):g} ms (median over "
                 f"{h['n']} trials; stamps of the agents on one clock, node_agents/hops.py):")
        L.append("")
        L.append("| hop | ms per pre-authentication | ms per round trip |")
        L.append("|---|---:|---:|")
        for name, ms in h["total_ms"].items():
            L.append(f"| {name} | {_f(ms, 1)} | {_f(h['per_round_trip_ms'].get(name), 2)} |")
        L.append("")
    return L
