"""The wireless medium with real radios: the signal it computes is what wpa_supplicant sees, distance decides
association, and moving a station out of range and back makes the kernel lose and regain the link."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from testbed import topology
from testbed.errors import DaemonError
from testbed.medium import framelog
from testbed.medium.netlink import HwsimSocket
from testbed.medium.propagation import Link, LogDistance, rssi
from testbed.net import Network
from testbed.plan import make_plan

from .conftest import assert_nothing_left

TOPO = "medium-two-ap"
CH1, CH6 = 2412, 2437


def model(d: float, freq: int = CH1) -> float:
    """Hand-checked: 14 dBm + 5 + 5 dBi - (40.1 dB at 1 m + 30 log10 d) at 2412 MHz."""
    return rssi(LogDistance(exp=3), Link(d, freq), 14, 5, 5)


def medium_procs() -> list[str]:
    return subprocess.run(["pgrep", "-a", "-f", "--", "-m testbed.medium"], capture_output=True,
                          text=True).stdout.splitlines()


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory):
    root = Path(os.environ.get("MIHSEC_TEST_RESULTS") or tmp_path_factory.mktemp("r"))
    n = Network(make_plan(topology.load(TOPO)), root / "medium", with_agents=False)
    with n:
        yield n
    assert_nothing_left()
    assert medium_procs() == []
    probe = HwsimSocket()  # the medium unregistered: a new one can register (else -EBUSY)
    try:
        probe.register()
    finally:
        probe.close()


def poll_rssi(net: Network) -> int:
    return int(net.stations["sta1"].wpas.request("SIGNAL_POLL").split("RSSI=")[1].split()[0])


def scan_level(net: Network, ap: str, freq: int) -> int | None:
    wpas = net.stations["sta1"].wpas
    wpas.scan([freq])
    bss = wpas.bss(net.aps[ap].bssid)
    return int(bss["level"]) if "level" in bss else None


def move(net: Network, x: float, y: float = 0) -> None:
    assert net.medium is not None
    net.medium.move("sta1", (x, y, 0))


def test_signal_is_the_model_at_two_distances(net: Network) -> None:
    assert net.medium is not None
    assert abs(net.medium.signal("ap1", "sta1", CH1) - model(10)) < 0.01  # the process runs the same model
    for d in (10, 60):
        move(net, d)
        level = scan_level(net, "ap1", CH1)  # the scan also brings a fresh beacon for SIGNAL_POLL
        assert level is not None and abs(level - model(d)) <= 1, (d, level, model(d))
        assert abs(poll_rssi(net) - model(d)) <= 1, (d, poll_rssi(net), model(d))
    assert round(model(10)) == -46 and round(model(60)) == -69  # two distances, two clearly different signals


def test_out_of_range_does_not_associate(net: Network) -> None:
    sta, ap2 = net.stations["sta1"], net.aps["ap2"]
    move(net, 60)  # 340 m from ap2: model(340) = -92 dBm, below the -91 dBm noise floor
    assert model(340) < -91
    assert scan_level(net, "ap2", CH6) is None
    wpas = sta.wpas
    net_id = sta.plan.net_id(ap2.plan.ssid)
    wpas.ok("DISCONNECT")  # SELECT_NETWORK of the block in use is a no-op: leave ap1 first
    wpas.set_network(net_id, "bssid", ap2.bssid)
    mark = wpas.mark()
    wpas.ok("REASSOCIATE")
    for _ in range(2):  # two full scans that cannot find it
        wpas.wait_event(["CTRL-EVENT-SCAN-RESULTS"], timeout=60)
    tried = [e.text for e in wpas.mon.since(mark) if e.name in ("CTRL-EVENT-CONNECTED", "SME:", "Trying")]
    assert tried == [] and wpas.status()["wpa_state"] != "COMPLETED", tried
    wpas.ok("DISCONNECT")  # stop trying, so the next association is ours to time
    move(net, 370)  # 30 m from ap2: the same association now succeeds
    net.associate("sta1", "ap2")
    assert wpas.status()["bssid"] == ap2.bssid
    assert abs(poll_rssi(net) - model(30, CH6)) <= 1


def test_moving_away_loses_the_link_and_back_reconnects(net: Network) -> None:
    wpas = net.stations["sta1"].wpas
    assert wpas.status()["wpa_state"] == "COMPLETED"
    wpas.mark()
    t0 = time.monotonic()
    move(net, 200, 450)  # about 500 m from both APs
    lost = wpas.wait_event(["CTRL-EVENT-BEACON-LOSS", "CTRL-EVENT-DISCONNECTED"], timeout=30)
    if lost.name == "CTRL-EVENT-BEACON-LOSS":
        wpas.wait_event(["CTRL-EVENT-DISCONNECTED"], timeout=30)
    print(f"link lost {lost.mono - t0:.2f} s after the move ({lost.name})")
    wpas.mark()
    t1 = time.monotonic()
    move(net, 370)
    ev = wpas.wait_event(["CTRL-EVENT-CONNECTED"], timeout=90)
    print(f"reconnected {ev.mono - t1:.2f} s after moving back")
    assert wpas.status()["bssid"] == net.aps["ap2"].bssid  # ap1 is 370 m away: only ap2 is in range


def test_counters_and_frame_log(net: Network) -> None:
    assert net.medium is not None
    c = net.medium.stats()
    print("medium counters:", c)
    assert c["frames"] > 0 and c["acked"] > 0 and c["unacked"] > 0 and c["group"] > 0
    deadline = time.monotonic() + 5  # the log is flushed every 0.5 s: wait for it to hold the frames counted
    while True:
        radios, recs = framelog.read(net.medium.frames)
        if len(recs) >= c["frames"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    names = {r["index"]: r["node"] for r in radios}
    assert len(recs) >= c["frames"], (len(recs), c["frames"])
    beacons = [r for r in recs if r.subtype == (0, 8)]
    assert {names[r.tx] for r in beacons} == {"ap1", "ap2"}
    assert all(a.realtime <= b.realtime and a.monotonic <= b.monotonic for a, b in zip(recs, recs[1:]))
    assert abs(recs[-1].realtime - time.time()) < 60  # CLOCK_REALTIME: the daemons' clock


def test_medium_death_fails_the_run(net: Network) -> None:
    assert net.medium is not None and net.medium.proc is not None
    os.kill(net.medium.proc.pid, signal.SIGKILL)
    with pytest.raises(DaemonError, match="medium: died during the run"):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.05)
