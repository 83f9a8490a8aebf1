"""Which MIH messages may travel unprotected: the policy table (per action, all its primitives and ACKs).

CLEAR: may travel without an SA, because it runs before one can exist. It is still protected whenever a
confirmed SA with the peer is up (a rekey's Auth then hides its EAP), and accepted unprotected on receipt
(a peer that lost its SA must be able to start over; an injected one can only start an EAP run, which
authenticates itself, and capability answers are bound into the SA by key confirmation).
PROTECT: only under an SA; arriving unprotected it is dropped (Unprotected). Unknown message IDs too.
"""
from __future__ import annotations

from ..mih.codepoints import ACTIONS
from ..mih.messages import SPECS

CLEAR, PROTECT = "clear", "protect"

POLICY: dict[str, str] = {
    # 802.21a service access authentication: discovery advertises sec_cap, Auth carries EAP and the
    # nonces, SAID and key confirmation that set the SA up
    "Capability_Discover": CLEAR,
    "Auth": CLEAR,
    # registration and subscriptions decide what a peer may learn and steer: only under an SA
    "Register": PROTECT,
    "DeRegister": PROTECT,
    "Event_Subscribe": PROTECT,
    "Event_Unsubscribe": PROTECT,
    # proactive authentication and key distribution travel through the serving SA (802.21a 10, N.3/N.4)
    "LL_Auth": PROTECT,
    "Pro_Auth": PROTECT,
    "Pro_Auth_Termination": PROTECT,
    "Push_Key": PROTECT,
    # events and commands: forged Link_Going_Down / handover commits are the attacks this stops
    "Link_Detected": PROTECT,
    "Link_Up": PROTECT,
    "Link_Down": PROTECT,
    "Link_Parameters_Report": PROTECT,
    "Link_Going_Down": PROTECT,
    "Link_Handover_Imminent": PROTECT,
    "Link_Handover_Complete": PROTECT,
    "Link_Get_Parameters": PROTECT,
    "Link_Configure_Thresholds": PROTECT,
    "Link_Actions": PROTECT,
    "Net_HO_Candidate_Query": PROTECT,
    "MN_HO_Candidate_Query": PROTECT,
    "N2N_HO_Query_Resources": PROTECT,
    "MN_HO_Commit": PROTECT,
    "Net_HO_Commit": PROTECT,
    "N2N_HO_Commit": PROTECT,
    "MN_HO_Complete": PROTECT,
    "N2N_HO_Complete": PROTECT,
    # information service: 802.21 allows unauthenticated IS queries before attachment; mihsec queries
    # only through the serving PoS after attachment, so it keeps them under the SA
    "Get_Information": PROTECT,
    "Push_Information": PROTECT,
}
assert set(POLICY) == set(ACTIONS), set(POLICY) ^ set(ACTIONS)
assert set(POLICY.values()) <= {CLEAR, PROTECT}

CLEAR_MIDS: frozenset[int] = frozenset(s.mid for n, s in SPECS.items() if POLICY[n.split(".")[0]] == CLEAR)


def may_be_clear(mid: int) -> bool:
    """Whether the message with this MID may travel unprotected (unknown MIDs may not)."""
    return mid in CLEAR_MIDS
