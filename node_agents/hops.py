"""Per-hop timestamps of pre-authentication messages, and the breakdown they give.

Every agent stamps each pre-authentication message where it passes, with time.monotonic(): CLOCK_MONOTONIC is
one clock for all processes and network namespaces of a kernel, so the MN agent's and the PoS agent's stamps
line up (the testbed runs every node on one kernel). A stamp is a float in a dict: cheap enough for the hot path.

EAP over MIH, one record per EAP round trip (the EAP-Response the peer sent, the answer it got):

    eapol_rx  MN EAPOL relay read the peer's EAPOL frame      mn_tx    MN agent sends Pro_Auth.request
    pos_rx    PoS MIHF read the datagram                      aaa_tx   PoS sends the RADIUS Access-Request
    aaa_rx    PoS got the verified RADIUS reply               pos_tx   PoS hands Pro_Auth.response to its MIHF
    mn_rx     MN agent has the response                       eapol_tx MN EAPOL relay wrote the answer
    (last round trip only) push_tx / push_rx: the PoS's Push_Key transaction with the target PoA
    the MN's record of the whole run: start (PREAUTH asked) and end (the peer's completion event)

LL_Auth, per frame at each PoA agent (matched across the two agents by the frame's CRC-32): l2_rx (read off the
AP's bridge), mih_tx (LL_Auth sent); at the other agent mih_rx (datagram arrived), l2_tx (written onto its
bridge). A round trip is a frame towards the target ("up_*" stamps) and the answer ("down_*").
"""
from __future__ import annotations

import statistics
from typing import Iterable, Sequence

Record = dict[str, float]

# (segment, from stamp, to stamp); "next:" = the stamp of the following record (the peer's think time)
EAP_SEGMENTS: tuple[tuple[str, str, str], ...] = (
    ("mn_agent_in", "eapol_rx", "mn_tx"),
    ("link_to_pos", "mn_tx", "pos_rx"),
    ("pos_in", "pos_rx", "aaa_tx"),
    ("aaa", "aaa_tx", "aaa_rx"),
    ("key_push", "push_tx", "push_rx"),
    ("pos_out", "aaa_rx", "pos_tx"),
    ("link_to_mn", "pos_tx", "mn_rx"),
    ("mn_agent_out", "mn_rx", "eapol_tx"),
    ("eap_peer", "eapol_tx", "next:eapol_rx"),
)
LL_SEGMENTS: tuple[tuple[str, str, str], ...] = (
    ("serving_poa_in", "up_l2_rx", "up_mih_tx"),
    ("link_up", "up_mih_tx", "up_mih_rx"),
    ("target_poa_out", "up_mih_rx", "up_l2_tx"),
    ("authenticator_aaa", "up_l2_tx", "down_l2_rx"),  # hostapd, its RADIUS client, the AAA server
    ("target_poa_in", "down_l2_rx", "down_mih_tx"),
    ("link_down", "down_mih_tx", "down_mih_rx"),
    ("serving_poa_out", "down_mih_rx", "down_l2_tx"),
    ("eap_peer", "down_l2_tx", "next:up_l2_rx"),  # the station, its link and the serving AP
)
MN_STAMPS = ("eapol_rx", "mn_tx", "mn_rx", "eapol_tx")
POS_STAMPS = ("pos_rx", "aaa_tx", "aaa_rx", "push_tx", "push_rx", "pos_tx")


def merge(mn: Sequence[Record], pos: Sequence[Record]) -> list[Record]:
    """The MN's and the PoS's records of one conversation, round trip by round trip. Both sides record the
    EAP Identifier ("id") of each Response: a pair that disagrees (a lost or repeated message) ends the merge."""
    out = []
    for a, b in zip(mn, pos):
        if a.get("id") != b.get("id"):
            break
        out.append({**b, **a})
    return out


def window(records: Sequence[Record], start: float | None, end: float | None, first: str, last: str) -> dict[str, float]:
    """The time before the first round trip (`first` stamp) and after the last (`last` stamp), in ms."""
    out = {}
    if records and start is not None and first in records[0]:
        out["before_first"] = round((records[0][first] - start) * 1000, 3)
    if records and end is not None and last in records[-1]:
        out["after_last"] = round((end - records[-1][last]) * 1000, 3)
    return out


def ll_rounds(frames_in: Sequence[Record]) -> list[Record]:
    """Round-trip records from the frames the PoA agents carried (their 'hops' answers, serving and target side
    together): each frame's stamps from both agents, matched by CRC in order; then an up frame and the down
    frame after it."""
    frames: list[Record] = []
    pending = {}  # CRC -> frames from the receiving side not matched yet (a retransmission repeats a CRC)
    for r in frames_in:
        if "l2_rx" not in r:
            pending.setdefault(r["crc"], []).append(r)
    for r in sorted((r for r in frames_in if "l2_rx" in r), key=lambda r: r["l2_rx"]):
        other = pending.get(r["crc"], [])
        mate = other.pop(0) if other else {}
        d = "up" if r["up"] else "down"
        frames.append({f"{d}_{k}": v for k, v in {**mate, **r}.items() if k not in ("crc", "up")})
    rounds: list[Record] = []
    for f in frames:
        if "up_l2_rx" in f:
            rounds.append(dict(f))
        elif rounds and "down_l2_rx" not in rounds[-1]:
            rounds[-1].update(f)
    return rounds


def segments(records: Sequence[Record], table: Iterable[tuple[str, str, str]] = EAP_SEGMENTS) -> dict[str, list[float]]:
    """Each segment's durations in ms, one per round trip that has both its stamps. The key push happens
    inside pos_out, so it is taken out of it."""
    out: dict[str, list[float]] = {}
    for i, r in enumerate(records):
        for name, a, b in table:
            end = r
            if b.startswith("next:"):
                if i + 1 == len(records):
                    continue
                end, b = records[i + 1], b.removeprefix("next:")
            if a not in r or b not in end:
                continue
            ms = (end[b] - r[a]) * 1000
            if name == "pos_out" and "push_tx" in r and "push_rx" in r:
                ms -= (r["push_rx"] - r["push_tx"]) * 1000
            out.setdefault(name, []).append(round(ms, 3))
    return out


def breakdown(records: Sequence[Record], table: Iterable[tuple[str, str, str]] = EAP_SEGMENTS,
              edges: dict[str, float] | None = None) -> dict:
    """One pre-authentication: per segment the total ms over its round trips and the median per round trip;
    `edges` (from window()) adds the time before the first and after the last round trip."""
    segs = segments(records, list(table))
    segs.update({k: [v] for k, v in (edges or {}).items()})
    return {"round_trips": len(records),
            "total_ms": {k: round(sum(v), 2) for k, v in segs.items()},
            "median_ms": {k: round(statistics.median(v), 2) for k, v in segs.items()}}
