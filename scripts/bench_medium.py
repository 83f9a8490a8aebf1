"""Frames per second the wireless medium forwards, and what it costs a ping flood, against hwsim's built-in
medium in the same run.

    flock /tmp/mihsec-vm.lock .venv/bin/python -m testbed vm --if-needed --rwdir results -- \
        .venv/bin/python scripts/bench_medium.py --count 1000 --results results/bench-medium

For each topology (with a `medium:` section, then without), brings the network up, lets sta1 (associated
with ap1) flood ap1 with `ping -f` for a bounded count and time, and prints echo/s, RTT and loss; with the
medium also frames/s through it and its own processing time per frame (counters of the medium process).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testbed import topology  # noqa: E402
from testbed.net import Network  # noqa: E402
from testbed.plan import make_plan  # noqa: E402


def reachable(netns: str, dst: str, tries: int = 20) -> None:
    """The station's route comes up with its carrier, just after CTRL-EVENT-CONNECTED: one echo first."""
    for _ in range(tries):
        if subprocess.run(["ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "1", dst],
                          capture_output=True).returncode == 0:
            return
        time.sleep(0.5)
    raise SystemExit(f"{dst} unreachable from {netns} after {tries} tries")


def flood(netns: str, dst: str, count: int, limit: int) -> dict:
    r = subprocess.run(["ip", "netns", "exec", netns, "ping", "-f", "-q", "-c", str(count), "-w", str(limit), dst],
                       capture_output=True, text=True, timeout=limit + 30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received.*?time (\d+)ms", r.stdout, re.S)
    if not m:
        raise SystemExit(f"ping: {r.stdout}{r.stderr}")
    sent, got, ms = map(int, m.groups())
    rtt = re.search(r"= [\d.]+/([\d.]+)/([\d.]+)/", r.stdout)
    return {"sent": sent, "received": got, "time_s": ms / 1000, "echo_per_s": round(got / max(ms / 1000, 1e-3), 1),
            "loss_pct": round(100 * (sent - got) / max(sent, 1), 2),
            "rtt_avg_ms": float(rtt.group(1)) if rtt else None, "rtt_max_ms": float(rtt.group(2)) if rtt else None}


def one(name: str, results: Path, count: int, limit: int) -> dict:
    plan = make_plan(topology.load(name))
    with Network(plan, results / name, with_agents=False) as net:
        sta = net.stations["sta1"]
        dst = str(net.plan.node_ip("ap1").ip)
        reachable(sta.netns, dst)
        before = net.medium.stats() if net.medium else None
        t0 = time.monotonic()
        out = flood(sta.netns, dst, count, limit)
        wall = time.monotonic() - t0
        if net.medium and before is not None:
            after = net.medium.stats()
            frames = after["frames"] - before["frames"]
            busy = (after.get("busy_us", 0) - before.get("busy_us", 0)) / 1e6
            out |= {"medium_frames": frames, "medium_frames_per_s": round(frames / wall, 1),
                    "medium_ms_per_frame": round(1000 * busy / max(frames, 1), 2),
                    "medium_busy_pct": round(100 * busy / wall, 1), "counters": after}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=1000, help="echo requests per flood")
    p.add_argument("--limit", type=int, default=60, help="seconds per flood at most")
    p.add_argument("--results", type=Path, default=Path("results/bench-medium"))
    p.add_argument("topologies", nargs="*", default=["medium-two-ap", "two-ap-same-ds"])
    args = p.parse_args()
    runs = {name: one(name, args.results, args.count, args.limit) for name in args.topologies}
    print("\n| topology | medium | echo/s | RTT avg ms | RTT max ms | loss % | frames/s via medium | ms/frame in medium |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, r in runs.items():
        print(f"| {name} | {'yes' if 'medium_frames' in r else 'no (built-in)'} | {r['echo_per_s']} | {r['rtt_avg_ms']} "
              f"| {r['rtt_max_ms']} | {r['loss_pct']} | {r.get('medium_frames_per_s', '')} "
              f"| {r.get('medium_ms_per_frame', '')} |")
    if len(runs) == 2:
        a, b = runs.values()
        print(f"\necho/s ratio {args.topologies[0]} / {args.topologies[1]}: "
              f"{a['echo_per_s'] / max(b['echo_per_s'], 1e-9):.3f}")
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "bench-medium.json").write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
