"""Which TLVs each MIH message carries, in order: the message table.

Every message starts with Source and Destination MIHF ID (TLVs 1, 2); the
table lists the TLVs after them, "?" marking an optional one. TLV order is
the order on the wire. Adding a primitive = adding an action in codepoints.py
and a line here. Compositions follow 802.21-2008 clause 8.6 as ODTONE
implements it; see docs/mih-codepoints.md for the 802.21a ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .basic import Codec
from .codepoints import ACTIONS, OPCODES, SERVICES, TLVS
from .tlvs import TLV_TYPES

MESSAGES: dict[str, str] = {
    # service management (802.21-2008 8.6.1)
    "Capability_Discover.request": "link_addr_list? event_list? command_list? iq_type_list? transport_list? "
                                   "mbb_ho_supp_list? sec_cap?",
    "Capability_Discover.response": "status link_addr_list? event_list? command_list? iq_type_list? "
                                    "transport_list? mbb_ho_supp_list? sec_cap?",
    "Register.request": "link_id_list reg_request_code",
    "Register.response": "status valid_time_interval?",
    "DeRegister.request": "",
    "DeRegister.response": "status",
    "Event_Subscribe.request": "link_id event_list evt_cfg_info_list?",
    "Event_Subscribe.response": "status link_id event_list?",
    "Event_Unsubscribe.request": "link_id event_list",
    "Event_Unsubscribe.response": "status link_id event_list?",
    # 802.21a security (LL_Auth per the 802.21m draft; the rest provisional)
    "LL_Auth.request": "link_id ll_info",
    "LL_Auth.response": "status link_id ll_info?",
    "Auth.request": "eap_payload? nonce? sa_id? ciphersuite? auth_tag?",
    "Auth.response": "status eap_payload? key_lifetime? nonce? sa_id? ciphersuite? auth_tag?",
    "Auth.indication": "eap_payload? status? nonce? sec_cap?",
    "Pro_Auth.request": "mn_mihf_id? mn_link_addr? poa? eap_payload",
    "Pro_Auth.response": "status mn_mihf_id? poa? eap_payload? key_lifetime? key_name?",
    "Pro_Auth.indication": "mn_mihf_id? poa? eap_payload? status?",
    "Pro_Auth_Termination.request": "mn_mihf_id? poa?",
    "Pro_Auth_Termination.response": "status",
    "Push_Key.request": "mn_mihf_id? mn_link_addr poa key_name wrapped_key key_lifetime? akm_suite? "
                        "replay_counter integrity_tag",
    "Push_Key.response": "status key_name replay_counter integrity_tag?",
    # events (8.6.2)
    "Link_Detected.indication": "link_det_info_list",
    "Link_Up.indication": "link_id old_access_router? new_access_router? ip_renewal_flag? mobility_mgmt?",
    "Link_Down.indication": "link_id old_access_router? link_down_reason",
    "Link_Parameters_Report.indication": "link_id link_param_report_list",
    "Link_Going_Down.indication": "link_id time_interval link_going_down_reason",
    "Link_Handover_Imminent.indication": "link_id new_link_id old_access_router? new_access_router?",
    "Link_Handover_Complete.indication": "link_id new_link_id old_access_router? new_access_router? status",
    # commands (8.6.3)
    "Link_Get_Parameters.request": "dev_states_req? link_id_list status_req_set",
    "Link_Get_Parameters.response": "status dev_states_rsp_list? status_rsp_list?",
    "Link_Configure_Thresholds.request": "link_id cfg_req_list",
    "Link_Configure_Thresholds.response": "status link_id cfg_rsp_list?",
    "Link_Actions.request": "link_actions_list",
    "Link_Actions.response": "status link_actions_result_list?",
    "Net_HO_Candidate_Query.request": "link_poa_list query_resource_report_flag",
    "Net_HO_Candidate_Query.response": "status link_id ho_status link_poa_list?",
    "MN_HO_Candidate_Query.request": "link_poa_list ho_resource_query_list ip_cfg_methods? dhcp_server_addr? "
                                     "fa_addr? access_router_addr?",
    "MN_HO_Candidate_Query.response": "status preferred_link_list?",
    "N2N_HO_Query_Resources.request": "mn_mihf_id link_id new_link_id? ho_resource_query_list?",
    "N2N_HO_Query_Resources.response": "status mn_mihf_id link_id? resource_status? ho_resource_query_list? "
                                       "ip_cfg_methods? dhcp_server_addr? fa_addr? access_router_addr?",
    "MN_HO_Commit.request": "link_type target_network_info",
    "MN_HO_Commit.response": "status link_type target_network_info?",
    "Net_HO_Commit.request": "link_type target_network_info_list link_actions_list?",
    "Net_HO_Commit.response": "status link_type target_network_info_list? link_actions_result_list?",
    "N2N_HO_Commit.request": "mn_mihf_id mn_link_id poa requested_resource_set",
    "N2N_HO_Commit.response": "status mn_mihf_id mn_link_id? resource_status assigned_resource_set?",
    "MN_HO_Complete.request": "link_id new_link_id ho_result",
    "MN_HO_Complete.response": "status resource_retention_status?",
    "N2N_HO_Complete.request": "mn_mihf_id link_id new_link_id ho_result",
    "N2N_HO_Complete.response": "status link_id? resource_retention_status?",
    # information service (8.6.4)
    "Get_Information.request": "iq_bin_data_list? iq_rdf_data_list? iq_rdf_schema_url? iq_rdf_schema_list? "
                               "max_response_size?",
    "Get_Information.response": "status ir_bin_data_list? ir_rdf_data_list? ir_rdf_schema_url_list? "
                                "ir_rdf_schema_list?",
    "Push_Information.indication": "ir_bin_data_list? ir_rdf_data_list?",
}


class TlvSpec(NamedTuple):
    name: str
    type: int
    codec: Codec
    mandatory: bool


class MsgSpec(NamedTuple):
    name: str                  # "Link_Up.indication"
    sid: int
    opcode: int
    aid: int
    mid: int                   # the 16-bit message ID: SID << 12 | opcode << 10 | AID
    tlvs: tuple[TlvSpec, ...]
    pos: dict[int, int]        # TLV type -> index in tlvs (order checks)
    names: frozenset[str]      # field names allowed in Message.fields


def _compile(name: str, layout: str) -> MsgSpec:
    action, primitive = name.split(".")
    service, aid = ACTIONS[action]
    sid, op = SERVICES[service].value, OPCODES[primitive].value
    tlvs = tuple(TlvSpec(n.rstrip("?"), TLVS[n.rstrip("?")].value, TLV_TYPES[n.rstrip("?")], not n.endswith("?"))
                 for n in ["src", "dst", *layout.split()])
    return MsgSpec(name, sid, op, aid.value, sid << 12 | op << 10 | aid.value, tlvs,
                   {t.type: i for i, t in enumerate(tlvs)}, frozenset(t.name for t in tlvs))


SPECS: dict[str, MsgSpec] = {n: _compile(n, lay) for n, lay in MESSAGES.items()}
BY_MID: dict[int, MsgSpec] = {s.mid: s for s in SPECS.values()}
assert len(BY_MID) == len(SPECS), "two messages share a message ID"


@dataclass(slots=True)
class Message:
    """One MIH message: its name, TLV values by field name (src and dst included) and header flags."""
    name: str
    fields: dict[str, Any] = field(default_factory=dict)
    tid: int = 0
    ack_req: bool = False
    ack_rsp: bool = False
    uir: bool = False

    @classmethod
    def of(cls, name: str, *, tid: int = 0, ack_req: bool = False, ack_rsp: bool = False, uir: bool = False,
           **fields: Any) -> "Message":
        return cls(name, fields, tid, ack_req, ack_rsp, uir)

    @property
    def spec(self) -> MsgSpec:
        return SPECS[self.name]

    @property
    def src(self) -> str:
        return self.fields["src"]

    @property
    def dst(self) -> str:
        return self.fields["dst"]

    @property
    def is_ack_only(self) -> bool:
        """A standalone acknowledgement: ACK-Rsp set and nothing but the two MIHF IDs."""
        return self.ack_rsp and self.fields.keys() <= {"src", "dst"}
