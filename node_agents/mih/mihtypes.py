"""802.21-2008 Annex F data types, declared as a table of codecs.

Each name is the standard's data type name; the structure follows Annex F as
implemented by ODTONE (checked where Wireshark decodes the type too). Optional
members are CHOICE(NULL, X) = Opt(X); the NULL alternative is always index 0.
"""
from __future__ import annotations

from .basic import (Bitmap, Bool, Enum, FixedText, Int, IpAddr, MacAddr, Null, Octets, OctetString,
                    Text, Uint)
from .compound import Choice, ListOf, Opt, Seq

U1, U2, U4, U8 = Uint(1), Uint(2), Uint(4), Uint(8)
BOOLEAN, OCTET_STRING, TEXT = Bool(), OctetString(), Text()

# --- identifiers and addresses (F.3, F.4) ---
MIHF_ID = Text()  # an NAI; also the form for MN MIHF ID
IP_ADDR = IpAddr()
MAC_ADDR = MacAddr()
LINK_TYPE = Enum("LINK_TYPE", {1: "GSM", 2: "GPRS", 3: "EDGE", 15: "Ethernet", 18: "Wireless_Other",
                               19: "IEEE802_11", 22: "CDMA2000", 23: "UMTS", 24: "CDMA2000_HRPD",
                               27: "IEEE802_16", 28: "IEEE802_20", 29: "IEEE802_22"})
LINK_ADDR = Choice(
    "LINK_ADDR",
    mac=MAC_ADDR,
    cell_3g=Seq("CELL_3G", plmn_id=Octets(3), cell_id=U4),
    cell_2g=Seq("CELL_2G", plmn_id=Octets(3), lac=Octets(2), ci=Octets(2)),
    addr_3gpp=OCTET_STRING,
    addr_3gpp2=OCTET_STRING,
    other_l2=OCTET_STRING,
)
LINK_ID = Seq("LINK_ID", link_type=LINK_TYPE, link_addr=LINK_ADDR)
LINK_TUPLE_ID = Seq("LINK_TUPLE_ID", link=LINK_ID, poa_addr=Opt(LINK_ADDR))
NETWORK_TYPE = Seq("NETWORK_TYPE", link_type=Opt(LINK_TYPE), subtype=Opt(Bitmap("LINK_SUBTYPE", 8, {})),
                   type_ext=Opt(OCTET_STRING))
NET_TYPE_ADDR = Seq("NET_TYPE_ADDR", net_type=NETWORK_TYPE, link_addr=LINK_ADDR)
LINK_POA_LIST = Seq("LINK_POA_LIST", link=LINK_ID, poa_addrs=ListOf(LINK_ADDR))

# --- status, reasons, codes ---
STATUS = Enum("STATUS", {0: "success", 1: "unspecified_failure", 2: "rejected", 3: "authorization_failure",
                         4: "network_error"})
REG_REQUEST_CODE = Enum("REG_REQUEST_CODE", {0: "registration", 1: "re_registration"})
LINK_DN_REASON = Enum("LINK_DN_REASON", {0: "explicit_disconnect", 1: "packet_timeout", 2: "no_resource",
                                         3: "no_broadcast", 4: "authentication_failure", 5: "billing_failure"})
LINK_GD_REASON = Enum("LINK_GD_REASON", {0: "explicit_disconnect", 1: "link_parameter_degrading",
                                         2: "low_power", 3: "no_resource"})
HO_STATUS = Enum("HO_STATUS", {0: "permitted", 1: "declined"})
HO_RESULT = Enum("HO_RESULT", {0: "success", 1: "failure", 2: "rejected"})

# --- capability bitmaps (F.3) ---
MIH_EVT_LIST = Bitmap("MIH_EVT_LIST", 4, dict(enumerate((
    "Link_Detected", "Link_Up", "Link_Down", "Link_Parameters_Report", "Link_Going_Down",
    "Link_Handover_Imminent", "Link_Handover_Complete", "Link_PDU_Transmit_Status"))))
MIH_CMD_LIST = Bitmap("MIH_CMD_LIST", 4, dict(enumerate((
    "Link_Get_Parameters", "Link_Configure_Thresholds", "Link_Actions", "Net_HO", "MN_HO"))))
IQ_TYPE_LIST = Bitmap("IQ_TYPE_LIST", 8, dict(enumerate((
    "binary_data", "rdf_data", "rdf_schema_url", "rdf_schema", "network_type", "operator_id",
    "service_provider_id", "country_code", "network_id", "network_aux_id", "roaming_partners", "cost",
    "network_qos", "network_data_rate", "regult_domain", "frequency_bands", "ip_cfg_methods",
    "net_capabilities", "supported_lcp", "mob_mgmt_prot", "emserv_proxy", "ims_proxy_cscf",
    "mobile_network", "poa_link_addr", "poa_location", "poa_channel_range", "poa_system_info",
    "poa_subnet_info", "poa_ip_addr"))))
TRANSPORT_LIST = Bitmap("TRANSPORT_LIST", 2, {0: "UDP", 1: "TCP"})
IP_MOB_MGMT = Bitmap("IP_MOB_MGMT", 2, dict(enumerate((
    "MIPv4", "MIPv4_regional", "MIPv6", "HMIPv6", "low_latency_handoffs", "FMIPv6", "IKEv2_MOBIKE"))))
IP_CFG_METHODS = Bitmap("IP_CFG_METHODS", 4, {0: "IPv4_static", 1: "IPv4_DHCP", 2: "MIPv4_FA_CoA",
                                              3: "MIPv4_colocated_CoA", 11: "IPv6_SLAAC", 12: "IPv6_DHCP",
                                              13: "IPv6_manual"})
NET_CAPS = Bitmap("NET_CAPS", 4, {0: "security", 1: "qos_class_0", 2: "qos_class_1", 3: "qos_class_2",
                                  4: "qos_class_3", 5: "qos_class_4", 6: "qos_class_5", 7: "internet_access",
                                  8: "emergency_services", 9: "mih_capability"})
LINK_MIHCAP_FLAG = Bitmap("LINK_MIHCAP_FLAG", 1, {1: "event_service", 2: "command_service",
                                                  3: "information_service"})
MBB_HO_SUPP = Seq("MBB_HO_SUPP", from_net=NETWORK_TYPE, to_net=NETWORK_TYPE, supported=BOOLEAN)

# --- link parameters, thresholds, QoS (F.4, F.9) ---
COS_VAL = Seq("COS_VAL", cos_id=U1, value=U2)
QOS_LIST = Seq("QOS_LIST", num_cos_types=U1, min_pk_tx_delay=ListOf(COS_VAL), avg_pk_tx_delay=ListOf(COS_VAL),
               max_pk_tx_delay=ListOf(COS_VAL), pk_delay_jitter=ListOf(COS_VAL), pk_loss_rate=ListOf(COS_VAL))
QOS_PARAM_VAL = Choice("QOS_PARAM_VAL", num_cos_types=U1, min_pk_tx_delay=ListOf(COS_VAL),
                       avg_pk_tx_delay=ListOf(COS_VAL), max_pk_tx_delay=ListOf(COS_VAL),
                       pk_delay_jitter=ListOf(COS_VAL), pk_loss_rate=ListOf(COS_VAL))
LINK_PARAM_TYPE = Choice(
    "LINK_PARAM_TYPE",
    gen=Enum("LINK_PARAM_GEN", {0: "data_rate", 1: "signal_strength", 2: "sinr", 3: "throughput",
                                4: "packet_error_rate"}),
    qos=U1, gg=U1, edge=U1, eth=U1,
    ieee802_11=Enum("LINK_PARAM_802_11", {0: "rssi", 1: "no_qos_resource", 2: "multicast_packet_loss_rate"}),
    c2k=U1, fdd=U1, hrpd=U1, ieee802_16=U1, ieee802_20=U1, ieee802_22=U1,
)
LINK_PARAM = Seq("LINK_PARAM", type=LINK_PARAM_TYPE, value=Choice("LINK_PARAM_VALUE", value=U2, qos=QOS_PARAM_VAL))
THRESHOLD = Seq("THRESHOLD", value=U2, x_dir=Enum("THRESHOLD_X_DIR", {0: "above", 1: "below"}))
LINK_PARAM_RPT = Seq("LINK_PARAM_RPT", param=LINK_PARAM, threshold=Opt(THRESHOLD))
LINK_CFG_PARAM = Seq("LINK_CFG_PARAM", type=LINK_PARAM_TYPE, timer_interval=Opt(U2),
                     action=Enum("TH_ACTION", {0: "normal", 1: "one_shot", 2: "cancel"}),
                     thresholds=ListOf(THRESHOLD))
LINK_CFG_STATUS = Seq("LINK_CFG_STATUS", type=LINK_PARAM_TYPE, threshold=THRESHOLD, config_ok=BOOLEAN)
SIG_STRENGTH = Choice("SIG_STRENGTH", dbm=Int(1), percentage=U1)
LINK_DET_CFG = Seq("LINK_DET_CFG", network_id=Opt(TEXT), sig_strength=Opt(SIG_STRENGTH), data_rate=Opt(U4))
EVT_CFG_INFO = Choice("EVT_CFG_INFO", detect=ListOf(LINK_DET_CFG), thresholds=ListOf(LINK_CFG_PARAM))
LINK_DET_INFO = Seq("LINK_DET_INFO", link=LINK_TUPLE_ID, network_id=TEXT, net_aux_id=OCTET_STRING,
                    sig_strength=SIG_STRENGTH, sinr=U2, data_rate=U4, mih_caps=LINK_MIHCAP_FLAG,
                    net_caps=NET_CAPS)

# --- Link_Get_Parameters (F.4) ---
DEV_STATES_REQ = Bitmap("DEV_STATES_REQ", 2, {0: "device_info", 1: "batt_level"})
DEV_STATES_RSP = Choice("DEV_STATES_RSP", device_info=TEXT, batt_level=Int(1))
LINK_STATUS_REQ = Seq("LINK_STATUS_REQ", states_req=Bitmap("LINK_STATES_REQ", 2, {0: "op_mode", 1: "channel_id"}),
                      param_types=ListOf(LINK_PARAM_TYPE),
                      desc_req=Bitmap("LINK_DESC_REQ", 2, {0: "num_cos", 1: "num_queue"}))
LINK_STATES_RSP = Choice("LINK_STATES_RSP",
                         op_mode=Enum("OP_MODE", {0: "normal", 1: "power_saving", 2: "powered_down"}),
                         channel_id=U2)
LINK_STATUS_RSP = Seq("LINK_STATUS_RSP", states=ListOf(LINK_STATES_RSP), params=ListOf(LINK_PARAM),
                      descs=ListOf(Choice("LINK_DESC_RSP", num_cos=U1, num_queue=U1)))
STATUS_RSP = Seq("STATUS_RSP", link=LINK_ID, status=LINK_STATUS_RSP)

# --- Link_Actions (F.4) ---
LINK_ACTION = Seq("LINK_ACTION",
                  type=Enum("LINK_AC_TYPE", {0: "none", 1: "disconnect", 2: "low_power", 3: "power_down",
                                             4: "power_up"}),
                  attr=Bitmap("LINK_AC_ATTR", 1, {0: "scan", 1: "res_retain", 2: "data_fwd_req"}))
LINK_ACTION_REQ = Seq("LINK_ACTION_REQ", link=LINK_ID, poa_addr=Opt(LINK_ADDR), action=LINK_ACTION,
                      ex_time=U2)
LINK_SCAN_RSP = Seq("LINK_SCAN_RSP", link_addr=LINK_ADDR, network_id=TEXT, sig_strength=SIG_STRENGTH)
LINK_ACTION_RSP = Seq("LINK_ACTION_RSP", link=LINK_ID,
                      result=Enum("LINK_AC_RESULT", {0: "success", 1: "failure", 2: "refused", 3: "incapable"}),
                      scan=Opt(ListOf(LINK_SCAN_RSP)))

# --- handover (F.6); the 3-way CHOICEs follow ODTONE and Wireshark (NULL, BOOLEAN, value) ---
def _nb(name: str, value) -> Choice:
    return Choice(name, none=Null(), flag=BOOLEAN, value=value)


RQ_RESULT = Seq("RQ_RESULT", poa_list=LINK_POA_LIST, qos=QOS_LIST, ip_cfg=_nb("OPT_IP_CFG", IP_CFG_METHODS),
                dhcp=_nb("OPT_DHCP", IP_ADDR), fn_agent=_nb("OPT_FN_AGENT", IP_ADDR),
                acc_rtr=_nb("OPT_ACC_RTR", IP_ADDR))
TGT_NET_INFO = Choice("TGT_NET_INFO", network=Seq("TGT_NETWORK", network_id=TEXT, aux_id=Opt(OCTET_STRING)),
                      link_addr=LINK_ADDR)
TSP_CONTAINER = Choice("TSP_CONTAINER", none=Null(), predef_cfg_id=Int(1), carrier=OCTET_STRING)
ASGN_RES_SET = Seq("ASGN_RES_SET", qos=QOS_LIST, transport=TSP_CONTAINER)
REQ_RES_SET = Seq("REQ_RES_SET", qos=QOS_LIST, transport=TSP_CONTAINER, ho_cause=U1)

# --- location and IS queries (F.5, F.14) ---
LOCATION = Choice(
    "LOCATION",
    civic=Choice("CIVIC_LOC", binary=Seq("BIN_CIVIC_LOC", country=FixedText(2), civic_addr=OCTET_STRING),
                 xml=TEXT),
    geo=Choice("GEO_LOC", binary=Octets(16, "BIN_GEO_LOC"), xml=TEXT),
    cell_id=U4,
)
QUERIER_LOC = Seq("QUERIER_LOC", location=Opt(LOCATION), link_addr=Opt(LINK_ADDR), nghb_radius=Opt(U2))
IQ_BIN_DATA = Seq("IQ_BIN_DATA", querier_loc=Opt(QUERIER_LOC), net_type_inc=Opt(Bitmap("NET_TYPE_INC", 4, {})),
                  netwk_inc=Opt(ListOf(TEXT)), rpt_templ=Opt(ListOf(U4)),
                  rpt_limit=Opt(Seq("RPT_LIMIT", max_ies=U2, start_entry=U2)),
                  curr_pref=Opt(FixedText(3, "CURR_PREF")))
RDF_DATA = Seq("RDF_DATA", mime_type=Opt(TEXT), data=TEXT)
