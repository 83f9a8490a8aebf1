"""The `mihsec` command."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path

from node_agents.mih.cli import add_parser as add_mih
from node_agents.mihsa.cli import add_parser as add_mihsa
from mihsec.cli import add_parser as add_api
from mihsec.console import up as console_up
from testbed.attack.cli import add_parser as add_attack
from testbed.campaign.cli import add_parser as add_campaign
from testbed.errors import MihsecError
from testbed.runtime import add_run_args, needs_vm, results_dir, run_in_vm

def cmd_roam(args: argparse.Namespace) -> int:
    from testbed import topology
    from testbed.plan import make_plan

    topo = topology.load(args.topology)  # validate on the host, before any VM boots
    results = results_dir(args, topo.name)
    if needs_vm(args.runtime):
        return run_in_vm(results, args.timeout)

    from testbed import report
    from testbed.net import Network
    from testbed.scenarios import roam

    plan = make_plan(topo)
    with Network(plan, results, verbose=args.verbose) as net:
        steps = roam.run(net)
        bring_up = dict(net.timings)
        sta = next(iter(net.stations.values()))
        sta_mac = sta.mac
        accepts = [a for rad in net.aaa.values() for a in rad.accepts()]
    summary = report.summarise(results, steps, bring_up, sta_mac, accepts)
    (results / "summary.json").write_text(json.dumps(summary, indent=1))
    report.print_roam(summary)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from testbed import topology
    from testbed.plan import make_plan

    from testbed import draw

    topo = topology.load(args.topology)
    results = results_dir(args, topo.name)
    if not (results / "topology.png").exists():  # drawn on the host: matplotlib is slow to start under TCG
        draw.draw(topo, results / "topology.png")
    if not args.then:  # a console on the running network, here or in the VM (mihsec/console.py)
        return console_up(topo, results, args.runtime, args.timeout, args.verbose)
    if needs_vm(args.runtime):
        return run_in_vm(results, args.timeout)

    import subprocess

    from testbed.net import Network

    plan = make_plan(topo)
    with Network(plan, results, verbose=args.verbose) as net:
        print(f"{topo.name} is up in {net.timings['bring_up']:.1f} s (run {net.state.run_id}); "
              f"picture: {results / 'topology.png'}")
        _print_health(net.agents)
        return subprocess.run(["sh", "-c", args.then]).returncode


def _print_health(agents: dict) -> None:
    for node, agent in agents.items():
        h = agent.health()
        peers = ", ".join(f"{p}: {'ok %.1f ms' % r['rtt_ms'] if r['ok'] else 'FAILED ' + r.get('error', '')}"
                          for p, r in h["peers"].items())
        print(f"  agent {node:6} {h['role']:4} {h['mihf_id']:28} {peers or '(no peers)'}")


def cmd_status(args: argparse.Namespace) -> int:
    from testbed.agents import control_call
    from testbed.state import all_states

    states = [st for st in all_states() if st.namespaces]
    if not states:
        print("no running network")
        return 0
    for st in states:
        alive = [p for p in st.processes if Path(f"/proc/{p.pid}").exists()]
        print(f"run {st.run_id}: {len(st.namespaces)} namespaces, {len(alive)}/{len(st.processes)} processes alive")
        for p in st.processes:
            print(f"  {'up  ' if p in alive else 'DEAD'} {p.pid:7} {p.name}")
        for sock in sorted((st.dir / "agents").glob("*.sock")):
            try:
                h = control_call(sock, {"cmd": "health"}, timeout=75.0)
            except (OSError, ValueError) as e:
                print(f"  agent {sock.stem}: not answering ({e})")
                continue
            bad = [p for p, r in h["peers"].items() if not r["ok"]]
            print(f"  agent {sock.stem}: {h['role']} {h['mihf_id']}, peers ok {len(h['peers']) - len(bad)}/"
                  f"{len(h['peers'])}" + (f" (failed: {', '.join(bad)})" if bad else ""))
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    from testbed.state import all_states

    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        raise MihsecError("mihsec exec: give a command, e.g. `mihsec exec mn -- ping -c 3 10.3.0.20`")
    for st in reversed(all_states()):
        ns = st.ns_name(args.node)
        if ns in st.namespaces:
            os.execvp("ip", ["ip", "netns", "exec", ns, *cmd])
    raise MihsecError(f"no running network has a node {args.node!r} (see `mihsec status`)")


def cmd_preauth(args: argparse.Namespace) -> int:
    """MIH pre-authentication vs full EAP at the target: N handovers per mode, a table of medians."""
    from testbed import topology
    from testbed.plan import make_plan

    topo = topology.load(args.topology)
    results = results_dir(args, f"preauth-{topo.name}")
    if needs_vm(args.runtime):
        return run_in_vm(results, args.timeout)

    import statistics
    from dataclasses import asdict

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from testbed.net import Network
    from testbed.scenarios import mih_preauth

    modes: list[str | None] = [None if m == "none" else m for m in args.modes.split(",")]
    with Network(make_plan(topo), results, verbose=args.verbose) as net, Progress() as bar:
        task = bar.add_task(f"{topo.name}: handovers", total=args.trials * len(modes))
        records = mih_preauth.campaign(net, modes, args.trials, lambda: bar.advance(task))
    (results / "preauth.json").write_text(json.dumps([asdict(r) for r in records], indent=1))
    t = Table(title=f"{topo.name}: handover to the target AP (802.11 auth -> CONNECTED), {args.trials} trials per "
              "mode (ms, median [min-max])")
    for col in ("mode", "handover (assoc + 4-way / EAP)", "EAP at target", "pre-auth (before the handoff)"):
        t.add_column(col)

    def span(v: list[float]) -> str:
        return f"{statistics.median(v):.0f} [{min(v):.0f}-{max(v):.0f}]" if v else "-"

    for mode in modes:
        rs = [r for r in records if r.mode == mode]
        t.add_row(mode or "none (full EAP)", span([r.handover_ms for r in rs]),
                  f"{sum(r.eap_ran for r in rs)}/{len(rs)}",
                  span([r.preauth_ms for r in rs if r.preauth_ms is not None and r.preauth_ok]))
    Console(width=120).print(t)
    print(f"records: {results / 'preauth.json'}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from testbed import topology
    from testbed.plan import make_plan

    plan = make_plan(topology.load(args.topology))
    for node, role in plan.nodes.items():
        wired = ", ".join(f"{w.ifname}->{w.switch or w.peer} {w.ip or ''}".strip() for w in plan.wired_of(node))
        print(f"{node:8} {role:8} {wired}")
    for a in plan.aps:
        print(f"  {a.node}: SSID {a.ssid!r} channel {a.channel} ({a.freq} MHz) {a.profile.akm}/EAP-{a.profile.eap}, "
              f"AAA {a.aaa_ip}")
    for s in plan.stations:
        print(f"  {s.node}: {s.identity} EAP-{s.profile.eap} on {s.ssid!r}, scans {s.scan_freqs}")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from testbed.down import down

    removed = down()
    for line in removed:
        print(f"removed {line}")
    print("nothing left to remove" if not removed else f"{len(removed)} item(s) removed")
    return 0


def cmd_vm(args: argparse.Namespace) -> int:
    from testbed import vm

    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        raise MihsecError("mihsec vm: give a command to run, e.g. `mihsec vm -- iw dev`")
    if args.if_needed and not needs_vm("auto"):
        import subprocess

        print("[mihsec] mac80211_hwsim is usable here: running natively", file=sys.stderr)
        return subprocess.run(cmd).returncode
    return vm.run(cmd, rwdirs=[Path(d) for d in args.rwdir], timeout=args.timeout)


def cmd_doctor(args: argparse.Namespace) -> int:
    from testbed import vm
    from testbed.hwsim import hwsim_usable

    ok, why = hwsim_usable()
    print(f"hwsim here: {'yes' if ok else 'no'} ({why})")
    if not ok:
        kernel = vm.find_kernel()
        print(f"VM kernel:  {kernel}")
        print(f"KVM:        {'usable' if vm.kvm_usable(kernel) else 'not usable, TCG will be used'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mihsec", description="Emulated testbed for security signaling in "
                                "media-independent handover (IEEE 802.21 / 802.21a).")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logs (daemon logs may then hold secrets)")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("roam", help="connect a station with full EAP, roam to the other AP and back")
    r.add_argument("topology", nargs="?", default="two-ap-same-ds", help="shipped topology name or YAML file")
    add_run_args(r, 900)
    r.set_defaults(func=cmd_roam)

    u = sub.add_parser("up", help="bring a topology up (agents deployed) with a console on it, or run --then")
    u.add_argument("topology")
    u.add_argument("--then", help="shell command to run once up (e.g. 'mihsec status'); the run ends after it")
    add_run_args(u, 1800)
    u.set_defaults(func=cmd_up)

    stt = sub.add_parser("status", help="running networks, their processes and agents")
    stt.set_defaults(func=cmd_status)

    ex = sub.add_parser("exec", help="run a command in a node's network namespace")
    ex.add_argument("node")
    ex.add_argument("cmd", nargs=argparse.REMAINDER)
    ex.set_defaults(func=cmd_exec)

    pa = sub.add_parser("preauth", help="MIH pre-authentication (both modes) vs full EAP: N handovers each")
    pa.add_argument("topology", nargs="?", default="two-domain-wlan")
    pa.add_argument("--trials", type=int, default=5)
    pa.add_argument("--modes", default="none,eap_over_mih,ll_auth")
    add_run_args(pa, 3600)
    pa.set_defaults(func=cmd_preauth)

    pl = sub.add_parser("plan", help="validate a topology and show what a run would create")
    pl.add_argument("topology")
    pl.set_defaults(func=cmd_plan)

    d = sub.add_parser("down", help="remove everything killed runs left behind")
    d.set_defaults(func=cmd_down)

    v = sub.add_parser("vm", help="run a command inside the hwsim VM")
    v.add_argument("--rwdir", action="append", default=[], help="host directory the guest may write")
    v.add_argument("--timeout", type=float, default=1800)
    v.add_argument("--if-needed", action="store_true", help="run natively when this host has mac80211_hwsim")
    v.add_argument("cmd", nargs=argparse.REMAINDER)
    v.set_defaults(func=cmd_vm)

    dr = sub.add_parser("doctor", help="say how radios will be provided here (native hwsim, or a VM with KVM/TCG)")
    dr.set_defaults(func=cmd_doctor)

    add_mih(sub)
    add_mihsa(sub)
    add_api(sub)
    add_campaign(sub)
    add_attack(sub)
    return p


_MAIN_PID = os.getpid()


def _terminate(signum: int, frame: object) -> None:
    if os.getpid() != _MAIN_PID:
        # A forked helper (pyroute2 forks for namespace work) must not run our teardown code.
        os._exit(128 + signum)
    raise SystemExit(128 + signum)  # unwinds through the teardown code, like Ctrl-C


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except MihsecError as e:
        print(f"mihsec: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mihsec: interrupted; everything the run created was removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
