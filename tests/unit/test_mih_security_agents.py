"""MIH security in the running agents, natively (no radios): the attack lab (testbed/attack/lab.py) runs real
agent processes in namespaces of our own, a real FreeRADIUS behind the PoS and the MN's EAP peer as a real
wpa_supplicant; an attacker namespace on the same flooding bridge sniffs, forges, replays, bit-flips and
floods MIH PDUs. Every test runs with protection on and off: off, the attacks succeed (the test can fail)."""
from __future__ import annotations

import os
import shutil
import threading
import time
from typing import Callable, Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from testbed.attack.attacker import ATTACKS, Attack, Attacker
from testbed.attack.lab import BSSID_B, IP, MN, POA, POS, Lab
from testbed.attack.run import run_one

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(os.geteuid() != 0 or not all(map(shutil.which, ("freeradius", "wpa_supplicant", "ip"))),
                       reason="needs root, freeradius, wpa_supplicant and iproute2"),
]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(f"mihsec-sa{os.getpid()}") as lab:
        yield lab


@pytest.fixture(scope="module", params=[True, False], ids=["protected", "clear"])
def agents(request: pytest.FixtureRequest, lab: Lab) -> Iterator[Lab]:
    lab.start_agents(request.param)
    try:
        yield lab
    finally:
        keep = os.environ.get("MIHSEC_KEEP_LOGS")  # debugging: the agents' logs (no keys in them)
        if keep:
            for role, p in lab.agents.items():
                shutil.copy(p.log, os.path.join(keep, f"{role}-{'on' if request.param else 'off'}.log"))
        lab.stop_agents()


def until(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def security(lab: Lab, role: str) -> dict:
    return lab.call(role, {"cmd": "health", "peers": False})["security"]


def test_sa_established_with_real_eap_and_traffic_protected(agents: Lab) -> None:
    assert agents.call("mn", {"cmd": "discover"})["ok"]  # Get_Information: needs the SA first (protection on)
    sec, mn_sec = security(agents, "pos"), security(agents, "mn")
    if agents.protection:
        assert agents.radius is not None and agents.radius.wait_decision("alice").accepted
        sas = [s for s in sec["sas"] if s["peer"] == MN]
        assert len(sas) == 1 and sas[0]["confirmed"], sec
        assert [s["said"] for s in mn_sec["sas"] if s["peer"] == POS] == [sas[0]["said"]]
        assert sec["received_protected"] >= 2 and mn_sec["received_protected"] >= 1
        assert agents.stats("pos")["sa"]["sa_established"] == 1
        assert not any(k.startswith("rx_") for k in sec), sec  # nothing refused in a clean exchange
        for role in ("mn", "pos"):  # SAIDs in the logs, keys never
            text = agents.agents[role].log.read_text()
            assert "MIH SA 0x" in text and agents.sa_key not in text and agents.radius_secret not in text
    else:
        assert sec["sas"] == [] and not sec.get("received_protected")


def test_rekey_replaces_the_sa_and_traffic_goes_on(agents: Lab) -> None:
    if not agents.protection:  # plain 802.21: the PoS offers no SA at all
        r = agents.call("mn", {"cmd": "sa", "rekey": True})
        assert not r["ok"] and "no EAP-based MIH SA" in r["error"], r
        return
    assert agents.call("mn", {"cmd": "discover"})["ok"]
    old = {s["said"] for s in security(agents, "mn")["sas"] if s["peer"] == POS}
    r = agents.call("mn", {"cmd": "sa", "rekey": True})
    assert r["ok"] and r["said"] not in old, r
    assert agents.call("mn", {"cmd": "discover"})["ok"]
    # the old SA ends after the grace period on both sides; the new one carries the traffic
    assert until(lambda: [s["said"] for s in security(agents, "pos")["sas"] if s["peer"] == MN] == [r["said"]], 10)
    assert agents.call("mn", {"cmd": "discover"})["ok"]


def test_pro_auth_travels_protected_and_push_key_under_network_sa(agents: Lab) -> None:
    before = agents.stats("pos")
    r = agents.call("mn", {"cmd": "preauth", "mode": "eap_over_mih", "target": BSSID_B, "ssid": "mihsec-b",
                           "pos": POS, "pos_ip": IP["pos"], "timeout": 15})
    after = agents.stats("pos")
    # EAP went through the PoS to FreeRADIUS and was accepted; the key push reached the PoA, which has no
    # hostapd here (natively), so the install and therefore the pre-authentication fail at the very end
    assert after["pro_auth"] > before["pro_auth"] and after["accepts"] > before["accepts"], (r, after)
    assert not r["ok"] and r["pro_auth"] >= 1 and "hops" in r, r  # a clean failure report, not a crash
    poa = agents.stats("poa")
    assert poa["pushes_refused"] == 0  # the Push_Key verified (integrity, replay counter)
    if agents.protection:
        assert poa["security"]["received_protected"] >= 1 and not poa["security"].get("rx_dropped")
        assert after["security"]["received_protected"] > before["security"].get("received_protected", 0)
        # the PoS <-> PoA SA from the per-run key, set up before the first push, confirmed on both ends
        said = [s["said"] for s in security(agents, "pos")["sas"] if s["peer"] == POA and s["confirmed"]]
        assert len(said) == 1 and [s["said"] for s in poa["security"]["sas"] if s["peer"] == POS] == said


def test_no_certificate_bytes_on_the_wire_once_the_sa_is_up(agents: Lab) -> None:
    """The Pro_Auth's EAP-TLS carries the MN's certificate; sniffed between MN and PoS it must not show once the
    SA is up (and does without protection: the check can fail)."""
    assert agents.pki is not None
    der = x509.load_pem_x509_certificate(agents.pki.clients["alice"][0].read_bytes()).public_bytes(Encoding.DER)
    needles = [der[i:i + 16] for i in range(len(der) - 200, len(der) - 16, 48)]  # signature: unique to it
    assert agents.call("mn", {"cmd": "discover"})["ok"]  # the SA (protection on) is up before the sniffing
    atk = Attacker(agents.ns["atk"])
    got: list[bytes] = []
    t = threading.Thread(target=lambda: got.extend(atk.sniff("mn", "pos", 6)))
    t.start()
    try:
        time.sleep(0.3)
        agents.call("mn", {"cmd": "preauth", "mode": "eap_over_mih", "target": BSSID_B, "ssid": "mihsec-b",
                           "pos": POS, "pos_ip": IP["pos"], "timeout": 15})
        t.join()
    finally:
        atk.close()
    wire = b"".join(got)
    assert len(got) >= 4, f"sniffed only {len(got)} frames"
    seen = [n in wire for n in needles]  # several pieces: one may straddle a fragment boundary
    if agents.protection:
        assert not any(seen), "certificate bytes in the clear under protection"
    else:
        assert sum(seen) >= len(seen) - 1, "the certificate should be visible without protection"


def test_network_sa_is_set_up_afresh_after_a_restart(agents: Lab) -> None:
    """A restarted PoA has no SA: the PoS's next push goes unanswered, the PoS drops its SA and the push after
    that sets up a new one (new nonces, new SAID: no key and nonce is ever used twice)."""
    push = {"cmd": "preauth", "mode": "eap_over_mih", "target": BSSID_B, "ssid": "mihsec-b", "pos": POS,
            "pos_ip": IP["pos"], "timeout": 15}
    if not agents.protection:
        assert security(agents, "poa")["sas"] == []
        return
    old = {s["said"] for s in security(agents, "pos")["sas"] if s["peer"] == POA}
    if not old:
        agents.call("mn", push)
        old = {s["said"] for s in security(agents, "pos")["sas"] if s["peer"] == POA}
    agents.agents["poa"].stop()
    agents.agents["poa"].start(timeout=30)
    agents.call("mn", push)  # the push under the old SA is dropped by the PoA (unknown SA)
    assert security(agents, "poa").get("rx_unknown_sa", 0) >= 1
    agents.call("mn", push)
    new = {s["said"] for s in security(agents, "poa")["sas"] if s["peer"] == POS and s["confirmed"]}
    assert new and not new & old and agents.stats("poa")["pushes_refused"] == 0


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack(agents: Lab, attack: Attack) -> None:
    atk = Attacker(agents.ns["atk"])
    try:
        logged = agents.agents[attack.victim].log.read_text().count("dropped (")
        row = run_one(agents, atk, attack)
    finally:
        atk.close()
    print(f"\n{row}")
    assert row.served, "the legitimate MN is no longer served"
    if agents.protection:
        assert row.accepted == 0 and row.dropped > 0, row
        # refusals are logged once per (peer, reason), not once per PDU
        assert agents.agents[attack.victim].log.read_text().count("dropped (") <= logged + 1
    else:
        assert row.accepted > 0, row


@pytest.mark.parametrize("fault", ["strip_sec_cap", "alter_offer"])
def test_downgrade_of_the_capability_exchange_is_refused(agents: Lab, fault: str) -> None:
    """An on-path attacker strips the PoS's security capability, or cuts the MN's suite offer (acted out by
    the PoS's test-only fault switch). The MN must not end up with an SA, nor fall back to the clear."""
    if not agents.protection:  # nothing to downgrade: plain 802.21 has no SA and no offer
        assert security(agents, "mn")["sas"] == []
        return
    assert agents.call("mn", {"cmd": "discover"})["ok"]
    before = {s["said"] for s in security(agents, "mn")["sas"] if s["peer"] == POS}
    pos_before = security(agents, "pos")
    assert agents.call("pos", {"cmd": "fault", "fault": fault})["ok"]
    try:
        r = agents.call("mn", {"cmd": "sa", "rekey": True})
    finally:
        agents.call("pos", {"cmd": "fault", "fault": None})
    want = "no EAP-based MIH SA" if fault == "strip_sec_cap" else "AUTH_R does not verify"
    assert not r["ok"] and want in r["error"], r
    assert {s["said"] for s in security(agents, "mn")["sas"] if s["peer"] == POS} == before  # no new SA
    # nothing PROTECT-class went out in the clear meanwhile
    assert security(agents, "pos").get("rx_unprotected", 0) == pos_before.get("rx_unprotected", 0)
    assert agents.call("mn", {"cmd": "sa", "rekey": True})["ok"]  # without the attacker it works again
    unconfirmed = [s for s in security(agents, "pos")["sas"] if s["peer"] == MN and not s["confirmed"]]
    assert not unconfirmed, unconfirmed  # the refused attempt left no half-made SA behind


def test_mn_recovers_when_the_pos_lost_its_sa(agents: Lab) -> None:
    """A PoS that restarted has no SA: the MN's sealed request goes unanswered; after that dead transaction the
    MN drops its SA and the next request sets up a new one. (Runs last: it restarts the PoS agent.)"""
    assert agents.call("mn", {"cmd": "discover"})["ok"]
    old = {s["said"] for s in security(agents, "mn")["sas"] if s["peer"] == POS}
    agents.agents["pos"].stop()
    agents.agents["pos"].start(timeout=30)  # same configuration, no SAs with MNs
    first = agents.call("mn", {"cmd": "discover"})
    if not agents.protection:  # nothing to lose: plain 802.21 just answers
        assert first["ok"], first
        return
    assert not first["ok"], first  # sealed under an SA the PoS no longer has: dropped as unknown SA
    assert security(agents, "pos").get("rx_unknown_sa", 0) >= 1
    assert agents.call("mn", {"cmd": "discover"})["ok"]  # a new SA, then the answer
    new = {s["said"] for s in security(agents, "mn")["sas"] if s["peer"] == POS}
    assert new and not new & old
