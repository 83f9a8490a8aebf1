"""A tiny campaign on real radios: the orderings physics demands hold in the measured data (generous
margins, no wall-clock thresholds), both clocks saw the handovers, nothing is left behind.

Written to hold on a busy machine: orderings are judged on medians of three trials (one outlier cannot flip
them), and one noise budget covers everything TCG under load may spoil: a failed handover and a handover
the capture missed (an explicit `capture` status, not silently empty phases) both count against it."""
from __future__ import annotations

import statistics
import subprocess
from pathlib import Path

import pytest

from testbed import impair, network
from testbed.campaign import model, stats
from testbed.campaign.runner import CSV, Runner, load_records

from .conftest import assert_nothing_left

# Two AAA distances: +0 and +100 ms of RTT between the APs and FreeRADIUS. A full EAP pays the added RTT on
# every one of its round trips; PMKSA caching, FT and MIH pre-authentication never talk to the AAA server
# during the handover. Orderings are asserted at +100 ms: at +0 under TCG a whole EAP-TLS exchange takes
# about 75 ms, the size of the one-channel scan in the MIH handover command and of TCG's noise.
TINY = """\
name: tiny
topology: measure-same-ds
schemes: [full_eap_tls, pmksa_cache, ft_eap_air, mih_eap, mih_ll_auth]
trials: 3
warmup: 0
seed: 7
sweep: {aaa_rtt_ms: [0, 100]}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import os

    root = Path(os.environ.get("MIHSEC_TEST_RESULTS") or tmp_path_factory.mktemp("c"))
    spec = root / "tiny.yaml"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(TINY)
    c, path = model.load(spec)
    results = root / "campaign-tiny"
    complete = Runner(c, path, results).run()  # in-process: one Python start-up in the VM, not two
    assert_nothing_left()
    return {"complete": complete, "results": results, "records": load_records(results)}


N = 30  # 5 schemes x 2 AAA distances x 3 trials
NOISE_BUDGET = N // 10  # TCG noise may spoil a handover now and then; never more than 1 in 10


def by(records, scheme: str, rtt: float | None = None, air: bool = False):
    """Measured handovers of a scheme; with `air`, only those whose capture is complete (packet-clock facts)."""
    return [r for r in records if r.scheme == scheme and r.status == "measured"
            and (rtt is None or r.params.get("aaa_rtt_ms") == rtt) and (not air or r.capture == "complete")]


def test_every_handover_measured_on_both_clocks(tiny: dict) -> None:
    assert tiny["complete"]
    recs = tiny["records"]
    assert len(recs) == N, [(r.scheme, r.status, r.error) for r in recs]
    spoiled = [(r.scheme, r.error or r.capture) for r in recs if r.status != "measured" or r.capture != "complete"]
    assert len(spoiled) <= NOISE_BUDGET, spoiled
    for r in recs:
        if r.status != "measured":
            continue
        assert r.total_ms and r.total_ms > 0 and r.interruption_ms and r.interruption_ms > 0
        assert r.phases_events["auth_assoc"] and r.probe_sent > 50
        assert r.target_ap != r.source_ap
        if r.capture == "complete":
            assert r.phases_pcap["auth_assoc"] and r.phases_pcap["first_data"] is not None, r
        else:  # an explicit status and empty packet-clock figures, never silently short ones
            assert r.capture.startswith("incomplete: ") and r.phases_pcap["auth_assoc"] is None, r


def test_what_the_air_and_the_aaa_saw(tiny: dict) -> None:
    recs = tiny["records"]
    for r in by(recs, "full_eap_tls", air=True):
        assert r.eap_on_air >= 4 and r.aaa_accepts == 1 and r.key_msgs[-1] == 4
        assert r.phases_events["eap"] and r.phases_pcap["eap"]
    for r in by(recs, "pmksa_cache", air=True):
        assert r.eap_on_air == 0 and r.aaa_accepts == 0 and 4 in r.key_msgs
    for r in by(recs, "ft_eap_air", air=True):
        assert r.eap_on_air == 0 and r.aaa_accepts == 0 and r.key_msgs == [] and r.auth_alg == 2
    for s in ("mih_eap", "mih_ll_auth"):  # pre-authenticated across domains before the trigger
        for r in by(recs, s, air=True):
            assert r.network.startswith("net-measure-two-domain") and (r.source_ap, r.target_ap) == ("apa", "apb")
            assert r.prep_ms and r.prep_ms > 0
            assert r.eap_on_air == 0 and r.aaa_accepts == 0 and 4 in r.key_msgs, r


def test_full_eap_is_slower_than_cached(tiny: dict) -> None:
    recs = tiny["records"]
    far = {s: by(recs, s, 100) for s in ("full_eap_tls", "pmksa_cache", "ft_eap_air", "mih_eap", "mih_ll_auth")}
    med = {s: statistics.median(r.total_ms for r in rs) for s, rs in far.items() if rs}
    intr = {s: statistics.median(r.interruption_ms for r in rs) for s, rs in far.items() if rs}
    assert "full_eap_tls" in med and len(med) >= 4, med  # at most one cell lost to TCG noise
    for s in set(med) - {"full_eap_tls"}:
        assert med["full_eap_tls"] > 1.3 * med[s], med
        assert intr["full_eap_tls"] > 1.3 * intr[s], intr
    # EAP-TLS takes at least 4 round trips to the AAA server: the added 100 ms show 4 times over, on both clocks
    for r in far["full_eap_tls"]:
        assert r.phases_events["eap"] > 4 * 100, r.phases_events
        assert r.capture != "complete" or r.phases_pcap["eap"] > 4 * 100, r.phases_pcap


def test_only_full_eap_grows_with_aaa_rtt(tiny: dict) -> None:
    """+100 ms of AAA RTT: full EAP grows by several RTTs; the others stay within one RTT of where they were."""
    recs = tiny["records"]
    growth = {}
    for s in ("full_eap_tls", "pmksa_cache", "ft_eap_air", "mih_eap", "mih_ll_auth"):
        near, far = by(recs, s, 0), by(recs, s, 100)
        if near and far:
            growth[s] = statistics.median(r.interruption_ms for r in far) - \
                statistics.median(r.interruption_ms for r in near)
    print(f"\ninterruption growth from +0 to +100 ms AAA RTT (ms): {growth}")
    assert "full_eap_tls" in growth and len(growth) >= 4, growth
    assert growth["full_eap_tls"] > 3 * 100, growth
    for s, g in growth.items():
        if s != "full_eap_tls":
            assert abs(g) < 100, (s, growth)


def test_files(tiny: dict) -> None:
    res = tiny["results"]
    rows = (res / CSV).read_text().splitlines()
    assert len(rows) == 1 + N
    assert "capture" in rows[0].split(",")
    assert (res / "net-base" / "hwsim0.pcap").stat().st_size > 10000
    assert (res / "net-base" / "logs" / "sta1.wpa_supplicant.log").exists()
    s = stats.summarise(tiny["records"])
    assert {c["scheme"] for c in s["cells"]} == {"full_eap_tls", "pmksa_cache", "ft_eap_air", "mih_eap",
                                                 "mih_ll_auth"}
    mih = next(res.glob("net-measure-two-domain*"))
    assert (mih / "hwsim0.pcap").stat().st_size > 10000 and (mih / "logs" / "mn.agent.log").exists()


def test_netem_set_change_clear(tmp_path: Path) -> None:
    """The AAA-RTT impairment replaces and removes its qdisc (a leftover delay would skew later trials)."""
    ns = "mhimpairtest"
    network.create_namespace(ns)
    try:
        subprocess.run(["ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1"], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "v0", "up"], check=True)
        impair.set_netem(ns, "v0", delay_ms=100)
        assert impair.show(ns, "v0") == [{"kind": "netem", "delay_ms": 100.0, "loss_pct": 0.0}]
        impair.set_netem(ns, "v0", delay_ms=25, loss_pct=10)
        assert impair.show(ns, "v0") == [{"kind": "netem", "delay_ms": 25.0, "loss_pct": 10.0}]
        impair.set_netem(ns, "v0", delay_ms=5, rate_mbit=2.5)  # link rates of topology v2 use the same qdisc
        assert [q["kind"] for q in impair.show(ns, "v0")] == ["netem"]
        tc = subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "show", "dev", "v0"], capture_output=True,
                            text=True).stdout
        assert "delay 5ms" in tc and ("rate 2500Kbit" in tc or "rate 2.5Mbit" in tc), tc
        impair.clear(ns, "v0")
        assert [q["kind"] for q in impair.show(ns, "v0")] != ["netem"]
        impair.clear(ns, "v0")  # twice is fine
    finally:
        network.remove_namespace(ns)
