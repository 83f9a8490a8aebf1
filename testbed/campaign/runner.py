"""Run a campaign: networks, trials, probe, impairments; every handover record is written as it comes.

Schemes that need the same network (see Scheme.network_key) share one running network; within it,
their trials run in the campaign's (seeded, interleaved) order. Ctrl-C stops after tearing the network
down; what was measured stays in records.jsonl / handovers.csv.
"""
from __future__ import annotations

import json
import logging
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyroute2 import NetNS

from testbed import impair, topology
from testbed.campaign import phases
from testbed.campaign.model import Campaign, TrialSpec, schedule, topology_path
from testbed.campaign.probe import Probe, ProbeResult
from testbed.campaign.progress import Progress
from testbed.campaign.record import CSV, RECORDS, HandoverRecord, Writers, environment, load_records
from testbed.campaign.schemes import available
from testbed.campaign.schemes.base import BASE_PROFILE, Bench, Scheme, SchemeError
from testbed.capture import completeness
from testbed.daemons.freeradius import FreeRadius
from testbed.errors import MihsecError
from testbed.net import Network
from testbed.plan import make_plan
from testbed.topology import Host, Station

log = logging.getLogger(__name__)
__all__ = ["Runner", "CSV", "RECORDS", "load_records"]  # the record files, for callers of the runner


@dataclass
class Group:
    key: tuple
    schemes: list[Scheme]
    specs: list[TrialSpec] = field(default_factory=list)

    @property
    def name(self) -> str:
        d = dict(self.key)
        if d.get("topology"):  # a scheme's own topology: its name says it
            return f"net-{d['topology']}"
        parts = [f"{k}-{v}" if not isinstance(v, bool) else k for k, v in d.items()
                 if k != "agents" and BASE_PROFILE.get(k) != v]
        if d.get("agents"):
            parts.append("agents")
        return "net-" + ("-".join(parts) or "base")


def plan_groups(specs: list[TrialSpec], schemes: dict[str, Scheme]) -> list[Group]:
    groups: dict[tuple, Group] = {}
    for s in specs:
        sch = schemes[s.scheme]
        g = groups.setdefault(sch.network_key(), Group(sch.network_key(), []))
        if sch not in g.schemes:
            g.schemes.append(sch)
        g.specs.append(s)
    return list(groups.values())


@dataclass
class TrialContext:
    """What every trial on one running network works with."""
    net: Network
    bench: Bench
    group: Group
    probe: Probe
    aaa_link: tuple[str, str]  # (namespace, interface) of the AAA server's link: AAA RTT is added there
    rad: FreeRadius | None  # the station's AAA server: its decisions count the accepts per trial
    log: phases.LogTail  # the station's wpa_supplicant log
    pcap: phases.PcapTail  # the radio capture


class Runner:
    def __init__(self, campaign: Campaign, campaign_file: Path, results: Path, trials: int | None = None):
        self.c, self.file, self.results = campaign, campaign_file, results
        self.trials = trials
        self.schemes = {n: s for n, s in available().items() if n in campaign.schemes}
        self.rng = random.Random(campaign.seed)
        self.interrupted = False

    # --- the whole campaign ----------------------------------------------------------------------

    def run(self) -> bool:
        """True when every planned handover ran (interrupted: False)."""
        self.results.mkdir(parents=True, exist_ok=True)
        specs = schedule(self.c, self.trials)
        groups = plan_groups(specs, self.schemes)
        warm = self.c.warmup * len(self.c.schemes)
        meta = {"campaign": self.c.model_dump(), "file": str(self.file), "trials": self.trials or self.c.trials,
                "handovers_planned": len(specs), "warmups_planned": warm,
                "networks": {g.name: [s.name for s in g.schemes] for g in groups}}
        (self.results / "campaign.json").write_text(json.dumps(meta, indent=1))
        (self.results / "environment.json").write_text(json.dumps(environment(), indent=1))
        t0 = time.monotonic()
        self.progress = Progress(len(specs) + warm, f"campaign {self.c.name}")
        self.writers = Writers(self.results).open()
        try:
            for g in groups:
                try:
                    self._run_group(g)
                except MihsecError as e:  # one network that cannot come up does not end the campaign
                    self.progress.note(f"{g.name}: not measured: {e}")
                    for sch in g.schemes:
                        self.writers.write(HandoverRecord(self.c.name, sch.name, 0, {}, "", "", ok=False,
                                                          status="failed", error=f"network {g.name}: {e}"[:300],
                                                          network=g.name, key_mgmt=sch.key_mgmt))
        except KeyboardInterrupt:
            self.interrupted = True
            self.progress.note("interrupted: the network was torn down; the handovers measured so far are kept")
        except SystemExit:  # SIGTERM (testbed.cli): keep what was measured, then exit as asked
            self.interrupted = True
            raise
        finally:
            self.progress.stop()
            self.writers.close()
            run = {"interrupted": self.interrupted, "wall_s": round(time.monotonic() - t0, 1),
                   "finished": time.time()}
            (self.results / "run.json").write_text(json.dumps(run, indent=1))
        return not self.interrupted

    # --- one network ------------------------------------------------------------------------------

    def _topology(self, g: Group) -> topology.Topology:
        d = dict(g.key)
        topo = topology.load(d["topology"] if d.get("topology") else topology_path(self.c, self.file))
        profile = {k: v for k, v in g.key if k not in ("agents", "topology")}
        security = {n: p.model_copy(update=profile) for n, p in topo.security.items()}
        return topo.model_copy(update={"security": security})

    def _run_group(self, g: Group) -> None:
        topo = self._topology(g)
        plan = make_plan(topo)
        own = dict(g.key).get("topology")  # a scheme's own topology: its own station and host
        station = (None if own else self.c.station) or next(iter(topo.of_role(Station)))
        cn = (None if own else self.c.correspondent) or next(iter(topo.of_role(Host)), None)
        if cn is None:
            raise MihsecError(f"topology {topo.name!r} has no node of role host to send the probe stream from")
        out_dir = self.results / g.name
        # In the VM the results directory is 9p: daemons logging there stall for milliseconds per line, which
        # under TCG delays hostapd's (re)association responses past mac80211's retry timers. Keep the run's
        # files on the guest's tmpfs and copy logs and capture out afterwards.
        in_vm = os.environ.get("MIHSEC_IN_VM") == "1"
        work = Path(tempfile.mkdtemp(prefix=f"mihsec-{g.name}-")) if in_vm else out_dir
        kw = {"with_agents": g.schemes[0].agents} if "with_agents" in Network.__dataclass_fields__ else {}
        net = Network(plan, work, **kw)
        self.progress.note(f"{g.name}: bringing up {topo.name} for {', '.join(s.name for s in g.schemes)}")
        try:
            net.start()
            self._measure(net, g, station, cn)
        finally:
            net.stop()
            if in_vm:
                out_dir.mkdir(parents=True, exist_ok=True)
                for name in ("logs",):
                    if (work / name).exists():
                        shutil.copytree(work / name, out_dir / name, dirs_exist_ok=True)
                if net.pcap.exists():
                    shutil.copy(net.pcap, out_dir / "hwsim0.pcap")
                if (work / "capture.json").exists():
                    shutil.copy(work / "capture.json", out_dir / "capture.json")
                shutil.rmtree(work, ignore_errors=True)

    def _measure(self, net: Network, g: Group, station: str, cn: str) -> None:
        if self.c.daemon_log == "info":  # -d logs slow the daemons (and so the handovers) down
            daemons = [s.wpas for s in net.stations.values()] + [a.hostapd for a in net.aps.values()]
            for d in daemons:
                d.ok("LOG_LEVEL INFO 1")
        bench = Bench(net, station, rng=self.rng, timeout=self.c.handover_timeout_s,
                      forget_on_leave=self.c.forget_station)
        sta = bench.sta
        if sta.plan.ip is None:
            raise MihsecError(f"station {station!r} has no IP address: the probe stream needs one")
        cn_ns = net.ns(cn)
        legs = [w.ifname for w in net.plan.wired_of(cn)]
        with NetNS(cn_ns) as h:  # no ARP on the correspondent during handovers: the station's MAC is fixed
            for leg in legs:
                h.neigh("replace", dst=str(sta.plan.ip.ip), lladdr=sta.mac, ifindex=h.link_lookup(ifname=leg)[0],
                        state=0x80)
        aaa_node = sta.plan.profile.aaa
        self.ctx = TrialContext(
            net, bench, g,
            # a correspondent with a leg in several domains sends through each (bicast: see probe.py)
            probe=Probe(cn_ns, sta.netns, str(sta.plan.ip.ip), rate=self.c.probe.rate,
                        via=legs if len(legs) > 1 else []),
            aaa_link=(net.ns(aaa_node), net.plan.wired_of(aaa_node)[0].ifname),
            rad=net.aaa.get(aaa_node),
            log=phases.LogTail(sta.wpas.log),
            pcap=phases.PcapTail(net.pcap))
        specs = list(g.specs)
        for sch in g.schemes:
            reason = sch.unsupported(bench)
            if reason:
                drop = [s for s in specs if s.scheme == sch.name]
                specs = [s for s in specs if s.scheme != sch.name]
                self.progress.shrink(len(drop) + self.c.warmup)
                rec = HandoverRecord(self.c.name, sch.name, 0, {}, "", "", ok=False, status="unsupported",
                                     error=reason, network=g.name, station=station, key_mgmt=sch.key_mgmt)
                self.writers.write(rec)
                self.progress.note(f"{sch.name}: unsupported: {reason}")
        first = self.c.sweep.points()[0]
        warm = [TrialSpec(s.name, first, 0, True) for s in g.schemes if any(x.scheme == s.name for x in specs)
                for _ in range(self.c.warmup)]
        for spec in warm + specs:
            rec = self._trial(spec, station)
            self.writers.write(rec)
            self.progress.advance(_line(rec))

    # --- one handover ----------------------------------------------------------------------------

    def _trial(self, spec: TrialSpec, station: str) -> HandoverRecord:
        x = self.ctx
        bench, probe = x.bench, x.probe
        sch = self.schemes[spec.scheme]
        rec = HandoverRecord(self.c.name, sch.name, spec.trial, dict(spec.params), "", "", warmup=spec.warmup,
                             network=x.group.name, station=station, key_mgmt=sch.key_mgmt,
                             supplicant=bench.wpas.argv[0])
        rtt, loss = spec.params.get("aaa_rtt_ms", 0), spec.params.get("serving_loss", 0)
        impaired: list[tuple[str, str]] = []
        res: ProbeResult | None = None
        try:
            src = sch.source(bench)
            dst = bench.other(src)
            rec.source_ap, rec.target_ap = src.plan.node, dst.plan.node
            if rtt:  # the AAA server's link: its replies leave `rtt` ms late (added RTT, one netem)
                impair.set_netem(*x.aaa_link, delay_ms=rtt)
                impaired.append(x.aaa_link)
            rec.prep_ms = sch.prepare(bench, src, dst)
            rec.prep_hops = sch.take_hops()
            if loss:  # data path of the serving link, both ends
                for ns_if in ((src.netns, src.plan.ifname), (bench.sta.netns, bench.sta.plan.ifname)):
                    impair.set_netem(*ns_if, loss_pct=loss)
                    impaired.append(ns_if)
            x.log.read_new()
            x.pcap.read_new()
            tcpdump = x.net.tcpdump
            counters0 = tcpdump.stats() if tcpdump else None
            rad = x.rad
            accepts0 = len(rad.accepts()) if rad else None
            probe.start()
            time.sleep(self.c.probe.lead_ms / 1000)
            bench.wpas.mark()
            t_cmd = sch.trigger(bench, src, dst)
            rec.t_cmd = t_cmd
            ev = bench.wpas.wait_event(["CTRL-EVENT-CONNECTED"], self.c.handover_timeout_s)
            if loss:
                impair.clear(bench.sta.netns, bench.sta.plan.ifname)
            deadline = time.monotonic() + self.c.probe.resume_timeout_ms / 1000
            while time.monotonic() < deadline and not probe.arrived_after(ev.wall):
                time.sleep(0.01)
            time.sleep(self.c.probe.tail_ms / 1000)
            res = probe.stop()
            t_end = time.time()
            for ns_if in impaired:
                impair.clear(*ns_if)
            impaired.clear()
            if self.c.forget_station:
                bench.forget(src)
            st = bench.wpas.status()
            if st.get("bssid") != dst.bssid or st.get("wpa_state") != "COMPLETED":
                raise SchemeError(f"ended {st.get('wpa_state')} with {st.get('bssid')}, not COMPLETED with "
                                  f"{dst.plan.node}")
            if rad:
                rec.aaa_accepts = sum(1 for d in rad.accepts()[accepts0:] if d.accepted)
            lines = x.log.read_new()
            frames, caught_up = self._frames_until(t_end)
            rec.capture = completeness(counters0, tcpdump.stats() if tcpdump else None, caught_up)
            ex = phases.extract(lines, frames, bench.sta.mac, src.bssid, dst.bssid, t_cmd, t_end,
                                [a[2] for a in res.arrivals], sch.ft)
            rec.phases_events, rec.phases_pcap, rec.total_ms = ex.events, ex.pcap, ex.total_ms
            rec.eap_on_air, rec.key_msgs, rec.auth_alg = ex.eap_on_air, ex.key_msgs, ex.auth_alg
            rec.ft_over_ds, rec.assoc_attempts, rec.disagreements = ex.ft_over_ds, ex.assoc_attempts, ex.disagreements
            rec.cleartext_data = ex.cleartext_data
            if rec.capture != "complete":  # a capture with holes would give short phases and missing frames
                rec.phases_pcap = {p: None for p in ex.pcap}
                rec.eap_on_air = rec.auth_alg = rec.assoc_attempts = rec.cleartext_data = None
                rec.key_msgs, rec.disagreements = [], []
            elif ex.pcap.get("auth_assoc") is None:
                rec.capture = "incomplete: no authentication/association of this handover in the capture"
            rec.interruption_ms, rec.lost_packets = res.interruption_ms, res.lost
            rec.probe_sent, rec.probe_max_send_gap_ms = res.sent, res.max_send_gap_ms
            if res.received == 0:
                raise SchemeError("no probe packet reached the station")
            problem = sch.check(bench, src, dst, ex)
            if problem:
                raise SchemeError(problem)
        except (MihsecError, OSError) as e:
            rec.ok, rec.status, rec.error = False, "failed", str(e).splitlines()[0][:300]
            bench.dirty = True
            log.warning("%s trial %d: %s", sch.name, spec.trial, e)
        finally:
            if res is None and probe._proc is not None:
                probe.stop(drain=0)
            for ns_if in impaired:
                try:
                    impair.clear(*ns_if)
                except Exception:  # noqa: BLE001 - keep the campaign going
                    pass
        return rec

    def _frames_until(self, t_end: float, timeout: float = 15.0) -> tuple[list[phases.Frame], bool]:
        """Frames up to the end of the trial, and whether the capture got there: tcpdump lags under load (it
        once lagged more than the 3 s given here before, and the next trial threw the late frames away);
        beacons (10/s per AP) mark its progress."""
        frames: list[phases.Frame] = []
        deadline = time.monotonic() + timeout
        while True:
            frames += self.ctx.pcap.read_new()
            if frames and frames[-1].t >= t_end:
                return frames, True
            if time.monotonic() > deadline:
                return frames, False
            time.sleep(0.05)


def _line(r: HandoverRecord) -> str:
    p = " ".join(f"{k}={v:g}" for k, v in r.params.items())
    head = f"{r.scheme:13} {p:28} {r.source_ap}->{r.target_ap}{' warm-up' if r.warmup else ''}"
    if r.status != "measured":
        return f"{head}: {r.status}: {r.error}"
    return (f"{head}: handover {r.total_ms:.0f} ms, interruption {r.interruption_ms:.0f} ms, lost {r.lost_packets}"
            f"{', EAP frames ' + str(r.eap_on_air) if r.eap_on_air else ''}")
