"""The UDP probe: gap and loss arithmetic, and a real stream over loopback (no namespaces needed)."""
from __future__ import annotations

import time

from testbed.campaign.probe import Probe, ProbeResult


def test_interruption_is_the_longest_gap_and_loss_counts_missing() -> None:
    arr = [(0, 0.0, 10.000), (1, 0.0, 10.005), (2, 0.0, 10.010), (5, 0.0, 10.250), (6, 0.0, 10.255)]
    r = ProbeResult(sent=8, arrivals=arr, start=9.99, stop=10.26, rate=200, max_send_gap_ms=5.0)
    assert r.interruption_ms == 240.0 and r.longest_gap() == (10.010, 10.250)
    assert (r.received, r.lost) == (5, 3)
    assert r.first_after(10.1) == 10.250 and r.first_after(11) is None
    assert ProbeResult(10, [], 1.0, 2.5, 200, 5).interruption_ms == 1500.0  # nothing arrived
    stuck = ProbeResult(10, [(0, 0.0, 1.0)], 0.9, 3.0, 200, 5)
    assert stuck.interruption_ms == 2000.0  # never resumed: until the end of the stream


def test_loopback_stream() -> None:
    p = Probe(None, None, "127.0.0.1", port=50999, rate=200)
    p.start()
    time.sleep(0.5)
    r = p.stop()
    assert 60 <= r.sent <= 110, r.sent
    assert r.lost == 0 and r.received == r.sent
    assert r.interruption_ms < 100
    seqs = [s for s, _, _ in r.arrivals]
    assert seqs == sorted(seqs) and seqs[0] == 0
    assert all(tr >= ts - 0.001 for _, ts, tr in r.arrivals)  # kernel receive stamps, same clock


def test_bicast_through_two_legs_survives_one_going_down() -> None:
    """`via`: every packet leaves through each leg; one leg down mid-stream loses nothing, and the
    receiver counts each sequence number once (what the two-domain correspondent relies on)."""
    import os
    import shutil
    import subprocess

    import pytest

    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2 for network namespaces")
    tx, rx = "mhprobe-tx", "mhprobe-rx"

    def ip(*a: str) -> None:
        subprocess.run(["ip", *a], check=True, capture_output=True)

    try:
        ip("netns", "add", tx)
        ip("netns", "add", rx)
        for i in (0, 1):
            ip("-n", tx, "link", "add", f"s{i}", "type", "veth", "peer", "name", f"r{i}", "netns", rx)
            ip("-n", tx, "link", "set", f"s{i}", "up")
            ip("-n", rx, "link", "set", f"r{i}", "up")
            ip("-n", tx, "addr", "add", f"10.9.{i}.1/24", "dev", f"s{i}")
            mac = subprocess.run(["ip", "-n", rx, "-br", "link", "show", f"r{i}"], capture_output=True,
                                 text=True).stdout.split()[2]
            ip("-n", tx, "neigh", "replace", "10.9.0.2", "lladdr", mac, "dev", f"s{i}", "nud", "permanent")
        ip("-n", rx, "addr", "add", "10.9.0.2/24", "dev", "r0")
        p = Probe(tx, rx, "10.9.0.2", port=50998, rate=200, via=["s0", "s1"])
        p.start()
        time.sleep(0.4)
        ip("-n", tx, "link", "set", "s0", "down")  # the station left this domain
        time.sleep(0.4)
        r = p.stop()
    finally:
        subprocess.run(["ip", "netns", "del", tx], capture_output=True)
        subprocess.run(["ip", "netns", "del", rx], capture_output=True)
    assert r.sent > 100 and r.lost == 0, (r.sent, r.received)
    assert len(r.arrivals) > r.received  # duplicates while both legs were up, counted once
    assert r.interruption_ms < 100
