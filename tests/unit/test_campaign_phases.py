"""Per-phase extraction on a known capture + log pair from a real run (tests/data/campaign), checked against
values read off the files with grep and tshark; the pcap parser against tshark itself."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from testbed.campaign.phases import (Frame, LogTail, PcapTail, disagreements, extract, parse_log, pcap_phases,
                                     read_pcap)

DATA = Path(__file__).resolve().parent.parent / "data" / "campaign"
STA, AP1, AP2 = "02:00:00:00:02:00", "02:00:00:00:00:00", "02:00:00:00:01:00"


@pytest.fixture(scope="module")
def data() -> dict:
    meta = json.loads((DATA / "trials.json").read_text())
    return {"meta": meta, "frames": read_pcap(DATA / "handovers.pcap"),
            "lines": parse_log((DATA / "sta1.wpa_supplicant.log").read_text())}


def run(data: dict, name: str):
    t = data["meta"]["trials"][name]
    return extract(data["lines"], data["frames"], data["meta"]["sta"], t["source"], t["target"], t["t_cmd"],
                   t["t_end"], t["arrivals"], t["ft"])


A = lambda v: pytest.approx(v, abs=0.002)  # noqa: E731 - ms, from µs timestamps


def test_full_eap_tls_both_clocks(data: dict) -> None:
    ex = run(data, "full_eap_tls")
    # log: cmd 652.0442953, SME 652.049619, Associated 652.139589, EAP 652.151363-652.300527,
    # Key negotiation 652.319476, CONNECTED 652.319713; first arrival after association 652.324034
    assert ex.events == {"trigger": A(5.324), "scan": None, "auth_assoc": A(89.970), "eap": A(149.164),
                         "key": A(18.949), "first_data": A(4.321)}
    assert ex.total_ms == A(275.418)
    # tshark: auth 652.116391, reassoc resp 652.135672, EAP 652.150263-success 652.298475, M4 652.312307,
    # first protected data ap1 -> sta 652.327824
    assert ex.pcap == {"trigger": None, "scan": None, "auth_assoc": A(19.281), "eap": A(148.212),
                       "key": A(13.832), "first_data": A(15.517)}
    assert (ex.eap_on_air, ex.key_msgs, ex.auth_alg, ex.ft_over_ds, ex.assoc_attempts) == (11, [1, 2, 3, 4], 0,
                                                                                           False, 1)
    assert ex.cleartext_data == 0
    # EAP differs by 0.95 ms (< 1 ms floor); the others by more than 5 %
    assert [d.split(":")[0] for d in ex.disagreements] == ["auth_assoc", "key", "first_data"]


def test_pmksa_cache_has_no_eap_and_shows_cleartext_frames(data: dict) -> None:
    ex = run(data, "pmksa_cache")
    assert ex.events == {"trigger": A(2.340), "scan": None, "auth_assoc": A(95.698), "eap": None,
                         "key": A(22.815), "first_data": A(4.321)}
    assert ex.total_ms == A(121.131)
    assert ex.pcap == {"trigger": None, "scan": None, "auth_assoc": A(39.934), "eap": None, "key": A(23.856),
                       "first_data": A(5.652)}
    assert (ex.eap_on_air, ex.key_msgs) == (0, [1, 2, 3, 4])
    # two probe packets (10.0.0.20 -> 10.0.0.100:50000) went out unencrypted between M2 and M3
    assert ex.cleartext_data == 2
    # 4-way: 22.8 vs 23.9 ms is 1.04 ms but only 4.4 %: not flagged
    assert [d.split(":")[0] for d in ex.disagreements] == ["auth_assoc", "first_data"]


def test_ft_over_ds(data: dict) -> None:
    ex = run(data, "ft_eap_ds")
    # no "SME: Trying to authenticate" (FT Action frames instead): auth+assoc runs from the command
    assert ex.events == {"trigger": None, "scan": None, "auth_assoc": A(100.002), "eap": None, "key": None,
                         "first_data": A(-0.500)}
    assert ex.total_ms == A(100.505)
    # FT Action request to ap1 at 676.011962, reassociation response from ap2 676.095313, data 676.112443
    assert ex.pcap == {"trigger": None, "scan": None, "auth_assoc": A(83.351), "eap": None, "key": None,
                       "first_data": A(17.130)}
    assert ex.ft_over_ds and ex.auth_alg is None and ex.key_msgs == [] and ex.eap_on_air == 0


def test_parser_agrees_with_tshark(data: dict) -> None:
    if not shutil.which("tshark"):
        pytest.fail("tshark is missing (make setup installs it)")
    fields = ["frame.time_epoch", "wlan.fc.type_subtype", "wlan.ta", "wlan.ra", "wlan.fc.protected", "eap.code",
              "wlan_rsna_eapol.keydes.msgnr", "wlan.fixed.auth.alg", "wlan.fixed.category_code"]
    argv = ["tshark", "-n", "-r", str(DATA / "handovers.pcap"), "-T", "fields", "-E", "occurrence=f"]
    for f in fields:
        argv += ["-e", f]
    rows = [l.split("\t") for l in subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines()]
    ours = data["frames"]
    assert len(rows) == len(ours) == 590

    def i(v: str) -> int | None:
        return None if not v else int(v, 16) if v.startswith("0x") else int(v)

    for f, r in zip(ours, rows):
        st = i(r[1])
        assert (round(f.t, 6), (f.type, f.subtype), f.ta, f.ra) == (round(float(r[0]), 6), (st >> 4, st & 0xF),
                                                                   r[2], r[3])
        assert (f.protected, f.eap_code, f.key_msg, f.auth_alg, f.category) == (
            r[4] in ("1", "True"), i(r[5]), i(r[6]), i(r[7]), i(r[8]))


def test_tails_read_only_what_is_new(tmp_path: Path) -> None:
    pcap = tmp_path / "live.pcap"
    raw = (DATA / "handovers.pcap").read_bytes()
    pcap.write_bytes(raw[:24 + 1000])  # the header and a record cut in the middle
    tail = PcapTail(pcap)
    first = tail.read_new()
    pcap.write_bytes(raw)
    rest = tail.read_new()
    assert len(first) + len(rest) == 590 and tail.read_new() == []
    log = tmp_path / "x.log"
    log.write_text("1.5: wlan0: A\n2.5: B\n3.0: part")
    lt = LogTail(log)
    assert lt.read_new() == []  # it starts at the end
    with open(log, "a") as f:
        f.write("ial\n4.0: wlan0: C\nnot a timestamped line\n")
    assert [(l.t, l.text) for l in lt.read_new()] == [(3.0, "partial"), (4.0, "C")]


def test_missing_response_and_disagreement_rules(data: dict) -> None:
    auth = Frame(10.0, 0, 11, STA, AP2, auth_alg=0, auth_seq=1, status=0)
    ph, info, _ = pcap_phases([auth], STA, AP1, AP2, 9.0, 11.0)
    assert ph["auth_assoc"] is None and info["assoc_attempts"] == 0
    # tcpdump missed the reassociation response: auth+assoc unknown, the 4-way still measured from the request
    t = data["meta"]["trials"]["pmksa_cache"]
    frames = [f for f in data["frames"] if not f.is_assoc_resp]
    ph, info, _ = pcap_phases(frames, STA, t["source"], t["target"], t["t_cmd"], t["t_end"])
    assert ph["auth_assoc"] is None and info["key_msgs"] == [1, 2, 3, 4]
    assert ph["key"] is None and ph["first_data"] == A(5.652)  # the key phase starts at the unseen response
    assert disagreements({"eap": 100.0, "key": 10.0}, {"eap": 104.9, "key": None}) == ["key: only events"]
    assert disagreements({"eap": 100.0}, {"eap": 106.0}) == ["eap: 100.0 vs 106.0 ms"]
    assert disagreements({"first_data": 0.5}, {"first_data": 1.4}) == []  # under the 1 ms floor
