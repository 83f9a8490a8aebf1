"""`mihsec mihsa bench|fuzz`: protected-PDU throughput, and fuzzing the protected decoder.

Standalone: python -m node_agents.mihsa.cli mihsa fuzz --count 1000000
"""
from __future__ import annotations

import argparse
import logging
import sys
import time

from .fuzz import bench, fuzz
from .suites import SUITES


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("mihsa", help="MIH security: protected-PDU benchmark and fuzzer")
    sub = p.add_subparsers(dest="mihsa_command", required=True)
    b = sub.add_parser("bench", help="protected encode+decode messages per second on one core")
    b.add_argument("--count", type=int, default=100_000)
    b.add_argument("--suite", type=int, choices=sorted(SUITES), default=None, help="default: every suite")
    b.set_defaults(func=cmd_bench)
    f = sub.add_parser("fuzz", help="mutated inputs through unprotect + decode: only typed errors allowed")
    f.add_argument("--count", type=int, default=1_000_000)
    f.add_argument("--seed", type=int, default=21)
    f.set_defaults(func=cmd_fuzz)
    return p


def cmd_bench(args: argparse.Namespace) -> int:
    for s in [args.suite] if args.suite else sorted(SUITES):
        print(f"[{SUITES[s].name}] Link_Up.indication, one core")
        for r in bench(max(args.count, 1), s):
            print("  " + r.line())
    return 0


def cmd_fuzz(args: argparse.Namespace) -> int:
    logging.getLogger("mihsec.mihsa").setLevel(logging.ERROR)  # every drop is counted below instead
    t = time.perf_counter()
    res = fuzz(max(args.count, 1), args.seed)
    print(f"protected-decoder fuzz: {res.total} inputs in {time.perf_counter() - t:.0f} s, seed {args.seed}")
    for outcome, n in sorted(res.outcomes.items()):
        print(f"  {outcome:40s} {n}")
    for kind, data, err in res.crashes:
        print(f"CRASH ({kind}) {err}: {data.hex()}", file=sys.stderr)
    print(f"crashes: {sum(n for o, n in res.outcomes.items() if o.endswith('CRASH'))}")
    return 1 if res.crashes else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mihsec")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
