"""Information Elements (802.21-2008 clause 6.5.6, Annex A) carried in IS binary data.

IE_LIST is a run of IE TLVs; IR_BIN_DATA (one binary IS response) is an
OCTET_STRING holding such a run, normally one CONTAINER_LIST_OF_NETWORKS whose
CONTAINER_NETWORKs hold network IEs and CONTAINER_POAs. POA_AUTHENTICATOR is
the provisional IE naming the target authenticator / point of service of a PoA.
"""
from __future__ import annotations

from . import mihtypes as T
from .basic import Enum, FixedText, Octets, Uint
from .codepoints import IES
from .compound import IeList, ListOf, Opt, Seq, Wrapped

IE_LIST = IeList("IE list")

OPERATOR_ID = Seq("OPERATOR_ID", name=T.TEXT,
                  namespace=Enum("OP_NAMESPACE", {0: "GSM_UMTS", 1: "CDMA", 2: "REALM", 3: "ITU_T_TSB", 4: "GENERAL"}))

POA_AUTHENTICATOR = Seq(
    "POA_AUTHENTICATOR",
    pos_mihf_id=T.MIHF_ID,          # MIHF ID of the point of service / authenticator
    address=T.IP_ADDR,              # where its MIHF (or authenticator) is reachable
    eap_methods=ListOf(T.U1),       # EAP method types it accepts (RFC 3748 registry)
    akm_suites=ListOf(T.U4),        # AKM suite selectors (OUI << 8 | type), e.g. 0x000FAC01
    mobility_domain=Opt(Octets(2, "MDID")),  # 802.11r mobility domain, if any
)

_IE_TYPES = {
    "NETWORK_TYPE": T.NETWORK_TYPE,
    "OPERATOR_ID": OPERATOR_ID,
    "SERVICE_PROVIDER_ID": T.TEXT,
    "COUNTRY_CODE": FixedText(2, "CNTRY_CODE"),
    "NETWORK_ID": T.TEXT,
    "NETWORK_AUX_ID": T.OCTET_STRING,
    "ROAMING_PARTNERS": ListOf(OPERATOR_ID),
    "COST": Seq("COST", unit=Uint(1, "COST_UNIT"), value=Seq("COST_VALUE", integer=T.U4, fraction=T.U2),
                currency=FixedText(3, "COST_CURR")),
    "NETWORK_QOS": T.QOS_LIST,
    "NETWORK_DATA_RATE": T.U4,
    "NET_REGULT_DOMAIN": Seq("REGU_DOMAIN", country=FixedText(2, "CNTRY_CODE"), regulatory_class=T.U1),
    "NET_FREQUENCY_BANDS": ListOf(T.U4),
    "NET_IP_CFG_METHODS": Seq("IP_CONFIG", methods=T.IP_CFG_METHODS, dhcp=Opt(T.IP_ADDR), fn_agent=Opt(T.IP_ADDR),
                              acc_rtr=Opt(T.IP_ADDR)),
    "NET_CAPABILITIES": T.NET_CAPS,
    "NET_SUPPORTED_LCP": T.U1,
    "NET_MOB_MGMT_PROT": T.IP_MOB_MGMT,
    "POA_LINK_ADDR": T.LINK_ADDR,
    "POA_LOCATION": T.LOCATION,
    "POA_CHANNEL_RANGE": Seq("CH_RANGE", low=T.U4, high=T.U4),
    "POA_SUBNET_INFO": Seq("IP_SUBNET_INFO", prefix_len=T.U1, addr=T.IP_ADDR),
    "POA_IP_ADDR": T.IP_ADDR,
    "CONTAINER_LIST_OF_NETWORKS": IE_LIST,
    "CONTAINER_NETWORK": IE_LIST,
    "CONTAINER_POA": IE_LIST,
    "POA_AUTHENTICATOR": POA_AUTHENTICATOR,
}
assert set(_IE_TYPES) == set(IES), set(_IE_TYPES) ^ set(IES)
for _name, _codec in _IE_TYPES.items():
    IE_LIST.define(_name, IES[_name].value, _codec)

IR_BIN_DATA = Wrapped(IE_LIST, "IR_BIN_DATA")
