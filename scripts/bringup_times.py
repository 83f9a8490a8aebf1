"""Bring-up time of topologies (median of N), and the processes and memory of each running network.

    .venv/bin/python -m testbed vm --rwdir results -- .venv/bin/python scripts/bringup_times.py \
        two-domain-wlan wired-to-wlan campus --runs 3 --results results/bringup

Run where hwsim radios exist (natively, or inside the VM as above). Prints one line per run and a
table; writes bringup.json in the results directory.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testbed import topology  # noqa: E402
from testbed.net import Network  # noqa: E402
from testbed.plan import make_plan  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("topologies", nargs="+")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--results", type=Path, default=Path("results/bringup"))
    args = p.parse_args()
    out: dict[str, list[dict]] = {}
    for name in args.topologies:
        plan = make_plan(topology.load(name))
        for i in range(args.runs):
            with Network(plan, args.results / f"{name}-{i + 1}") as net:
                procs, mib = net.footprint()
                health = {n: a.health() for n, a in net.agents.items()}
                bad = sum(1 for h in health.values() for r in h["peers"].values() if not r["ok"])
                run = {"bring_up_s": round(net.timings["bring_up"], 1), "processes": procs, "rss_mib": mib,
                       "agents": len(health), "peer_checks_failed": bad}
            out.setdefault(name, []).append(run)
            print(f"{name} run {i + 1}: {run}", flush=True)
    print(f"\n| topology | bring-up s (median of {args.runs}) | runs | processes | RSS MiB |")
    print("|---|---:|---|---:|---:|")
    for name, runs in out.items():
        b = [r["bring_up_s"] for r in runs]
        print(f"| {name} | {statistics.median(b):.1f} | {' / '.join(f'{x:.1f}' for x in b)} | "
              f"{max(r['processes'] for r in runs)} | {max(r['rss_mib'] for r in runs)} |")
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "bringup.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
