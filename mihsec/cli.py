"""`mihsec run SCRIPT [ARGS]`: a Python script (mihsec API) run where the radios are.

Natively when this host has mac80211_hwsim, else inside the VM (the host's filesystem, the same venv, the
current directory), with the results directory shared back: every Network the script starts puts its
logs and captures under it (MIHSEC_RESULTS).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from mihsec.live import RESULTS_ENV, needs_vm, results_root
from testbed import vm
from testbed.errors import MihsecError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a Python script that uses the mihsec API where the radios are (native or VM)")
    p.add_argument("--results", help="results directory shared with the script (default results/run-<script>-<time>)")
    p.add_argument("--runtime", choices=["auto", "native", "vm"], default="auto")
    p.add_argument("--timeout", type=float, default=3600, help="VM time limit, seconds")
    p.add_argument("script")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    script = Path(args.script)
    if not script.is_file():
        raise MihsecError(f"mihsec run: no such script: {args.script}")
    results = Path(args.results) if args.results else \
        results_root() / f"run-{script.stem}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    results = results.resolve()
    argv = [sys.executable, str(script.resolve()), *args.args]
    if needs_vm(args.runtime):
        # the guest starts in the repository: give the script the directory it was called from
        code = vm.run(["env", "-C", os.getcwd(), *argv], rwdirs=[results], timeout=args.timeout,
                      env={RESULTS_ENV: str(results)})
    else:
        results.mkdir(parents=True, exist_ok=True)
        code = _native(argv, {**os.environ, RESULTS_ENV: str(results)})
    print(f"[mihsec] {script.name} exited with status {code}; results: {results}", file=sys.stderr)
    return code


def _native(argv: list[str], env: dict[str, str]) -> int:
    proc = subprocess.Popen(argv, env=env)
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:  # the script got the same Ctrl-C: let it tear its network down
                continue
    except SystemExit:  # SIGTERM (testbed.cli): pass it on, wait for the script's teardown
        proc.terminate()
        proc.wait()
        raise
