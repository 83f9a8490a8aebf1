"""Microbenchmark of pre-authentication relay paths without radios: real daemons and agents in namespaces.

    sudo .venv/bin/python scripts/bench_preauth_relay.py --trials 10 [--aaa-rtt 20] [--no-pcap] [--json out.json]
    .venv/bin/python -m testbed vm --if-needed -- .venv/bin/python scripts/bench_preauth_relay.py --trials 5

One EAP-TLS method and one FreeRADIUS, three ways to reach it, each from a real wpa_supplicant (-D wired, the
station's MAC address) asked to PREAUTH the target BSSID:
  direct        the frames reach the target's hostapd (driver wired, rsn_preauth on its bridge) over a wire:
                the reference, what the same EAP costs with hostapd as authenticator (as over the air)
  eap_over_mih  the MN agent's EAPOL relay -> Pro_Auth -> PoS agent -> pyrad -> FreeRADIUS; Push_Key to the
                target PoA agent, which installs the PMK in hostapd (the MN agent's `preauth` command, mode 1)
  ll_auth       the serving PoA agent picks the frames off its bridge -> LL_Auth -> target PoA agent -> the
                target bridge -> hostapd (mode 2)
Namespaces preauth-speed-<pid>-*: core (one bridge joining pos, poa, srv, aaa, mn), mn (the peers and the MN
agent), pos, poa (target hostapd + PoA agent), srv (serving bridge + PoA agent), aaa (FreeRADIUS, optionally
behind netem). Prints per mode the pre-authentication time and EAP round trips per second, and for
eap_over_mih the median cost of each hop (node_agents/hops.py). Everything is removed at exit, also on
an error or Ctrl-C.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from node_agents.agent import AgentConfig  # noqa: E402
from testbed.agents import AgentProcess  # noqa: E402
from testbed.daemons.freeradius import FreeRadius  # noqa: E402
from testbed.daemons.wpa import Hostapd, WpaSupplicant  # noqa: E402
from testbed.errors import MihsecError  # noqa: E402
from testbed import preauth_hops  # noqa: E402
from testbed.pki import generate  # noqa: E402

MN_MAC, BSSID, SRV_BSSID = "02:00:00:00:0e:00", "02:00:00:00:0b:00", "02:00:00:00:0a:00"
IP = {"pos": "10.71.1.2", "poa": "10.71.1.3", "aaa": "10.71.1.4", "srv": "10.71.1.5", "mn": "10.71.1.6"}
SECRET, IDENTITY, SSID = "bench-radius-secret", "bench-mn", "bench"
MODES = ("direct", "eap_over_mih", "ll_auth")


def sh(*argv: str) -> None:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    if r.returncode:
        raise MihsecError(f"{' '.join(argv)}: {r.stderr.strip() or r.returncode}")


class Bench:
    def __init__(self, tmp: Path, pcap: bool, aaa_rtt: float, verbose: bool):
        self.tmp, self.pcap, self.aaa_rtt, self.verbose = tmp, pcap, aaa_rtt, verbose
        self.tag = f"preauth-speed-{os.getpid()}"
        self.namespaces: list[str] = []
        self.daemons: list = []
        self.peers: dict[str, WpaSupplicant] = {}
        self.agents: dict[str, AgentProcess] = {}

    def ns(self, node: str) -> str:
        return f"{self.tag}-{node}"

    # --- bring-up ---------------------------------------------------------------------------------------
    def build(self) -> None:
        for node in ("core", "mn", "pos", "poa", "srv", "aaa"):
            sh("ip", "netns", "add", self.ns(node))
            self.namespaces.append(self.ns(node))
            sh("ip", "-n", self.ns(node), "link", "set", "lo", "up")
        core = self.ns("core")
        self.bridge("core", "br0")
        for node, ip in IP.items():  # the IP network: every node on one core bridge
            sh("ip", "link", "add", "c0", "netns", self.ns(node), "type", "veth", "peer", "name", f"{node}-c",
               "netns", core)
            sh("ip", "-n", core, "link", "set", f"{node}-c", "master", "br0", "up")
            sh("ip", "-n", self.ns(node), "addr", "add", f"{ip}/24", "dev", "c0")
            sh("ip", "-n", self.ns(node), "link", "set", "c0", "up")
        if self.aaa_rtt:  # AAA replies leave late: the AAA round trip grows by aaa_rtt
            try:
                sh("ip", "netns", "exec", self.ns("aaa"), "tc", "qdisc", "add", "dev", "c0", "root", "netem", "delay",
                   f"{self.aaa_rtt}ms")
            except MihsecError as e:
                raise MihsecError(f"--aaa-rtt needs the netem qdisc (sch_netem), e.g. in the VM: {e}") from None
        self.bridge("poa", "br-ds")  # the target AP's DS: hostapd's port and the PoA agent's port
        self.veth("poa", "ds0", "poa", "ds1", mac=BSSID, bridge="br-ds", at_b=True)
        self.veth("poa", "mla1", "poa", "mla0", bridge="br-ds")
        self.bridge("srv", "br-ds")  # the serving AP's DS: the station's port and the PoA agent's port
        self.veth("srv", "sl0", "mn", "sl1", mac=MN_MAC, bridge="br-ds")
        self.veth("srv", "mla1", "srv", "mla0", bridge="br-ds")
        self.veth("mn", "mpa0", "mn", "mpa1", mac=MN_MAC)  # mode 1: EAP peer <-> MN agent's EAPOL relay
        self.veth("poa", "tl0", "mn", "tl1", mac=MN_MAC, bridge="br-ds")  # direct: a wire to the target
        self.veth("mn", "rad1", "mn", "rad0", mac=MN_MAC)  # where the "radio" wpa_supplicant sits

    def bridge(self, node: str, name: str) -> None:
        sh("ip", "-n", self.ns(node), "link", "add", name, "type", "bridge", "forward_delay", "0")
        sh("ip", "-n", self.ns(node), "link", "set", name, "up")

    def veth(self, na: str, a: str, nb: str, b: str, mac: str | None = None, bridge: str | None = None,
             at_b: bool = False) -> None:
        """veth a (in na) | b (in nb); `mac` goes on b; `bridge` (in na, or nb if at_b) takes a (or b)."""
        sh("ip", "link", "add", a, "netns", self.ns(na), "type", "veth", "peer", "name", b, "netns", self.ns(nb))
        if mac:
            sh("ip", "-n", self.ns(nb), "link", "set", b, "address", mac)
        if bridge:
            sh("ip", "-n", self.ns(nb if at_b else na), "link", "set", b if at_b else a, "master", bridge)
        sh("ip", "-n", self.ns(na), "link", "set", a, "up")
        sh("ip", "-n", self.ns(nb), "link", "set", b, "up")

    def start(self) -> None:
        pki = generate(self.tmp / "pki", "aaa.bench", [IDENTITY])
        rad = FreeRadius("freeradius", self.tmp / "radius", netns=self.ns("aaa"), verbose=self.verbose)
        rad.render([("bench", "10.71.1.0/24", SECRET)], [(IDENTITY, "TLS", None)], pki, IP["aaa"])
        self.daemons.append(rad)
        rad.start(timeout=60)
        self.hostapd = Hostapd("poa", netns=self.ns("poa"), conf=self.conf("hostapd.conf", HOSTAPD.format(
            ctrl=self.tmp / "ctrl-poa", own=IP["poa"], aaa=IP["aaa"], secret=SECRET)), ctrl_dir=self.tmp / "ctrl-poa",
            ifname="ds1", log=self.tmp / "hostapd.log", local_dir=self.tmp)
        self.daemons.append(self.hostapd)
        self.hostapd.start(timeout=30)
        for name, ifname in (("mih", "mpa1"), ("ll", "sl1"), ("direct", "tl1"), ("radio", "rad1")):
            cert, key = pki.clients[IDENTITY]
            conf = self.conf(f"wpa-{name}.conf", WPA.format(ctrl=self.tmp / f"ctrl-{name}", identity=IDENTITY,
                                                           ca=pki.ca_cert, cert=cert, key=key))
            w = WpaSupplicant(name, netns=self.ns("mn"), conf=conf, ctrl_dir=self.tmp / f"ctrl-{name}", ifname=ifname,
                              log=self.tmp / f"wpa-{name}.log", local_dir=self.tmp, driver="wired",
                              verbose=self.verbose)
            self.daemons.append(w)
            w.start(timeout=30)
            self.peers[name] = w
        self.start_agents()
        for w in self.peers.values():  # PREAUTH needs a current network block (the wired "association")
            deadline = time.monotonic() + 20
            while w.status().get("wpa_state") in (None, "DISCONNECTED", "SCANNING", "INACTIVE"):
                if time.monotonic() > deadline:
                    raise MihsecError(f"{w.name} never selected its network: {w.status()}")
                time.sleep(0.1)

    def conf(self, name: str, text: str) -> Path:
        p = self.tmp / name
        p.touch(mode=0o600)
        p.write_text(text)
        return p

    def start_agents(self) -> None:
        push = secrets.token_hex(32)
        ids = {n: f"{n}@bench" for n in ("mn", "pos", "poa", "srv")}
        is_db = [{"ssid": SSID, "domain": "b", "akm": "WPA-EAP", "eap": ["TLS"], "subnet": None, "gateway": None,
                  "pos": {"mihf_id": ids["pos"], "ip": IP["pos"]},
                  "poas": [{"node": "poa", "bssid": BSSID, "channel": 1, "freq": 2412, "mihf_id": ids["poa"],
                            "ip": IP["poa"]},
                           {"node": "srv", "bssid": SRV_BSSID, "channel": 6, "freq": 2437, "mihf_id": ids["srv"],
                            "ip": IP["srv"]}]}]
        extra = {
            "pos": {"aaa_ip": IP["aaa"], "radius_secret": SECRET, "own_ip": IP["pos"], "nas_id": "pos.bench",
                    "is_db": is_db, "push_keys": {ids["poa"]: push}, "poa_ips": {ids["poa"]: IP["poa"]}},
            "poa": {"hostapd_ctrl": str(self.hostapd.ctrl_path), "bssid": BSSID, "llauth_port": "mla0",
                    "is_db": is_db, "push_keys": {ids["pos"]: push}},
            "srv": {"hostapd_ctrl": None, "bssid": SRV_BSSID, "llauth_port": "mla0", "is_db": is_db,
                    "push_keys": {}},
            "mn": {"wpas_ctrl": str(self.peers["radio"].ctrl_path), "radio_mac": MN_MAC, "radio_ifname": "rad1",
                   "wired_ctrl": None, "eap_peer_ctrl": str(self.peers["mih"].ctrl_path), "eap_peer_port": "mpa0",
                   "net_ids": {SSID: 0}, "identity": IDENTITY, "is_server": {"mihf_id": ids["pos"], "ip": IP["pos"]}},
        }
        for node, role in (("pos", "pos"), ("poa", "poa"), ("srv", "poa"), ("mn", "mn")):
            cfg = AgentConfig(node=node, role=role, mihf_id=ids[node], control=str(self.tmp / f"{node}.sock"),
                              pcap=str(self.tmp / f"mih-{node}.pcap") if self.pcap else None, extra=extra[node])
            a = AgentProcess(cfg, self.ns(node), self.tmp / f"{node}.agent.json", self.tmp / f"{node}.agent.log",
                             verbose=self.verbose)
            self.daemons.append(a)
            a.start()
            self.agents[node] = a

    # --- trials -----------------------------------------------------------------------------------------
    def clean(self) -> None:
        self.hostapd.ok("PMKSA_FLUSH")
        for w in self.peers.values():
            w.ok("PMKSA_FLUSH")

    def trial(self, mode: str) -> dict:
        self.clean()
        if mode == "eap_over_mih":
            r = self.agents["mn"].call({"cmd": "preauth", "mode": mode, "target": BSSID, "ssid": SSID,
                                        "timeout": 60}, timeout=90)
            if not r.get("ok"):
                raise MihsecError(f"eap_over_mih: {r.get('error') or r}")
            return {"ms": r["duration_ms"], "round_trips": r["pro_auth"],
                    "hops": preauth_hops.eap_over_mih(r, self.agents["pos"], MN_MAC, BSSID)}
        w = self.peers["direct" if mode == "direct" else "ll"]
        w.mark()
        t0 = time.monotonic()
        w.ok(f"PREAUTH {BSSID}")
        ev = w.wait_event([f"RSN: pre-authentication with {BSSID}"], 60)
        if "completed successfully" not in ev.text:
            raise MihsecError(f"{mode}: {ev.text}")
        if not any(l.split()[:1] == [BSSID] for l in w.request("PMKSA_GET 0").splitlines()):
            raise MihsecError(f"{mode}: no PMKSA cached")
        out = {"ms": round((ev.mono - t0) * 1000, 1), "round_trips": None}  # not visible to us: same EAP method
        if mode == "ll_auth":
            out["hops"] = preauth_hops.ll_auth({"window": [t0, ev.mono]}, [self.agents["srv"], self.agents["poa"]],
                                               MN_MAC)
            out["round_trips"] = out["hops"]["round_trips"]
        return out

    def close(self) -> None:
        for d in reversed(self.daemons):
            try:
                d.stop()
            except Exception as e:  # keep tearing down
                print(f"stopping {d.name}: {e}", file=sys.stderr)
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


HOSTAPD = """interface=ds1
bridge=br-ds
driver=wired
ctrl_interface={ctrl}
logger_stdout=-1
logger_stdout_level=2
ssid=bench
ieee8021x=1
eapol_version=2
wpa=2
wpa_key_mgmt=WPA-EAP
rsn_pairwise=CCMP
rsn_preauth=1
rsn_preauth_interfaces=br-ds
own_ip_addr={own}
nas_identifier=poa.bench
auth_server_addr={aaa}
auth_server_port=1812
auth_server_shared_secret={secret}
"""
WPA = """ctrl_interface={ctrl}
ap_scan=0
network={{
	key_mgmt=IEEE8021X
	eapol_flags=0
	eap=TLS
	identity="{identity}"
	ca_cert="{ca}"
	client_cert="{cert}"
	private_key="{key}"
}}
"""


def summarize(mode: str, trials: list[dict]) -> dict:
    ms = [t["ms"] for t in trials]
    out = {"mode": mode, "trials": len(ms), "median_ms": round(statistics.median(ms), 1),
           "min_ms": min(ms), "max_ms": max(ms)}
    rts = [t["round_trips"] for t in trials if t.get("round_trips")]
    if rts:
        out["round_trips"] = statistics.median(rts)
        out["rt_per_s"] = round(out["round_trips"] / (out["median_ms"] / 1000), 1)
    hops = [t["hops"] for t in trials if t.get("hops")]
    if hops:
        names = list(dict.fromkeys(n for h in hops for n in h["median_ms"]))
        out["hop_median_ms"] = {n: round(statistics.median(h["median_ms"][n] for h in hops if n in h["median_ms"]), 2)
                                for n in names}
        out["hop_total_ms"] = {n: round(statistics.median(h["total_ms"][n] for h in hops if n in h["total_ms"]), 1)
                               for n in names}
    return out


def copy_logs(tmp: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for log in [*tmp.glob("*.log"), tmp / "radius" / "radius.log"]:
        if log.exists():
            shutil.copy2(log, dest / log.name)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    p.add_argument("--aaa-rtt", type=float, default=0.0, help="extra AAA round-trip time in ms (netem)")
    p.add_argument("--no-pcap", dest="pcap", action="store_false", help="agents write no MIH pcap")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--logs", type=Path, help="copy the daemons' and agents' logs here at the end")
    p.add_argument("-v", "--verbose", action="store_true", help="daemons and agents log in debug mode")
    args = p.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if bad := [m for m in modes if m not in MODES]:
        p.error(f"unknown mode(s) {', '.join(bad)}; choose from {', '.join(MODES)}")
    if args.trials < 1:
        p.error("--trials must be at least 1")
    if os.geteuid() != 0:
        p.error("needs root (network namespaces)")
    if missing := [t for t in ("ip", "tc", "freeradius", "hostapd", "wpa_supplicant") if not shutil.which(t)]:
        p.error(f"missing tools: {', '.join(missing)} (run `make setup`)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through the ExitStack below
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background (SIG_IGN)
    results = []
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="preauth-speed-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)  # keys, secrets, logs
        bench = Bench(tmp, args.pcap, args.aaa_rtt, args.verbose)
        if args.logs:  # runs after bench.close (callbacks unwind last first): the daemons have flushed
            stack.callback(copy_logs, tmp, args.logs)
        stack.callback(bench.close)
        try:
            bench.build()
            bench.start()
            for mode in modes:
                bench.trial(mode)  # warm-up: first TLS handshake, first RADIUS client, page cache
                trials = []
                for i in range(args.trials):
                    t = bench.trial(mode)
                    trials.append(t)
                    print(f"{mode:13s} trial {i + 1}: {t['ms']:8.1f} ms", flush=True)
                results.append(summarize(mode, trials))
            mn = bench.agents["mn"].call({"cmd": "stats"})  # a timer that fired shows here
            mih = {k: mn.get(k, 0) for k in ("frames_sent", "retransmissions", "duplicates", "acks_sent")}
        except MihsecError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted: removing the namespaces and daemons", file=sys.stderr)
            return 130
    rts = next((r["round_trips"] for r in results if r.get("round_trips")), None)
    for r in results:  # one EAP method everywhere: as many round trips in every mode
        if rts and not r.get("round_trips"):
            r["round_trips"], r["rt_per_s"] = rts, round(rts / (r["median_ms"] / 1000), 1)
    print(f"\nMN agent MIH counters over the run: {mih}")
    print(f"pcap {'on' if args.pcap else 'off'}, AAA RTT +{args.aaa_rtt:g} ms, {args.trials} trials (median)")
    for r in results:
        print(f"{r['mode']:13s} {r['median_ms']:8.1f} ms  ({r['min_ms']}-{r['max_ms']})  "
              f"{r.get('round_trips', '?')} round trips, {r.get('rt_per_s', '?')} round trips/s")
    ref = next((r for r in results if r["mode"] == "direct"), None)
    for r in results:
        if ref and r is not ref:
            print(f"{r['mode']:13s} / direct = {r['median_ms'] / ref['median_ms']:.2f}")
        if "hop_median_ms" in r:
            print(f"\n{r['mode']} per hop, ms: median per round trip | median total per pre-authentication")
            for n, v in r["hop_median_ms"].items():
                print(f"  {n:14s} {v:9.2f} | {r['hop_total_ms'][n]:9.1f}")
    if args.json:
        args.json.write_text(json.dumps({"pcap": args.pcap, "aaa_rtt_ms": args.aaa_rtt, "mn_mih": mih,
                                         "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
