"""Where a command that needs radios runs (natively, or re-run inside the hwsim VM), where its results go,
and the options every such command takes. Shared by `mihsec` (cli.py) and `mihsec campaign`."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from testbed import REPO_ROOT, vm
from testbed.hwsim import hwsim_usable

RESULTS_ROOT = REPO_ROOT / "results"


def add_run_args(p: argparse.ArgumentParser, timeout: float) -> None:
    """Options of every command that runs radios: where results go, native or VM, the VM's time limit."""
    p.add_argument("--results", help="results directory (default results/<name>-<time>)")
    p.add_argument("--runtime", choices=["auto", "native", "vm"], default="auto")
    p.add_argument("--timeout", type=float, default=timeout, help="VM time limit, seconds")


def needs_vm(runtime: str) -> bool:
    if runtime == "native":
        return False
    if runtime == "vm":
        return True
    return not hwsim_usable()[0]


def default_results(name: str) -> Path:
    return RESULTS_ROOT / f"{name}-{dt.datetime.now():%Y%m%d-%H%M%S}"


def results_dir(args: argparse.Namespace, name: str) -> Path:
    return Path(args.results) if args.results else default_results(name)


def run_in_vm(results: Path, timeout: float) -> int:
    """Re-run this very command inside the VM, sharing the results directory."""
    argv = [sys.executable, "-m", "testbed", *sys.argv[1:]]
    argv = [a for a in argv if not a.startswith("--runtime")] + ["--runtime", "native", "--results", str(results)]
    return vm.run(argv, rwdirs=[results], timeout=timeout)
