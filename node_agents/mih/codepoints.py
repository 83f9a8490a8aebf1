"""Every MIH codepoint this library uses, each with its provenance.

Sources: STD = IEEE 802.21-2008 (numbers as in Wireshark's packet-mih.c and
ODTONE); DRAFT_M = the P802.21m draft (ISO/IEC/IEEE 8802-21:2018 lineage);
PROV = PROVISIONAL, our own choice for an unconfirmed 802.21a item. Provisional
TLVs sit in the experimental TLV range 101-255 (above 114, which ODTONE uses
internally), provisional Action IDs at the top of the 10-bit AID space, the
provisional IE in the vendor-specific IE range. Change them here only; docs/
mih-codepoints.md is generated from this module (python -m node_agents.mih.cpdoc).
"""
from __future__ import annotations

from typing import NamedTuple

STD, DRAFT_M, PROV = "802.21-2008", "P802.21m draft", "PROVISIONAL"


class Cp(NamedTuple):
    value: int
    source: str
    note: str = ""


VERSION = 1
UDP_PORT = 4551
ETHERTYPE = 0x8917

# Flag bits in header octet 4, above the 12-bit TID. The 802.21m draft (Fig. 28) places two bits, P and S,
# there; what they mean in 802.21a is not public. 802.21-2008 readers (ODTONE, our codec, Wireshark) ignore
# them, so an old peer decodes the header of a protected PDU and fails on its payload TLV instead.
HEADER_BITS: dict[str, Cp] = {
    "P": Cp(0x80, PROV, "802.21m draft bit name, meaning unknown: sent 0, ignored on receipt"),
    "S": Cp(0x40, PROV, "set = protected PDU (payload: Src, Dst, protected_payload); bit place from the "
                        "802.21m draft, meaning our reading of its name"),
}

# MIH SA ciphersuites (the sec_cap and ciphersuite TLVs carry these numbers). 802.21a's list is not public;
# its WG candidates were AES-CCM/CTR/CBC with HMAC-SHA1/SHA256: we offer only AEADs, so no MAC-then-encrypt
# composition and no integrity-only suite an attacker could steer the peers to.
CIPHERSUITES: dict[str, Cp] = {
    "AES-128-CCM-16": Cp(1, PROV, "mandatory: AES-128-CCM, 16-octet tag, nonce dir|SAID|SEQ (13 octets)"),
    "AES-128-GCM-16": Cp(2, PROV, "AES-128-GCM, 16-octet tag, nonce SAID|SEQ (12 octets), per-direction keys"),
}

SERVICES: dict[str, Cp] = {
    "SM": Cp(1, STD, "service management"),
    "ES": Cp(2, STD, "event service"),
    "CS": Cp(3, STD, "command service"),
    "IS": Cp(4, STD, "information service"),
}

OPCODES: dict[str, Cp] = {
    "confirm": Cp(0, STD, "SAP only, never on the wire"),
    "request": Cp(1, STD),
    "response": Cp(2, STD),
    "indication": Cp(3, STD),
}

# Action name -> (service, AID). Names are unique across services.
ACTIONS: dict[str, tuple[str, Cp]] = {
    "Capability_Discover": ("SM", Cp(1, STD)),
    "Register": ("SM", Cp(2, STD)),
    "DeRegister": ("SM", Cp(3, STD)),
    "Event_Subscribe": ("SM", Cp(4, STD)),
    "Event_Unsubscribe": ("SM", Cp(5, STD)),
    "LL_Auth": ("SM", Cp(9, DRAFT_M, "802.21a: carry link-layer authentication frames")),
    "Auth": ("SM", Cp(1008, PROV, "802.21a service access authentication: EAP over MIH, establishes the MIH SA")),
    "Pro_Auth": ("SM", Cp(1009, PROV, "802.21a proactive authentication: EAP between MN and a target authenticator")),
    "Pro_Auth_Termination": ("SM", Cp(1010, PROV, "802.21a: end a proactive authentication / drop its keys")),
    "Push_Key": ("SM", Cp(1011, PROV, "802.21a key push: PoS delivers a wrapped key to a PoA authenticator")),
    "Link_Detected": ("ES", Cp(1, STD)),
    "Link_Up": ("ES", Cp(2, STD)),
    "Link_Down": ("ES", Cp(3, STD)),
    "Link_Parameters_Report": ("ES", Cp(5, STD)),
    "Link_Going_Down": ("ES", Cp(6, STD)),
    "Link_Handover_Imminent": ("ES", Cp(7, STD)),
    "Link_Handover_Complete": ("ES", Cp(8, STD)),
    "Link_Get_Parameters": ("CS", Cp(1, STD)),
    "Link_Configure_Thresholds": ("CS", Cp(2, STD)),
    "Link_Actions": ("CS", Cp(3, STD)),
    "Net_HO_Candidate_Query": ("CS", Cp(4, STD)),
    "MN_HO_Candidate_Query": ("CS", Cp(5, STD)),
    "N2N_HO_Query_Resources": ("CS", Cp(6, STD)),
    "MN_HO_Commit": ("CS", Cp(7, STD)),
    "Net_HO_Commit": ("CS", Cp(8, STD)),
    "N2N_HO_Commit": ("CS", Cp(9, STD)),
    "MN_HO_Complete": ("CS", Cp(10, STD)),
    "N2N_HO_Complete": ("CS", Cp(11, STD)),
    "Get_Information": ("IS", Cp(1, STD)),
    "Push_Information": ("IS", Cp(2, STD)),
}

# TLV field name -> type number. Value types are declared in tlvs.py.
TLVS: dict[str, Cp] = {
    "src": Cp(1, STD, "Source MIHF ID"),
    "dst": Cp(2, STD, "Destination MIHF ID"),
    "status": Cp(3, STD, "Status"),
    "link_type": Cp(4, STD, "Link type"),
    "event_list": Cp(5, STD, "MIH event list"),
    "command_list": Cp(6, STD, "MIH command list"),
    "iq_type_list": Cp(7, STD, "MIIS query type list"),
    "transport_list": Cp(8, STD, "Transport option list"),
    "link_addr_list": Cp(9, STD, "Link address list (NET_TYPE_ADDR)"),
    "mbb_ho_supp_list": Cp(10, STD, "MBB handover support"),
    "reg_request_code": Cp(11, STD, "Register request code"),
    "valid_time_interval": Cp(12, STD, "Valid time interval"),
    "link_id": Cp(13, STD, "Link identifier (LINK_TUPLE_ID)"),
    "new_link_id": Cp(14, STD, "New link identifier"),
    "old_access_router": Cp(15, STD, "Old access router"),
    "new_access_router": Cp(16, STD, "New access router"),
    "ip_renewal_flag": Cp(17, STD, "IP renewal flag"),
    "mobility_mgmt": Cp(18, STD, "Mobility management support"),
    "ip_cfg_methods": Cp(19, STD, "IP address configuration methods"),
    "link_down_reason": Cp(20, STD, "Link down reason code"),
    "time_interval": Cp(21, STD, "Time interval"),
    "link_going_down_reason": Cp(22, STD, "Link going down reason"),
    "link_param_report_list": Cp(23, STD, "Link parameter report list"),
    "dev_states_req": Cp(24, STD, "Device states request"),
    "link_id_list": Cp(25, STD, "Link identifier list"),
    "dev_states_rsp_list": Cp(26, STD, "Device states response list"),
    "status_req_set": Cp(27, STD, "Get status request set"),
    "status_rsp_list": Cp(28, STD, "Get status response list"),
    "cfg_req_list": Cp(29, STD, "Configure request list"),
    "cfg_rsp_list": Cp(30, STD, "Configure response list"),
    "link_poa_list": Cp(31, STD, "List of link PoA list"),
    "preferred_link_list": Cp(32, STD, "Preferred link list (RQ_RESULT)"),
    "ho_resource_query_list": Cp(33, STD, "Handover resource query list (QOS_LIST)"),
    "ho_status": Cp(34, STD, "Handover status"),
    "access_router_addr": Cp(35, STD, "Access router address"),
    "dhcp_server_addr": Cp(36, STD, "DHCP server address"),
    "fa_addr": Cp(37, STD, "FA address"),
    "link_actions_list": Cp(38, STD, "Link actions list"),
    "link_actions_result_list": Cp(39, STD, "Link actions result list"),
    "ho_result": Cp(40, STD, "Handover result"),
    "resource_status": Cp(41, STD, "Resource status"),
    "resource_retention_status": Cp(42, STD, "Resource retention status"),
    "iq_bin_data_list": Cp(43, STD, "Info query binary data list"),
    "iq_rdf_data_list": Cp(44, STD, "Info query RDF data list"),
    "iq_rdf_schema_url": Cp(45, STD, "Info query RDF schema URL"),
    "iq_rdf_schema_list": Cp(46, STD, "Info query RDF schema list"),
    "max_response_size": Cp(47, STD, "Max response size"),
    "ir_bin_data_list": Cp(48, STD, "Info response binary data list"),
    "ir_rdf_data_list": Cp(49, STD, "Info response RDF data list"),
    "ir_rdf_schema_url_list": Cp(50, STD, "Info response RDF schema URL list"),
    "ir_rdf_schema_list": Cp(51, STD, "Info response RDF schema list"),
    "mn_mihf_id": Cp(52, STD, "Mobile node MIHF ID"),
    "query_resource_report_flag": Cp(53, STD, "Query resource report flag"),
    "evt_cfg_info_list": Cp(54, STD, "Event configuration info list"),
    "target_network_info": Cp(55, STD, "Target network info"),
    "target_network_info_list": Cp(56, STD, "List of target network info"),
    "assigned_resource_set": Cp(57, STD, "Assigned resource set"),
    "link_det_info_list": Cp(58, STD, "Link detected info list"),
    "mn_link_id": Cp(59, STD, "MN link ID"),
    "poa": Cp(60, STD, "PoA link address"),
    "unauth_info_req": Cp(61, STD, "Unauthenticated information request"),
    "network_type": Cp(62, STD, "Network type"),
    "requested_resource_set": Cp(63, STD, "Requested resource set"),
    # 802.21a security (names from the 802.21m draft where it has them, numbers unconfirmed)
    "eap_payload": Cp(160, PROV, "one EAP packet (RFC 3748), OCTET_STRING"),
    "ll_info": Cp(161, PROV, "LLInformation of LL_Auth (802.21m draft name): link-layer auth frame(s)"),
    "mn_link_addr": Cp(162, PROV, "MN link address a pushed key is bound to"),
    "key_name": Cp(163, PROV, "key name / PMKID"),
    "wrapped_key": Cp(164, PROV, "key wrapped for the PoA authenticator (e.g. AES key wrap)"),
    "key_lifetime": Cp(165, PROV, "key or SA lifetime, seconds"),
    "replay_counter": Cp(166, PROV, "monotonic replay counter, 8 octets"),
    "integrity_tag": Cp(167, PROV, "integrity tag over the preceding TLVs; last TLV of the message"),
    "akm_suite": Cp(168, PROV, "AKM suite selector (OUI + type) for the pushed key"),
    # MIH SA establishment and protected PDUs (node_agents.mihsa; docs/mih-security.md)
    "sec_cap": Cp(169, PROV, "SupportedSecurityCapList (802.21m draft name): SA modes + ciphersuite list"),
    "nonce": Cp(170, PROV, "32-octet fresh nonce of one side of an SA establishment"),
    "ciphersuite": Cp(171, PROV, "the MIH SA ciphersuite chosen by the responder (CIPHERSUITES)"),
    "sa_id": Cp(172, PROV, "MIH SA identifier (SAID), 4 octets, non-zero, assigned by the responder"),
    "auth_tag": Cp(173, PROV, "SA key confirmation: HMAC-SHA256-128 under MIIK over the transcript hash"),
    "protected_payload": Cp(174, PROV, "protected PDU envelope SAID(4) SEQ(8) ciphertext tag(16); "
                                       "only TLV after Src and Dst, with header bit S"),
}

# Information Element type identifiers (4 octets) for IS binary queries/responses.
IES: dict[str, Cp] = {
    "NETWORK_TYPE": Cp(0x10000000, STD),
    "OPERATOR_ID": Cp(0x10000001, STD),
    "SERVICE_PROVIDER_ID": Cp(0x10000002, STD),
    "COUNTRY_CODE": Cp(0x10000003, STD),
    "NETWORK_ID": Cp(0x10000100, STD),
    "NETWORK_AUX_ID": Cp(0x10000101, STD),
    "ROAMING_PARTNERS": Cp(0x10000102, STD),
    "COST": Cp(0x10000103, STD),
    "NETWORK_QOS": Cp(0x10000105, STD),
    "NETWORK_DATA_RATE": Cp(0x10000106, STD),
    "NET_REGULT_DOMAIN": Cp(0x10000107, STD),
    "NET_FREQUENCY_BANDS": Cp(0x10000108, STD),
    "NET_IP_CFG_METHODS": Cp(0x10000109, STD),
    "NET_CAPABILITIES": Cp(0x1000010A, STD),
    "NET_SUPPORTED_LCP": Cp(0x1000010B, STD),
    "NET_MOB_MGMT_PROT": Cp(0x1000010C, STD),
    "POA_LINK_ADDR": Cp(0x10000200, STD),
    "POA_LOCATION": Cp(0x10000201, STD),
    "POA_CHANNEL_RANGE": Cp(0x10000202, STD),
    "POA_SUBNET_INFO": Cp(0x10000204, STD),
    "POA_IP_ADDR": Cp(0x10000205, STD),
    "CONTAINER_LIST_OF_NETWORKS": Cp(0x10000300, STD),
    "CONTAINER_NETWORK": Cp(0x10000301, STD),
    "CONTAINER_POA": Cp(0x10000302, STD),
    "POA_AUTHENTICATOR": Cp(0x7FA10001, PROV, "target authenticator / point of service reachable for a PoA"),
}
