"""Per-hop stamps of pre-authentication (node_agents/hops.py) and the campaign's pre-auth figures."""
from __future__ import annotations

import os
import zlib

from node_agents.hops import EAP_SEGMENTS, LL_SEGMENTS, breakdown, ll_rounds, merge, segments, window
from node_agents.mih.pcap import udp_frame
from testbed.campaign.preauth import compare, hops_summary, report_lines


def _rt(t: float, ident: int) -> tuple[dict, dict]:
    """MN and PoS stamps of one round trip starting at t (s): 1 ms per hop, AAA 10 ms, peer 5 ms."""
    mn = {"id": ident, "eapol_rx": t, "mn_tx": t + .001, "mn_rx": t + .016, "eapol_tx": t + .017}
    pos = {"id": ident, "pos_rx": t + .002, "aaa_tx": t + .003, "aaa_rx": t + .013, "pos_tx": t + .014}
    return mn, pos


def test_merge_and_segments_of_eap_over_mih() -> None:
    pairs = [_rt(10 + i * .022, i) for i in range(3)]
    recs = merge([m for m, _ in pairs], [p for _, p in pairs])
    segs = segments(recs)
    assert segs["aaa"] == [10.0] * 3 and segs["link_to_pos"] == [1.0] * 3
    assert segs["link_to_mn"] == [2.0] * 3
    assert segs["eap_peer"] == [5.0] * 2  # the last round trip has no next one
    b = breakdown(recs, EAP_SEGMENTS, window(recs, 9.99, 10 + 2 * .022 + .017 + .004, "eapol_rx", "eapol_tx"))
    assert b["round_trips"] == 3 and b["total_ms"]["aaa"] == 30.0
    assert b["total_ms"]["before_first"] == 10.0 and b["total_ms"]["after_last"] == 4.0


def test_merge_stops_at_a_mismatched_identifier() -> None:
    (m0, p0), (m1, p1) = _rt(0, 1), _rt(1, 2)
    p1["id"] = 7
    assert len(merge([m0, m1], [p0, p1])) == 1


def test_key_push_is_taken_out_of_pos_out() -> None:
    m, p = _rt(0, 1)
    p.update(push_tx=.0135, push_rx=.0235, pos_tx=.024)
    segs = segments([{**p, **m, "mn_rx": .026, "eapol_tx": .027}])
    assert segs["key_push"] == [10.0] and segs["pos_out"] == [1.0]


def test_ll_rounds_pair_frames_of_both_agents_by_crc() -> None:
    up, down = os.urandom(40), os.urandom(40)
    serving = [{"crc": zlib.crc32(up), "up": True, "l2_rx": 1.000, "mih_tx": 1.001},
               {"crc": zlib.crc32(down), "up": False, "mih_rx": 1.020, "l2_tx": 1.021}]
    target = [{"crc": zlib.crc32(up), "up": True, "mih_rx": 1.003, "l2_tx": 1.004},
              {"crc": zlib.crc32(down), "up": False, "l2_rx": 1.014, "mih_tx": 1.015}]
    rounds = ll_rounds(serving + target)
    assert len(rounds) == 1
    segs = segments(rounds, LL_SEGMENTS)
    assert segs["authenticator_aaa"] == [10.0] and segs["link_up"] == [2.0] and segs["link_down"] == [5.0]


def test_campaign_compares_preauth_with_eap_over_the_air() -> None:
    b = {"round_trips": 5, "total_ms": {"aaa": 50.0}, "median_ms": {"aaa": 10.0}}
    hs = hops_summary([b, {**b, "total_ms": {"aaa": 70.0}}, {}])
    assert hs["n"] == 2 and hs["total_ms"]["aaa"] == 60.0
    cells = [{"scheme": "full_eap_tls", "params": {"aaa_rtt_ms": 0}, "prep_ms": {"n": 0},
              "phases_events": {"eap": {"median": 200.0}}},
             {"scheme": "mih_eap", "params": {"aaa_rtt_ms": 0}, "prep_ms": {"n": 2, "median": 300.0},
              "preauth_hops": hs},
             {"scheme": "mih_eap", "params": {"aaa_rtt_ms": 50}, "prep_ms": {"n": 2, "median": 500.0}}]
    rows = compare(cells)
    assert [(r["params"]["aaa_rtt_ms"], r["ratio"]) for r in rows] == [(0, 1.5), (50, None)]
    text = "\n".join(report_lines(rows))
    assert "| mih_eap | 0 | 0 | 300 | 200 | 1.50 | 60 | 0.30 | 5 |" in text and "| aaa | 60.0 | 10.00 |" in text


def test_pcap_frame_headers() -> None:
    f = udp_frame(b"\x10" * 11, ("10.0.0.1", 4551), ("10.0.0.2", 9))
    assert len(f) == 14 + 20 + 8 + 11 and f[12:14] == b"\x08\x00"
    words = [int.from_bytes(f[14 + i:16 + i], "big") for i in range(0, 20, 2)]
    total = sum(words)
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF  # a valid IPv4 header checksum sums to all ones


def test_summary_json_carries_preauth_per_scheme_and_rtt() -> None:
    from testbed.campaign import stats
    from testbed.campaign.record import HandoverRecord

    recs = []
    for rtt in (0, 100):
        for i in range(3):
            recs.append(HandoverRecord("t", "full_eap_tls", i, {"aaa_rtt_ms": rtt}, "a", "b",
                                       phases_events={"eap": 200.0 + 5 * rtt}, total_ms=400.0))
            b = {"round_trips": 5, "total_ms": {"aaa": 10.0 + 5 * rtt + i}, "median_ms": {"aaa": 2.0}}
            recs.append(HandoverRecord("t", "mih_eap", i, {"aaa_rtt_ms": rtt}, "a", "b", total_ms=100.0,
                                       prep_ms=260.0 + 5 * rtt + i, prep_hops=b))
    s = stats.summarise(recs)
    rows = {(r["scheme"], r["params"]["aaa_rtt_ms"]): r for r in s["preauth"]}
    assert set(rows) == {("mih_eap", 0), ("mih_eap", 100)}  # full_eap_tls prepares nothing
    assert rows[("mih_eap", 0)]["preauth_ms"] == 261.0 and rows[("mih_eap", 0)]["eap_over_air_ms"] == 200.0
    assert rows[("mih_eap", 100)]["ratio"] == round(761.0 / 700.0, 2)
    assert rows[("mih_eap", 100)]["hops"]["total_ms"]["aaa"] == 511.0
