"""`mihsec campaign FILE`: run a measurement campaign (in the hwsim VM when this host has no radios).

`mihsec campaign RESULTS_DIR` (a directory holding records.jsonl) recomputes summary, plots and report.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from testbed.runtime import add_run_args, needs_vm, results_dir, run_in_vm


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("campaign", help="measure handovers: schemes x AAA RTT x trials -> CSV, stats, plots, report")
    p.add_argument("file", help="campaign YAML (or the name of one in campaigns/), or a results directory to "
                                "re-analyse")
    p.add_argument("--trials", type=int, help="trials per scheme and parameter point (overrides the file)")
    add_run_args(p, 3 * 3600)
    p.set_defaults(func=cmd_campaign)


def cmd_campaign(args: argparse.Namespace) -> int:
    from testbed import topology
    from testbed.campaign import model, report
    from testbed.campaign.record import RECORDS

    target = Path(args.file)
    if target.is_dir() and (target / RECORDS).exists():
        report.finalize(target)
        return 0
    c, path = model.load(args.file)
    if args.trials is not None and args.trials < 1:
        raise model.CampaignError("--trials must be at least 1")
    topology.load(model.topology_path(c, path))  # validate on the host, before any VM boots
    results = results_dir(args, c.name)
    if needs_vm(args.runtime):
        from testbed import vm

        os.environ["MIHSEC_ACCEL"] = "KVM" if vm.kvm_usable(vm.find_kernel()) else "TCG"
        os.environ["MIHSEC_CAMPAIGN_DEFER"] = "1"  # the host draws plots and writes the report: faster
        os.environ["MIHSEC_TTY"] = "1" if sys.stdout.isatty() else "0"  # progress bar, or one line per handover
        try:
            code = run_in_vm(results, args.timeout)
        except KeyboardInterrupt:
            print("mihsec: interrupted: the VM was stopped; the handovers measured so far are kept")
            code = 130
        if (results / RECORDS).exists():
            report.finalize(results)
        return code

    from testbed.campaign.runner import Runner

    complete = Runner(c, path, results, args.trials).run()
    if os.environ.get("MIHSEC_CAMPAIGN_DEFER") != "1":
        report.finalize(results)
    return 0 if complete else 130
