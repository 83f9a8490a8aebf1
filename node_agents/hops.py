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


def breakdown(records: Sequence[Record], table: Iterable[tuple[str, str, str]] = EAP_SEGMENTS) -> dict:
    """One pre-authentication: per segment the total ms over its round trips and the median per round trip."""
    segs = segments(records, list(table))
    return {"round_trips": len(records),
            "total_ms": {k: round(sum(v), 2) for k, v in segs.items()},
            "median_ms": {k: round(statistics.median(v), 2) for k, v in segs.items()}}
