#!/usr/bin/env python3
"""Robustness: N cycles of bring-up, `kill -9` of the orchestrator at a random moment, `mihsec down`; then
count what is left (namespaces, mounts, processes, radios, links, run state, temp files). Exit 1 if anything.

Run where the radios are: `mihsec vm --if-needed -- .venv/bin/python scripts/kill_cycles.py --cycles 100`.
Prints one line per cycle and a summary table; `--json FILE` writes every cycle's figures.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testbed.leftovers import count, leftovers  # noqa: E402


def mihsec(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "testbed", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


def cycle(topology: str, delay: float, results: Path) -> dict:
    """One bring-up killed after `delay` s (or once up, whichever is first), then `mihsec down`."""
    p = mihsec("up", topology, "--results", str(results), "--then", "sleep 600")  # no console: stays up
    t0 = time.monotonic()
    up = False
    os.set_blocking(p.stdout.fileno(), False)
    out = ""
    while time.monotonic() - t0 < delay and p.poll() is None:
        out += p.stdout.read() or ""
        if " is up in " in out:
            up = True
        time.sleep(0.05)
    killed_at = time.monotonic() - t0
    exited = p.poll()
    p.send_signal(signal.SIGKILL)
    p.wait()
    d = subprocess.run([sys.executable, "-m", "testbed", "down"], capture_output=True, text=True, timeout=120)
    left = leftovers()
    return {"killed_at_s": round(killed_at, 2), "was_up": up, "exited_before_kill": exited,
            "down_removed": len([ln for ln in d.stdout.splitlines() if ln.startswith("removed ")]),
            "down_rc": d.returncode, "left": {k: v for k, v in left.items() if v}, "left_count": count(left)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--topology", default="two-ap-same-ds")
    ap.add_argument("--max-delay", type=float, default=40.0, help="kill at a moment drawn from [0.2, this] s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    before = leftovers()
    if count(before):
        print(f"refusing to start: the machine already has leftovers: { {k: v for k, v in before.items() if v} }")
        return 2
    rng = random.Random(args.seed)
    rows = []
    t_all = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="killcycles-") as tmp:
        for i in range(args.cycles):
            row = cycle(args.topology, rng.uniform(0.2, args.max_delay), Path(tmp) / f"c{i}")
            rows.append(row)
            print(f"cycle {i + 1:3}/{args.cycles}: killed at {row['killed_at_s']:5.1f} s "
                  f"({'up' if row['was_up'] else 'bringing up'}), down removed {row['down_removed']:2}, "
                  f"left {row['left_count']} {row['left'] or ''}", flush=True)
    left_total = sum(r["left_count"] for r in rows)
    print(f"\n| cycles | killed while bringing up | killed once up | items `down` removed (median) | left |")
    print("|---:|---:|---:|---:|---:|")
    removed = sorted(r["down_removed"] for r in rows)
    print(f"| {len(rows)} | {sum(not r['was_up'] for r in rows)} | {sum(r['was_up'] for r in rows)} | "
          f"{removed[len(removed) // 2] if removed else 0} | {left_total} |")
    print(f"{len(rows)} cycles in {time.monotonic() - t_all:.0f} s: {left_total} item(s) left behind")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 1 if left_total else 0


if __name__ == "__main__":
    sys.exit(main())
