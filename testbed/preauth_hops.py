"""The per-hop breakdown of one MIH pre-authentication, from the stamps the agents kept (node_agents/hops.py).

The MN agent returns its own stamps with the pre-authentication result; the PoS (EAP over MIH) or the two PoA
agents (LL_Auth) answer a `hops` command with theirs. Used by the campaign schemes and the microbenchmark.
"""
from __future__ import annotations

from typing import Protocol

from node_agents.hops import EAP_SEGMENTS, LL_SEGMENTS, breakdown, ll_rounds, merge, window


class AgentLike(Protocol):
    def call(self, request: dict, timeout: float = 30.0) -> dict: ...


def eap_over_mih(result: dict, pos: AgentLike, mn_mac: str, target: str) -> dict:
    recs = pos.call({"cmd": "hops", "mn": mn_mac}).get("records", {}).get(f"{mn_mac} {target}", [])
    merged = merge(result.get("hops", []), recs)
    start, end = result.get("window") or (None, None)
    return breakdown(merged, EAP_SEGMENTS, window(merged, start, end, "eapol_rx", "eapol_tx"))


def ll_auth(result: dict, poas: list[AgentLike], mn_mac: str) -> dict:
    """`poas`: the PoA agents that may have carried the frames (at least the serving and the target one)."""
    start, end = result.get("window") or (0.0, None)
    frames = [f for a in poas for f in a.call({"cmd": "hops", "sta": mn_mac, "since": start}).get("frames", [])]
    rounds = ll_rounds(frames)
    return breakdown(rounds, LL_SEGMENTS, window(rounds, start, end, "up_l2_rx", "down_l2_tx"))
