"""Typical messages: the benchmark's workload, the fuzzer's seed corpus and a usage example."""
from __future__ import annotations

from . import mihtypes as T
from .compound import Alt, Ie
from .messages import Message

MN, POS, POS2 = "mn1@mihsec.test", "pos-a@mihsec.test", "pos-b@mihsec.test"
STA, AP1, AP2 = "02:00:00:00:01:00", "02:00:00:00:0a:01", "02:00:00:00:0b:01"


def mac(a: str) -> Alt:
    return Alt("mac", a)


def wifi(addr: str, poa: str | None = None) -> tuple:
    """LINK_TUPLE_ID of an 802.11 link (station address, optional AP address)."""
    return T.LINK_TUPLE_ID.cls(T.LINK_ID.cls("IEEE802_11", mac(addr)), mac(poa) if poa else None)


def link_up(tid: int = 1) -> Message:
    """The benchmark message: Link_Up.indication for a station associating to an AP."""
    return Message.of("Link_Up.indication", tid=tid, ack_req=True, src=MN, dst=POS, link_id=wifi(STA, AP1),
                      ip_renewal_flag=False)


def corpus() -> list[Message]:
    """One valid message of several shapes (nested lists, choices, IEs, 802.21a)."""
    lid = T.LINK_ID.cls("IEEE802_11", mac(STA))
    poa_ie = Ie("POA_AUTHENTICATOR", (POS2, "10.0.2.1", (13, 25), (0x000FAC01, 0x000FAC03), b"\x12\x34"))
    network = Ie("CONTAINER_NETWORK", (
        Ie("NETWORK_TYPE", T.NETWORK_TYPE.cls("IEEE802_11", None, None)), Ie("NETWORK_ID", "mihsec-b"),
        Ie("CONTAINER_POA", (Ie("POA_LINK_ADDR", mac(AP2)), poa_ie))))
    return [
        link_up(),
        Message.of("Capability_Discover.request", tid=2, src=MN, dst=POS,
                   event_list=frozenset({"Link_Up", "Link_Down", "Link_Going_Down"}),
                   command_list=frozenset({"Link_Get_Parameters", "MN_HO"}), transport_list=frozenset({"UDP"})),
        Message.of("Link_Going_Down.indication", tid=3, src=MN, dst=POS, link_id=wifi(STA, AP1),
                   time_interval=200, link_going_down_reason="link_parameter_degrading"),
        Message.of("Link_Parameters_Report.indication", tid=4, src=MN, dst=POS, link_id=wifi(STA),
                   link_param_report_list=(T.LINK_PARAM_RPT.cls(
                       T.LINK_PARAM.cls(Alt("ieee802_11", "rssi"), Alt("value", 40)),
                       T.THRESHOLD.cls(45, "below")),)),
        Message.of("Link_Actions.request", tid=5, src=POS, dst=MN, link_actions_list=(T.LINK_ACTION_REQ.cls(
            lid, mac(AP2), T.LINK_ACTION.cls("none", frozenset({"scan"})), 0),)),
        Message.of("MN_HO_Complete.request", tid=6, src=MN, dst=POS2, link_id=wifi(STA, AP1),
                   new_link_id=wifi(STA, AP2), ho_result="success"),
        Message.of("Get_Information.response", tid=7, src=POS, dst=MN, status="success",
                   ir_bin_data_list=((Ie("CONTAINER_LIST_OF_NETWORKS", (network,)),),)),
        Message.of("LL_Auth.request", tid=8, src=MN, dst=POS2, link_id=wifi(STA, AP2), ll_info=b"\xb0\x00" * 20),
        Message.of("Pro_Auth.request", tid=9, src=MN, dst=POS2, mn_mihf_id=MN, poa=mac(AP2),
                   eap_payload=bytes.fromhex("0201000a01") + b"mn1"),
        Message.of("Push_Key.request", tid=10, src=POS2, dst="ap-b@mihsec.test", mn_link_addr=mac(STA),
                   poa=mac(AP2), key_name=bytes(16), wrapped_key=bytes(40), key_lifetime=43200,
                   akm_suite=0x000FAC01, replay_counter=1, integrity_tag=bytes(16)),
        Message.of("Capability_Discover.response", tid=11, src=POS, dst=MN, status="success",
                   sec_cap=(frozenset({"eap_sa", "proactive"}), (1, 2))),
        Message.of("Auth.response", tid=12, src=POS, dst=MN, status="success", eap_payload=bytes.fromhex("03010004"),
                   key_lifetime=3600, nonce=bytes(range(32)), sa_id=0x1234, ciphersuite=1, auth_tag=bytes(16)),
    ]
