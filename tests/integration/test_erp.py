"""ERP (RFC 6696) and FILS shared-key authentication (IEEE 802.11ai) on real radios (topology measure-erp):
Debian's hostapd as APs and ER server, the wpa_supplicant `make setup` built with CONFIG_ERP.

One scenario, run once; the tests check its witnesses: the station's events, the ER server's
Access-Accepts, and the frames on the medium (hwsim0 capture, read after the network is down).

  1. WPA-EAP to ap1: full EAP-TLS, which bootstraps the ERP keys
  2. roam to ap2: ERP over EAPOL (Re-auth-Start, Re-auth, Finish), then the 4-way handshake
  3. FILS-SHA256 to ap1 (fresh PMKSA cache), roam to ap2: FILS-SK with ERP in the Authentication frames
  4. the same with PFS (fils_dh_group=19): FILS-SK-PFS
  5. ER server restarted (its ERP keys gone): a FILS connection falls back to full EAP by itself
  6. ER server restarted again: ERP over EAPOL is refused; wpa_supplicant 2.10 keeps its keys, so the testbed
     drops them (ERP_FLUSH) and the station reconnects with full EAP
"""
from __future__ import annotations

import json
import os
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from scapy.utils import RawPcapReader

from testbed import topology, wpabuild
from testbed.campaign.schemes.base import Bench
from testbed.daemons.erserver import ErServer
from testbed.errors import DaemonError, MihsecError
from testbed.net import ApNode, Network
from testbed.plan import make_plan

from .conftest import assert_nothing_left

FULL_OK = "CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully"
ERP_OK = "CTRL-EVENT-EAP-SUCCESS EAP re-authentication completed successfully"
STARTED = "CTRL-EVENT-EAP-STARTED"
ECDH_ELEMENT = {19: 64, 20: 96, 21: 132}  # bytes of an ECDH public key (x and y) per group


@dataclass
class Step:
    name: str
    target: str  # BSSID
    t0: float  # wall clock, to find the step in the capture
    t1: float = 0.0
    events: list[str] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)
    accepts: int = 0  # ER server Access-Accepts during the step
    ms: float = 0.0
    error: str = ""  # the step did not complete (the other steps still run: each test names its own step)


class Scenario:
    def __init__(self, net: Network):
        self.net, self.bench = net, Bench(net, "sta1", timeout=60)
        self.ap1, self.ap2 = net.aps["ap1"], net.aps["ap2"]
        self.steps: dict[str, Step] = {}

    @property
    def server(self) -> ErServer:
        srv = self.net.aaa["aaa"]
        assert isinstance(srv, ErServer)
        return srv

    def step(self, name: str, target: ApNode, action: Callable[[], object]) -> Step:
        """Run `action`, collecting the station's events and the ER server's accepts meanwhile."""
        wpas = self.bench.wpas
        accepts0 = len([d for d in self.server.accepts() if d.accepted])
        st = Step(name, target.bssid, time.time())
        start = wpas.mark()
        m0 = time.monotonic()
        try:
            action()
        except MihsecError as e:
            st.error = str(e)
        st.ms = round((time.monotonic() - m0) * 1000, 1)
        st.t1 = time.time()
        assert wpas.mon is not None
        st.events = [e.text for e in wpas.mon.since(start)]
        st.status = wpas.status()
        st.accepts = len([d for d in self.server.accepts() if d.accepted]) - accepts0
        self.steps[name] = st
        return st

    def run(self) -> None:
        b, ap1, ap2 = self.bench, self.ap1, self.ap2
        b._set("key_mgmt", "WPA-EAP")
        self.step("bootstrap", ap1, lambda: b.reset(to=ap1))
        self.step("erp", ap2, lambda: b.roam(ap2))

        b._set("key_mgmt", "FILS-SHA256")
        b._set("fils_dh_group", "0")
        self.step("fils_connect", ap1, lambda: b.reset(to=ap1))
        self.step("fils_sk", ap2, lambda: b.roam(ap2))

        b._set("fils_dh_group", "19")
        self.step("pfs_connect", ap1, lambda: b.reset(to=ap1))
        self.step("fils_sk_pfs", ap2, lambda: b.roam(ap2))

        self.server.restart()  # down and up: every ERP key at the server is gone
        self.step("fils_fallback", ap1, lambda: b.reset(to=ap1))

        b._set("key_mgmt", "WPA-EAP")
        b._set("fils_dh_group", "0")
        self.step("erp_bootstrap2", ap1, lambda: b.reset(to=ap1))  # ERP with the keys of the fallback
        b.drop(ap2)
        self.server.restart()
        self.step("erp_refused", ap2, self._erp_refused)
        self.step("erp_fallback", ap1, self._erp_fallback)

    def _erp_refused(self) -> None:
        """ERP to ap2 with keys the server no longer has: no EAP result at all (see the module docstring)."""
        b = self.bench
        b.scan(self.ap2)
        b.wpas.ok(f"ROAM {self.ap2.bssid}")
        try:
            b.wpas.wait_event(["CTRL-EVENT-EAP-SUCCESS", "CTRL-EVENT-EAP-FAILURE"], timeout=10)
        except DaemonError:
            pass

    def _erp_fallback(self) -> None:
        """The testbed's fallback: the station drops its ERP keys and reconnects with full EAP."""
        b = self.bench
        b.wpas.ok("ERP_FLUSH")
        b.reset(to=self.ap1)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if wpabuild.installed() is None:
        pytest.fail("no wpa_supplicant with CONFIG_ERP built: run `make setup`")
    root = Path(os.environ.get("MIHSEC_TEST_RESULTS") or tmp_path_factory.mktemp("r"))
    results = root / "erp"
    plan = make_plan(topology.load("measure-erp"))
    with Network(plan, results, with_agents=False) as net:  # no MIH here
        sc = Scenario(net)
        sta = net.stations["sta1"]
        out = {"sta": sta.mac, "exe": sta.wpas.argv[0], "cap_erp": sta.wpas.request("GET_CAPABILITY erp").strip(),
               "cap_fils": sta.wpas.request("GET_CAPABILITY fils").strip(), "results": results,
               "bssid": {n: a.bssid for n, a in net.aps.items()}, "secret": plan.radius_secret}
        try:
            sc.run()
        finally:
            out["steps"] = sc.steps
            summary = {n: {"ms": s.ms, "accepts": s.accepts, "error": s.error, "key_mgmt": s.status.get("key_mgmt"),
                           "events": [e for e in s.events if e.startswith(("CTRL-EVENT-EAP-S", "CTRL-EVENT-AUTH",
                                                                             "CTRL-EVENT-CONNECTED"))]}
                       for n, s in sc.steps.items()}
            (results / "erp-steps.json").write_text(json.dumps({"supplicant": out["exe"], "steps": summary},
                                                               indent=1))
            print(json.dumps({n: (v["ms"], v["accepts"], v["key_mgmt"], v["error"][:80]) for n, v in summary.items()}))
    assert_nothing_left()
    out["logs"] = sorted((results / "logs").iterdir())
    out["frames"] = read_medium(results / "hwsim0.pcap")
    return out


# --- the capture: 802.11 Authentication frames (FILS elements) and EAPOL EAP codes -------------------------

@dataclass
class Air:
    t: float
    ta: str
    ra: str
    auth_alg: int | None = None
    status: int | None = None
    wrapped_eap: tuple[int, int] | None = None  # (EAP code, type) inside a FILS Wrapped Data element
    eapol_eap: tuple[int, int | None] | None = None  # (EAP code, type) of an EAPOL EAP packet
    key: bool = False  # an EAPOL-Key frame


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _elements(body: bytes) -> dict[tuple[int, int | None], bytes]:
    out, i = {}, 0
    while i + 2 <= len(body):
        eid, ln = body[i], body[i + 1]
        val = body[i + 2:i + 2 + ln]
        out[(eid, val[0] if eid == 255 and val else None)] = val[1:] if eid == 255 else val
        i += 2 + ln
    return out


def read_medium(pcap: Path) -> list[Air]:
    out = []
    for pkt, meta in RawPcapReader(str(pcap)):
        t = meta.sec + meta.usec / 1e6  # tcpdump writes pcap (microseconds)
        rt = struct.unpack_from("<H", pkt, 2)[0]
        w = pkt[rt:]
        if len(w) < 24:
            continue
        fc = struct.unpack_from("<H", w, 0)[0]
        ftype, sub, flags = (fc >> 2) & 3, (fc >> 4) & 0xF, fc >> 8
        if flags & 0x08:  # an 802.11 retransmission of a frame already counted
            continue
        a = Air(t, _mac(w[10:16]), _mac(w[4:10]))
        if ftype == 0 and sub == 11:
            a.auth_alg, _seq, a.status = struct.unpack_from("<HHH", w, 24)
            body = w[30:]
            if a.auth_alg == 5 and len(body) >= 2:  # FILS-SK-PFS: Finite Cyclic Group, then the ECDH element
                body = body[2 + ECDH_ELEMENT.get(struct.unpack_from("<H", body)[0], 0):]
            wrapped = _elements(body).get((255, 8))  # FILS Wrapped Data
            if wrapped and len(wrapped) >= 5:
                a.wrapped_eap = (wrapped[0], wrapped[4])
            out.append(a)
        elif ftype == 2 and not flags & 0x40:
            hdr = 24 + (2 + (4 if flags & 0x80 else 0) if sub & 0x8 else 0)
            body = w[hdr:]
            if len(body) >= 12 and body[6:8] == b"\x88\x8e":
                eapol = body[8:]
                if eapol[1] == 0 and len(eapol) >= 8:
                    a.eapol_eap = (eapol[4], eapol[8] if len(eapol) >= 9 else None)
                a.key = eapol[1] == 3
                out.append(a)
    return out


def window(run: dict, name: str) -> list[Air]:
    st: Step = run["steps"][name]
    return [f for f in run["frames"] if st.t0 - 0.5 <= f.t <= st.t1 + 0.5 and run["sta"] in (f.ta, f.ra)
            and st.target in (f.ta, f.ra)]


# --- the tests ---------------------------------------------------------------------------------------------

def test_the_station_runs_the_erp_build(run: dict) -> None:
    assert run["exe"] == str(wpabuild.installed()) and run["exe"].startswith(str(wpabuild.PREFIX_ROOT))
    assert run["cap_erp"] == "ERP"
    assert "FILS" in run["cap_fils"].split() and "FILS-SK-PFS" in run["cap_fils"].split()


def test_bootstrap_is_a_full_eap_tls(run: dict) -> None:
    st = run["steps"]["bootstrap"]
    assert not st.error, st.error
    assert STARTED in " ".join(st.events) and any(e.startswith(FULL_OK) for e in st.events), st.events
    eap = [f.eapol_eap for f in window(run, "bootstrap") if f.eapol_eap]
    assert sum(1 for c, t in eap if c in (1, 2) and t == 13) >= 4, eap  # EAP-TLS on the air
    assert st.accepts == 1


def test_erp_reauthentication_is_one_initiate_finish_exchange(run: dict) -> None:
    st = run["steps"]["erp"]
    assert not st.error, st.error
    assert any(e.startswith(ERP_OK) for e in st.events), st.events
    assert not any(e.startswith(STARTED) for e in st.events), st.events
    frames = window(run, "erp")
    sta, ap = run["sta"], run["bssid"]["ap2"]
    eap = [(f.ta, f.eapol_eap) for f in frames if f.eapol_eap]
    # RFC 6696: Re-auth-Start (code 5, type 1) from the AP (retransmitted after 1 s if unanswered), then one
    # Re-auth (5, type 2) from the station and one Finish (6) from the AP; no EAP Request/Response at all
    assert {c for _ta, (c, _t) in eap} == {5, 6}, eap
    assert [x for x in eap if x[1][0] == 5 and x[1][1] == 2] == [(sta, (5, 2))], eap
    assert [x[0] for x in eap if x[1][0] == 6] == [ap], eap
    assert eap[0] == (ap, (5, 1)) and eap[-1][1][0] == 6, eap
    assert sum(1 for f in frames if f.key) >= 4  # then the 4-way handshake
    assert st.accepts == 1  # one Access-Accept from the ER server: the ERP round trip


@pytest.mark.parametrize("step,alg", [("fils_sk", 4), ("fils_sk_pfs", 5)])
def test_fils_carries_erp_and_no_eap_tls(run: dict, step: str, alg: int) -> None:
    st = run["steps"][step]
    assert not st.error, st.error
    assert st.status.get("key_mgmt") == "FILS-SHA256", st.status
    assert any(e.startswith(ERP_OK) for e in st.events) and not any(e.startswith(STARTED) for e in st.events)
    assert any(e.startswith("CTRL-EVENT-CONNECTED") and "FILS_HLP_SENT" in e for e in st.events), st.events
    frames = window(run, step)
    sta, ap = run["sta"], run["bssid"]["ap2"]
    auth = [(f.ta, f.auth_alg, f.status, f.wrapped_eap) for f in frames if f.auth_alg is not None]
    # one FILS Authentication exchange: EAP-Initiate/Re-auth (5, 2) out, EAP-Finish/Re-auth (6, 2) back
    assert auth == [(sta, alg, 0, (5, 2)), (ap, alg, 0, (6, 2))], auth
    assert not [f for f in frames if f.eapol_eap], "EAP over EAPOL after a FILS authentication"
    assert not [f for f in frames if f.key], "EAPOL-Key frames: FILS needs no 4-way handshake"
    assert st.accepts == 1


def test_fils_reconnect_after_a_full_eap_is_erp_too(run: dict) -> None:
    for name in ("fils_connect", "pfs_connect"):
        st = run["steps"][name]
        assert not st.error, (name, st.error)
        assert any(e.startswith(ERP_OK) for e in st.events), (name, st.events)


def test_er_server_restart_fils_falls_back_to_full_eap(run: dict) -> None:
    st = run["steps"]["fils_fallback"]
    assert not st.error, st.error
    rejects = [e for e in st.events if e.startswith("CTRL-EVENT-AUTH-REJECT")]
    assert rejects and "auth_type=5" in rejects[0], st.events  # FILS-SK-PFS with keys the server lost
    assert any(e.startswith(STARTED) for e in st.events) and any(e.startswith(FULL_OK) for e in st.events)
    assert st.status.get("wpa_state") == "COMPLETED"
    # the full EAP bootstrapped again: the next WPA-EAP connection is ERP
    assert any(e.startswith(ERP_OK) for e in run["steps"]["erp_bootstrap2"].events)


def test_er_server_restart_erp_refused_then_full_eap(run: dict) -> None:
    refused = run["steps"]["erp_refused"]
    assert not any(e.startswith(("CTRL-EVENT-EAP-SUCCESS", STARTED)) for e in refused.events), refused.events
    sta = run["sta"]
    eap = [(f.ta, f.eapol_eap) for f in window(run, "erp_refused") if f.eapol_eap]
    assert (sta, (5, 2)) in eap and not any(c == 6 for _ta, (c, _t) in eap), eap  # Re-auth, never a Finish
    assert refused.accepts == 0
    fb = run["steps"]["erp_fallback"]
    assert not fb.error, fb.error
    assert any(e.startswith(STARTED) for e in fb.events) and any(e.startswith(FULL_OK) for e in fb.events)
    assert fb.accepts >= 1


def test_no_secret_in_logs(run: dict) -> None:
    for log in run["logs"]:
        assert run["secret"] not in log.read_text(errors="replace"), f"the RADIUS secret appears in {log}"
