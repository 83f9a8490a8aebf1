"""MIH pre-authentication end to end with real daemons, on both heterogeneous topologies and in both
modes, against a control run without pre-authentication; then the faults (two-domain-wlan)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from testbed import capture, impair, topology
from testbed.net import Network
from testbed.plan import make_plan
from testbed.scenarios import mih_preauth
from testbed.scenarios.mih_preauth import reset

from .conftest import assert_nothing_left


def mih_frames(pcap: Path) -> list[tuple[int, int, int]]:
    """(service ID, action ID, opcode) of every frame tshark decodes as MIH."""
    r = subprocess.run(["tshark", "-n", "-r", str(pcap), "-Y", "mih", "-T", "fields", "-e", "mih.service_id",
                        "-e", "mih.action_id", "-e", "mih.opcode"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return [tuple(int(x, 0) for x in l.split("\t")) for l in r.stdout.splitlines() if l]


def last_handover(net: Network, bssid: str) -> capture.AssociationSummary:
    h = capture.handovers(capture.read_frames(net.pcap), net.stations["mn"].mac)
    assert h and h[-1].bssid == bssid, h
    return h[-1]


@pytest.fixture(scope="module", params=["two-domain-wlan", "wired-to-wlan"])
def net(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    import os

    root = Path(os.environ.get("MIHSEC_TEST_RESULTS") or tmp_path_factory.mktemp("mih"))
    n = Network(make_plan(topology.load(request.param)), root / f"mih-{request.param}")
    n.start()
    yield n
    n.stop()
    assert_nothing_left()


@pytest.fixture(autouse=True)
def clean_start(net: Network) -> None:
    reset(net)


def test_control_run_does_full_eap(net: Network) -> None:
    r = mih_preauth.run(net, mode=None)
    assert r.eap_ran and not r.target_pmksa_has_mn
    assert last_handover(net, r.bssid).eap_frames > 0


@pytest.mark.parametrize("mode", ["eap_over_mih", "ll_auth"])
def test_preauth_then_four_way_only(net: Network, mode: str) -> None:
    r = mih_preauth.run(net, mode=mode)
    print(f"\n{net.plan.topology.name} {mode}: pre-auth {r.preauth_ms} ms via {r.preauth_via}, "
          f"handover {r.handover_ms} ms; per hop (ms per pre-authentication): {(r.preauth_hops or {}).get('total_ms')}")
    assert r.preauth_ok, r
    if mode == "eap_over_mih":  # the MN found the target's authenticator through the information service
        dom = net.plan.topology.nodes[r.target].domain
        pos = net.agents[net.plan.topology.domains[dom].pos].cfg.mihf_id
        assert (r.authenticator, r.authenticator_from) == (pos, "information service"), r
    assert r.target_pmksa_has_mn, "the target hostapd must hold the PMKSA before the handoff"
    assert not r.eap_ran, "after pre-authentication the handoff must not run EAP"
    air = last_handover(net, r.bssid)
    assert air.eap_frames == 0 and {1, 2, 3, 4} <= set(air.key_msgs), air
    log = (net.logs / f"{r.target}.hostapd.log").read_text()
    assert "PMK from PMKSA cache - skip IEEE 802.1X/EAP" in log
    # the pre-authentication's MIH messages crossed the serving DS, and Wireshark decodes them as MIH
    frames = mih_frames(net.results / "dsa.pcap")
    wanted = (1, 1009) if mode == "eap_over_mih" else (1, 9)  # Pro_Auth (provisional) / LL_Auth
    assert any(f[:2] == wanted and f[2] == 1 for f in frames), frames[:5]  # requests...
    assert any(f[:2] == wanted and f[2] == 2 for f in frames), frames[:5]  # ...and their responses
    # the handover itself: MN_HO_Commit to the serving PoS (on the serving DS), the link SAP's Link_Up, the
    # MN_HO_Complete to the target's PoS; across subnets the MN renews its address and reaches the CN again
    assert (r.commit, r.complete) == ("success", "success"), r
    assert any(f == (3, 7, 1) for f in frames) and any(f == (3, 7, 2) for f in frames), "no MN_HO_Commit"
    target_pos = net.agents[net.plan.topology.domains[net.plan.topology.nodes[r.target].domain].pos]
    assert target_pos.call({"cmd": "stats"})["ho_complete"] >= 1
    assert net.agents["mn"].call({"cmd": "stats"})["indications"].get("Link_Up", 0) >= 1
    if net.plan.topology.name == "two-domain-wlan":
        assert r.new_ip == "10.2.0.100/24", r
    ping = subprocess.run(["ip", "netns", "exec", net.ns("mn"), "ping", "-c", "3", "-i", "0.3", "-W", "3",
                           str(net.plan.node_ip("cn").ip)], capture_output=True, text=True)
    assert ping.returncode == 0, f"the MN cannot reach the CN after the handover:\n{ping.stdout}"


# Faults run on two-domain-wlan only (the code paths are the same on wired-to-wlan).
two_domain = pytest.mark.parametrize("net", ["two-domain-wlan"], indirect=True)


@two_domain
def test_fault_aaa_down_falls_back(net: Network) -> None:
    rad = net.aaa["aaa"]
    rad.stop()
    try:
        agent = net.agents["mn"]
        apb = net.aps["apb"]
        pre = agent.call({"cmd": "preauth", "mode": "eap_over_mih", "target": apb.bssid, "ssid": apb.plan.ssid,
                          "pos": net.agents["posb"].cfg.mihf_id, "pos_ip": "10.2.0.10", "timeout": 60}, timeout=90)
        assert not pre["ok"], pre
        assert not any(net.stations["mn"].mac in l for l in apb.hostapd.pmksa()), "nothing may be installed"
    finally:
        rad.start()
    r = mih_preauth.run(net, mode=None)  # fallback: full EAP at the target, now that the AAA is back
    assert r.eap_ran


@two_domain
def test_fault_lossy_serving_link_retransmits(net: Network) -> None:
    before = net.agents["mn"].call({"cmd": "stats"}).get("retransmissions", 0)
    ends = [(net.ns("mn"), "wlan0"), (net.ns("apa"), "wlan0")]
    for ns, ifname in ends:
        impair.set_netem(ns, ifname, loss_pct=30)
    try:
        r = mih_preauth.run(net, mode="eap_over_mih", timeout=150)
    finally:
        for ns, ifname in ends:
            impair.clear(ns, ifname)
    after = net.agents["mn"].call({"cmd": "stats"}).get("retransmissions", 0)
    print(f"\nMIH retransmissions under 30 % loss: {after - before}; pre-auth ok {r.preauth_ok}")
    assert r.handover_ms > 0 and after > before
    if r.preauth_ok:
        assert not r.eap_ran
    else:  # pre-auth gave up: the handover fell back to full EAP, never to a wrong key
        assert r.eap_ran


@two_domain
def test_fault_forged_key_push_is_refused(net: Network) -> None:
    apb = net.agents["apb"]
    code = (
        "import asyncio, os\n"
        "from node_agents.mih import MihfEndpoint, Message, TransportConfig\n"
        "from node_agents.mih.compound import Alt\n"
        "from node_agents.mih import MihError\n"
        "async def main():\n"
        "    async with MihfEndpoint(%r, config=TransportConfig(port=4552, retransmit_interval=2)) as ep:\n"
        "      try:\n"
        "        rsp = await ep.request(('10.2.0.1', 4551), Message.of('Push_Key.request', dst=%r,\n"
        "            mn_link_addr=Alt('mac', '02:00:00:00:66:66'), poa=Alt('mac', %r), key_name=os.urandom(16),\n"
        "            wrapped_key=os.urandom(40), key_lifetime=43200, akm_suite=0x000FAC01, replay_counter=1 << 62,\n"
        "            integrity_tag=os.urandom(16)))\n"
        "        print(rsp.fields['status'])\n"
        "      except MihError as e:\n"
        "        print(type(e).__name__)\n"
        "asyncio.run(main())\n"
    ) % (net.agents["posb"].cfg.mihf_id, apb.cfg.mihf_id, net.aps["apb"].bssid)
    r = subprocess.run(["ip", "netns", "exec", net.ns("posb"), sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=60)
    stats = apb.call({"cmd": "stats"})
    if net.plan.topology.mih_protection:  # dropped before the key push handler: it came without the PoS's SA
        assert r.stdout.strip() == "MihPeerDeadError", (r.stdout, r.stderr)
        assert stats["security"].get("rx_unprotected", 0) >= 1, stats
    else:  # plain 802.21: the push's own integrity tag refuses it
        assert r.stdout.strip() == "rejected", r.stderr
        assert stats.get("pushes_refused", 0) >= 1
    assert not any("02:00:00:00:66:66" in l for l in net.aps["apb"].hostapd.pmksa())


@two_domain
def test_fault_pmkid_mismatch_installs_nothing_at_mn(net: Network) -> None:
    posb = net.agents["posb"]
    assert posb.call({"cmd": "fault", "fault": "wrong_mn"})["ok"]
    try:
        r = mih_preauth.run(net, mode="eap_over_mih")
    finally:
        posb.call({"cmd": "fault", "fault": None})
    assert not r.preauth_ok and "PMKID mismatch" in r.error, r
    assert r.eap_ran, "the handover must fall back to full EAP"


@two_domain
def test_fault_pos_unreachable_falls_back(net: Network) -> None:
    net.agents["posb"].stop()
    r = mih_preauth.run(net, mode="eap_over_mih", timeout=60)
    assert not r.preauth_ok and r.eap_ran, r
    assert "did not acknowledge" in r.error or "Failure" in r.error or r.error, r
