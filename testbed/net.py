"""Running nodes: a plan brought up as namespaces, links, radios and daemons, and torn down again.

    with Network(plan, results_dir) as net:
        net.stations["sta1"].wpas.request("STATUS")

Bring-up is a declared sequence of steps (`Network.steps`: namespaces, links, radios, ..., agents);
teardown walks the steps that ran backwards. A new capability (the wireless medium between the
radios and the daemons) arrives as a step. Everything created is recorded in a RunState first, so a
crash leaves nothing `mihsec down` cannot find; a normal exit, an exception or Ctrl-C tears it all
down here.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pyroute2 import IPRoute

from testbed import erp, network, pki as pkimod, regdomain, wiring
from testbed.agents import AgentProcess, Running, agent_configs, agent_extras
from testbed.capture import Tcpdump
from testbed.daemons.erserver import ErServer
from testbed.daemons.freeradius import FreeRadius
from testbed.daemons.wpa import Hostapd, WpaSupplicant
from testbed.errors import MihsecError
from testbed.hwsim import HwsimControl, Radio
from testbed.medium.process import MediumProcess, start_medium
from testbed.plan import SWITCH_NS, ApPlan, Plan, StaPlan
from testbed.render import render_to
from testbed.state import RunState

log = logging.getLogger(__name__)


@dataclass
class ApNode:
    plan: ApPlan
    netns: str
    radio: Radio
    hostapd: Hostapd | None = None

    @property
    def bssid(self) -> str:
        return self.radio.mac


@dataclass
class StationNode:
    plan: StaPlan
    netns: str
    radio: Radio
    wpas: WpaSupplicant | None = None

    @property
    def mac(self) -> str:
        return self.radio.mac


@dataclass(frozen=True)
class Step:
    """One stage of bring-up and, if it leaves something running, how to stop it."""
    name: str
    up: Callable[[], None]
    down: Callable[[], None] | None = None
    phase: str = "network"  # what bring-up time it counts to: "network" or "daemons"


@dataclass
class Network:
    plan: Plan
    results: Path
    verbose: bool = False
    capture: bool = True
    # hostapd / wpa_supplicant config lines appended per node (tests use it to break a daemon on purpose)
    extra_conf: dict[str, list[str]] = field(default_factory=dict)

    state: RunState | None = None
    aps: dict[str, ApNode] = field(default_factory=dict)
    stations: dict[str, StationNode] = field(default_factory=dict)
    aaa: dict[str, FreeRadius | ErServer] = field(default_factory=dict)
    tcpdump: Tcpdump | None = None
    switch_captures: list[Tcpdump] = field(default_factory=list)
    nas: dict[str, list[Hostapd]] = field(default_factory=dict)  # node -> one hostapd per wired port
    wired: dict[str, WpaSupplicant] = field(default_factory=dict)  # station -> its wired 802.1X supplicant
    eap_peers: dict[str, WpaSupplicant] = field(default_factory=dict)  # station -> EAP peer for MIH pre-auth
    agents: dict[str, AgentProcess] = field(default_factory=dict)
    with_agents: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    step_timings: dict[str, float] = field(default_factory=dict)  # per declared step, in order
    medium: MediumProcess | None = None  # the wireless medium, when the topology declares one
    _hwsim: HwsimControl | None = None
    _pki: pkimod.Pki | None = None
    _done: list[Step] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.results / "logs"

    @property
    def pcap(self) -> Path:
        return self.results / "hwsim0.pcap"

    def ns(self, node: str) -> str:
        assert self.state is not None
        return self.state.ns_name(node)

    @property
    def conf(self) -> Path:
        return self.results / "conf"

    @property
    def ctrl_dir(self) -> Path:
        """One directory per node below it: sockets are named after interfaces."""
        assert self.state is not None
        return self.state.dir / "ctrl"

    # --- bring-up ------------------------------------------------------------------------

    def steps(self) -> list[Step]:
        """Bring-up in order; stop() walks the steps that ran backwards."""
        daemons = "daemons"
        return [
            Step("namespaces", self._create_namespaces, self._remove_namespaces),
            Step("links", self._build_links),
            Step("radios", self._build_radios, self._close_radios),
            Step("regulatory domain", self._check_regulatory),
            Step("medium", self._start_medium, lambda: self._stop([self.medium])),  # registered before any daemon
            Step("station addresses", self._unify_station_macs),
            Step("routes", self._add_routes),
            Step("configs", self._prepare_configs, phase=daemons),
            Step("capture", self._start_capture, self._stop_capture,
                 phase=daemons),
            Step("aaa", self._start_aaa, lambda: self._stop(self.aaa.values()), phase=daemons),
            Step("hostapd", self._start_hostapd, lambda: self._stop(a.hostapd for a in self.aps.values()),
                 phase=daemons),
            Step("wpa_supplicant", self._start_wpas, lambda: self._stop(s.wpas for s in self.stations.values()),
                 phase=daemons),
            Step("nas", self._start_nas, lambda: self._stop(h for hs in self.nas.values() for h in hs),
                 phase=daemons),
            Step("wired supplicants", self._start_wired, lambda: self._stop(self.wired.values()), phase=daemons),
            Step("associations", self._associate_serving, phase=daemons),
            Step("eap peers", self._start_eap_peers, lambda: self._stop(self.eap_peers.values()), phase=daemons),
            Step("agents", self._start_agents, lambda: self._stop(self.agents.values()), phase=daemons),
        ]

    def start(self) -> "Network":
        t0 = time.monotonic()
        if (self.results / "conf").exists():  # logs and decision logs would mix two runs
            raise MihsecError(f"results directory {self.results} already holds a run; choose another")
        self.results.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        self.state = RunState.new()
        try:
            for step in self.steps():
                self._done.append(step)  # before up(): a step that fails halfway is undone too
                t = time.monotonic()
                step.up()
                took = time.monotonic() - t
                self.timings[step.phase] = self.timings.get(step.phase, 0.0) + took
                self.step_timings[step.name] = took
                log.info("bring-up step %-18s %6.2f s", step.name, took)  # shown with -v
        except BaseException:
            self.stop()
            raise
        self.timings["bring_up"] = time.monotonic() - t0
        return self

    def _create_namespaces(self) -> None:
        assert self.state is not None
        for node in [SWITCH_NS, *self.plan.nodes]:
            self.state.add_namespace(self.ns(node))
            network.create_namespace(self.ns(node))

    def _unify_station_macs(self) -> None:
        for sup in self.plan.wired_supplicants:  # one station address on every medium: PMKSAs are keyed
            if sup.node in self.stations:      # by it (before routes: a link going down drops them)
                network.set_mac(self.ns(sup.node), sup.ifname, self.stations[sup.node].mac)

    def _build_links(self) -> None:
        wiring.build(self.plan, self.ns)

    def _add_routes(self) -> None:
        wiring.add_routes(self.plan, self.ns)

    def _build_radios(self) -> None:
        st = self.state
        assert st is not None
        self._hwsim = HwsimControl()
        wanted: list[tuple[str, str, object]] = [(a.node, a.ifname, a) for a in self.plan.aps]
        wanted += [(s.node, s.ifname, s) for s in self.plan.stations]
        for node, ifname, p in wanted:
            phy = f"{self.ns(node)}-{ifname}"
            st.add_radio(phy)
            radio = self._hwsim.new_radio(phy)
            self._hwsim.move_to_netns(radio, self.ns(node))
            network.rename(self.ns(node), radio.ifname, ifname)
            if isinstance(p, ApPlan):
                self.aps[node] = ApNode(p, self.ns(node), radio)
            else:
                assert isinstance(p, StaPlan)
                network.set_up(self.ns(node), ifname)
                network.sysctl(self.ns(node), f"net.ipv4.conf.{ifname}.ignore_routes_with_linkdown", "1")
                if p.ip:
                    network.add_address(self.ns(node), ifname, p.ip)
                self.stations[node] = StationNode(p, self.ns(node), radio)

    def _check_regulatory(self) -> None:
        """The topology's country in force (cfg80211 updates every radio), then every AP channel allowed in it:
        a forbidden channel is refused here, naming channel and cause, before any daemon starts."""
        if self.plan.topology.country:
            regdomain.set_country(self.plan.topology.country)
        regdomain.check_aps([regdomain.ApChannel(a.plan.node, a.netns, a.radio.phy, a.plan.channel, a.plan.freq)
                             for a in self.aps.values()], self.plan.topology.country)

    def _start_medium(self) -> None:
        """The wireless medium of a topology with `medium:` (testbed/medium/); without one hwsim's own."""
        macs = {n: x.radio.mac for n, x in (self.aps | self.stations).items()}
        self.medium = start_medium(self.plan.medium, macs, self.state, self.results)

    def _prepare_configs(self) -> None:
        self.conf.mkdir(mode=0o700, exist_ok=True)
        self.ctrl_dir.mkdir(mode=0o700)
        identities = [s.identity for s in self.plan.stations] + [s.identity for s in self.plan.wired_supplicants]
        self._pki = pkimod.generate(self.results / "pki", f"aaa.{self.plan.topology.name}", identities)

    def _start_capture(self) -> None:
        if not self.capture:
            return
        st = self.state
        with IPRoute() as ipr:  # hwsim0 sees every frame on the simulated medium
            idx = ipr.link_lookup(ifname="hwsim0")
            if idx:
                ipr.link("set", index=idx[0], state="up")
                self.tcpdump = Tcpdump("tcpdump hwsim0", None, "hwsim0", self.pcap, self.logs / "tcpdump.log", st)
                self.tcpdump.start()
        for sw in self.plan.topology.switches:  # the DS: MIH and pre-authentication frames between domains
            t = Tcpdump(f"tcpdump {sw}", self.ns(SWITCH_NS), sw, self.results / f"{sw}.pcap",
                        self.logs / f"tcpdump-{sw}.log", st, bpf="udp port 4551 or ether proto 0x88c7")
            self.switch_captures.append(t)
            t.start()

    def _start_aaa(self) -> None:
        for a in self.plan.aaa:
            if erp.server_kind(self.plan, a) == "hostapd-erp":  # ER server instead of FreeRADIUS (testbed/erp.py)
                self.aaa[a.node] = er = erp.er_server(self.plan, a, self.conf, self.logs, self._pki, self.ns(a.node),
                                                      self.state, self.verbose)
                er.start()
                continue
            rad = FreeRadius(f"freeradius {a.node}", self.conf / a.node, netns=self.ns(a.node), verbose=self.verbose,
                             state=self.state)
            rad.log = self.logs / f"{a.node}.freeradius.log"
            rad.render(clients=[(name, f"{ip}/32", self.plan.radius_secret) for name, ip in a.clients],
                       users=[(u.identity, u.profile.eap, u.password if u.profile.eap == "PEAP" else None)
                              for u in a.users],
                       pki=self._pki, address="0.0.0.0")
            self.aaa[a.node] = rad
            rad.start()

    def _start_hostapd(self) -> None:
        st = self.state
        assert st is not None
        for node, ap in self.aps.items():
            path = render_to("hostapd.conf.j2", self.conf / f"{node}.hostapd.conf", ap=ap.plan, driver="nl80211",
                             ctrl_dir=self.ctrl_dir / node, verbose=self.verbose, radius_port=1812,
                             radius_secret=self.plan.radius_secret, extra_lines=self.extra_conf.get(node, []),
                             country=self.plan.topology.country)
            ap.hostapd = Hostapd(node, netns=ap.netns, conf=path, ctrl_dir=self.ctrl_dir / node, ifname=ap.plan.ifname,
                                 log=self.logs / f"{node}.hostapd.log", local_dir=st.dir, state=st, verbose=self.verbose)
            ap.hostapd.spawn()
        for ap in self.aps.values():  # spawned first, waited for in turn: the APs start side by side
            ap.hostapd.ready()

    def _start_wpas(self) -> None:
        st, pki = self.state, self._pki
        assert st is not None and pki is not None
        for node, sta in self.stations.items():
            cert, key = pki.clients.get(sta.plan.identity, (None, None))
            path = render_to("wpa_supplicant.conf.j2", self.conf / f"{node}.wpa_supplicant.conf", sta=sta.plan,
                             ctrl_dir=self.ctrl_dir / node, pki=pki, client_cert=cert, client_key=key,
                             extra_lines=self.extra_conf.get(node, []))
            sta.wpas = WpaSupplicant(node, netns=sta.netns, conf=path, ctrl_dir=self.ctrl_dir / node,
                                     ifname=sta.plan.ifname, log=self.logs / f"{node}.wpa_supplicant.log",
                                     local_dir=st.dir, state=st, verbose=self.verbose, exe=erp.supplicant_exe(sta.plan))
            sta.wpas.spawn()
        for sta in self.stations.values():
            sta.wpas.ready()

    def _start_nas(self) -> None:
        st = self.state
        assert st is not None
        for n in self.plan.nas:
            self.nas[n.node] = []
            for port in n.ports:
                path = render_to("hostapd-wired.conf.j2", self.conf / f"{n.node}-{port}.hostapd.conf", nas=n,
                                 port=port, ctrl_dir=self.ctrl_dir / n.node, verbose=self.verbose, radius_port=1812,
                                 radius_secret=self.plan.radius_secret)
                h = Hostapd(n.node, netns=self.ns(n.node), conf=path, ctrl_dir=self.ctrl_dir / n.node, ifname=port,
                            log=self.logs / f"{n.node}-{port}.hostapd.log", local_dir=st.dir, state=st,
                            verbose=self.verbose)
                self.nas[n.node].append(h)
                h.start()

    def _start_wired(self) -> None:
        st, pki = self.state, self._pki
        assert st is not None and pki is not None
        for sup in self.plan.wired_supplicants:
            cert, key = pki.clients[sup.identity]
            path = render_to("wpa_supplicant-wired.conf.j2",
                             self.conf / f"{sup.node}-{sup.ifname}.wpa_supplicant.conf",
                             sup=sup, ctrl_dir=self.ctrl_dir / sup.node, pki=pki, client_cert=cert, client_key=key)
            w = WpaSupplicant(sup.node, netns=self.ns(sup.node), conf=path, ctrl_dir=self.ctrl_dir / sup.node,
                              ifname=sup.ifname, log=self.logs / f"{sup.node}-{sup.ifname}.wpa_supplicant.log",
                              local_dir=st.dir, state=st, verbose=self.verbose, driver="wired")
            self.wired[sup.node] = w
            w.start()
            # ap_scan=0: it authenticates on its own at start; a port is up once EAP succeeded
            w.wait_event(["CTRL-EVENT-EAP-SUCCESS", "CTRL-EVENT-CONNECTED"], timeout=60)

    def _associate_serving(self) -> None:
        for node, sta in self.stations.items():
            if sta.plan.serving:
                self.associate(node, sta.plan.serving)

    def _start_eap_peers(self) -> None:
        if any(a.role == "pos" for a in self.plan.agents):
            for node, sta in self.stations.items():
                self._start_eap_peer(node, sta)

    def _start_agents(self) -> None:
        st = self.state
        assert st is not None
        if not (self.with_agents and self.plan.agents):
            return
        pcaps = self.results / "mih"
        pcaps.mkdir(exist_ok=True)
        (st.dir / "agents").mkdir(mode=0o700, exist_ok=True)
        running = Running(
            bssids={n: a.bssid for n, a in self.aps.items()},
            hostapd_ctrl={n: str(a.hostapd.ctrl_path) for n, a in self.aps.items() if a.hostapd},
            sta_macs={n: s.mac for n, s in self.stations.items()},
            wpas_ctrl={n: str(s.wpas.ctrl_path) for n, s in self.stations.items() if s.wpas},
            wired_ctrl={n: str(w.ctrl_path) for n, w in self.wired.items()},
            eap_peer_ctrl={n: str(w.ctrl_path) for n, w in self.eap_peers.items()})
        for cfg in agent_configs(self.plan.agents, st.dir, pcaps, agent_extras(self.plan, running)):
            a = AgentProcess(cfg, self.ns(cfg.node), self.conf / f"{cfg.node}.agent.json",
                             self.logs / f"{cfg.node}.agent.log", st, self.verbose)
            self.agents[cfg.node] = a
            a.spawn()
        for a in self.agents.values():  # side by side: each agent's Python start-up takes seconds under TCG
            a.ready()

    def _start_eap_peer(self, node: str, sta: StationNode) -> None:
        """The MN's EAP peer for pre-authentication over MIH: wpa_supplicant (wired) on veth mpa1, whose
        other end (mpa0) belongs to the MN agent; same MAC as the radio, so PMKIDs bind to the radio."""
        st, pki = self.state, self._pki
        assert st is not None and pki is not None
        network.add_veth(self.ns(node), "mpa0", self.ns(node), "mpa1")
        network.set_mac(self.ns(node), "mpa1", sta.mac)
        cert, key = pki.clients[sta.plan.identity]
        path = render_to("wpa_supplicant-wired.conf.j2", self.conf / f"{node}-mpa1.wpa_supplicant.conf",
                         sup=sta.plan, ctrl_dir=self.ctrl_dir / node, pki=pki, client_cert=cert, client_key=key)
        w = WpaSupplicant(f"{node}-eap-peer", netns=self.ns(node), conf=path, ctrl_dir=self.ctrl_dir / node,
                          ifname="mpa1", log=self.logs / f"{node}-mpa1.wpa_supplicant.log", local_dir=st.dir,
                          state=st, verbose=self.verbose, driver="wired")
        self.eap_peers[node] = w
        w.start()

    def associate(self, station: str, ap: str, timeout: float = 60.0) -> float:
        """Connect `station` to `ap` (full EAP the first time); returns the duration in seconds."""
        sta, target = self.stations[station], self.aps[ap]
        assert sta.wpas is not None
        tr = sta.wpas.connect(net_id=sta.plan.net_id(target.plan.ssid), bssid=target.bssid, freq=target.plan.freq,
                              timeout=timeout)
        return tr.connected.mono - tr.t0

    # --- teardown -------------------------------------------------------------------------

    def footprint(self) -> tuple[int, int]:
        """Processes of this run (in its namespaces, or started by it) and their resident memory, MiB."""
        st = self.state
        assert st is not None
        pids = {p for n in st.namespaces for p in network.namespace_pids(n)} | {p.pid for p in st.processes}
        rss = 0
        for pid in pids:
            try:
                rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * 4096
            except (OSError, IndexError):
                pass  # gone meanwhile
        return len(pids), rss // 2**20

    def stop(self) -> None:
        """Idempotent; safe on a half-built network: undoes the steps that ran, last first."""
        while self._done:
            step = self._done.pop()
            if step.down is None:
                continue
            try:
                step.down()
            except Exception as e:  # keep tearing down the rest
                log.warning("undoing %s: %s", step.name, e)
        if self.state is not None:
            self.state.remove_dir()
            self.state = None

    def _stop(self, daemons) -> None:
        for d in list(daemons):
            if d is not None:
                try:
                    d.stop()
                except Exception as e:  # keep tearing down the rest
                    log.warning("stopping %s: %s", d.name, e)

    def _close_radios(self) -> None:
        if self._hwsim is not None:
            self._hwsim.close()  # destroys the radios
            self._hwsim = None

    def _remove_namespaces(self) -> None:
        if self.state is not None:
            for name in reversed(self.state.namespaces):
                network.remove_namespace(name)

    def _stop_capture(self) -> None:
        self._stop([self.tcpdump, *self.switch_captures])
        self._write_capture_stats()

    def _write_capture_stats(self) -> None:
        """capture.json: each capture's counters; frames the kernel dropped are missing from its pcap."""
        caps = {t.name.removeprefix("tcpdump "): t.final for t in [self.tcpdump, *self.switch_captures]
                if t is not None and t.final is not None}
        if caps:
            (self.results / "capture.json").write_text(json.dumps({k: vars(v) for k, v in caps.items()}, indent=1))
            for name, c in caps.items():
                if c.dropped:
                    log.warning("capture %s: %d frames dropped by the kernel (missing from its pcap)", name, c.dropped)

    def __enter__(self) -> "Network":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
