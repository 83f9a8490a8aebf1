"""Wireshark (tshark's MIH dissector) decodes our 802.21-2008 frames as we meant them.

Disagreements found, each traced to Wireshark (packet-mih.c, 4.0) rather than to the
standard (ODTONE and OpenAirInterface agree with us; details in docs/mih-codepoints.md):
- BITMAPs: Wireshark takes bit 0 as the MSB, 802.21 as the LSB, so its flag names are
  mirrored; we compare the raw bitmap values, which agree.
- IP_ADDR (TLVs 35-37): Wireshark reads the address one octet early (from the length
  octet: 10.1.2.3 shows as 4.10.1.2) and shows nothing for IPv6; we check type/length only.
- LINK_TUPLE_ID (TLVs 13, 14): Wireshark decodes the LINK_ID and ignores the PoA address.
- Fragments: Wireshark shows header fields only (no reassembly), which is what we check.
"""
import json
import shutil
import subprocess
from collections import defaultdict

import pytest

from node_agents.mih import Message, encode, make_ack
from node_agents.mih import mihtypes as T
from node_agents.mih.basic import dec_len
from node_agents.mih.compound import Ie
from node_agents.mih.fragment import split
from node_agents.mih.pcap import PcapSink
from node_agents.mih.samples import AP1, AP2, MN, POS, POS2, STA, link_up, mac, wifi

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
LID = T.LINK_ID.cls("IEEE802_11", mac(STA))


def _big_info(n: int) -> Message:
    return Message.of("Get_Information.response", tid=9, src=POS, dst=MN, status="success",
                      ir_bin_data_list=((Ie("NETWORK_ID", "n" * n),),))


# (message, {tlv type: {tshark field: expected values}}); header and TLV type/length are checked for all
CASES = [
    (link_up(tid=77), {13: {"mih.link_type": ["19"], "mih.mac_addr": [STA]}, 17: {"mih.ip_renewal": ["0"]}}),
    (Message.of("Link_Up.indication", tid=78, src=MN, dst=POS, link_id=wifi(STA, AP1),
                mobility_mgmt=frozenset({"MIPv6"})), {18: {"mih.mob_list": ["0x0004"]}}),
    (Message.of("Capability_Discover.request", tid=5, uir=True, src=MN, dst=POS,
                event_list=frozenset({"Link_Up", "Link_Down", "Link_Going_Down"}),
                command_list=frozenset({"Link_Get_Parameters", "MN_HO"}), transport_list=frozenset({"UDP"})),
     {5: {"mih.event_list": ["0x00000016"]}, 6: {"mih.command_list": ["0x00000011"]},
      8: {"mih.trans_list": ["0x0001"]}}),
    (Message.of("Link_Going_Down.indication", tid=6, src=MN, dst=POS, link_id=wifi(STA, AP1), time_interval=200,
                link_going_down_reason="link_parameter_degrading"),
     {21: {"mih.time_interval": ["200"]}, 22: {"mih.link_gdn_reason": ["1"]}}),
    (Message.of("Link_Down.indication", tid=7, src=MN, dst=POS, link_id=wifi(STA), old_access_router=mac(AP1),
                link_down_reason="authentication_failure"),
     {15: {"mih.mac_addr": [AP1]}, 20: {"mih.link_dn_reason": ["4"]}}),
    (Message.of("Register.request", tid=8, ack_req=True, src=MN, dst=POS,
                link_id_list=(LID, T.LINK_ID.cls("Ethernet", mac(AP1))), reg_request_code="re_registration"),
     {25: {"mih.link_type": ["19", "15"], "mih.mac_addr": [STA, AP1]}, 11: {"mih.reg_request_code": ["1"]}}),
    (Message.of("Register.response", tid=8, ack_rsp=True, src=POS, dst=MN, status="success",
                valid_time_interval=3600), {3: {"mih.status": ["0"]}, 12: {"mih.valid_time_interval": ["3600"]}}),
    (Message.of("MN_HO_Complete.request", tid=10, src=MN, dst=POS2, link_id=wifi(STA, AP1),
                new_link_id=wifi(STA, AP2), ho_result="rejected"),
     {13: {"mih.mac_addr": [STA]}, 14: {"mih.link_type": ["19"]}, 40: {"mih.status": ["2"]}}),
    (Message.of("Link_Actions.request", tid=11, src=POS, dst=MN, link_actions_list=(T.LINK_ACTION_REQ.cls(
        LID, mac(AP2), T.LINK_ACTION.cls("power_up", frozenset({"scan"})), 77),)),
     {38: {"mih.mac_addr": [STA, AP2], "mih.link_ac_type": ["4"], "mih.link_ac_attr": ["0x01"],
           "mih.link_ac_ext_time": ["77"]}}),
    (Message.of("N2N_HO_Complete.request", tid=12, src=POS, dst=POS2, mn_mihf_id=MN, link_id=wifi(STA, AP1),
                new_link_id=wifi(STA, AP2), ho_result="success"), {52: {"mih.mihf_id": [MN]}}),
    (Message.of("Event_Subscribe.request", tid=13, src=MN, dst=POS, link_id=wifi(STA),
                event_list=frozenset({"Link_Detected"})), {5: {"mih.event_list": ["0x00000001"]}}),
    (Message.of("MN_HO_Candidate_Query.request", tid=14, src=MN, dst=POS,
                link_poa_list=(T.LINK_POA_LIST.cls(LID, (mac(AP1), mac(AP2))),),
                ho_resource_query_list=T.QOS_LIST.cls(2, (), (), (), (), ()), dhcp_server_addr="10.1.2.3"),
     {31: {"mih.mac_addr": [STA, AP1, AP2]}, 33: {"mih.num_cos": ["2"]}}),
    (make_ack(link_up(tid=77), POS, MN), {}),
    # long-form TLV lengths: MIHF IDs of 126/127/128 octets give TLV lengths 127/128/129
    *[(Message.of("DeRegister.request", tid=20 + n, src="m" * (n - 2) + "@x", dst=POS), {}) for n in (126, 127, 128)],
    (_big_info(1000), {}),
    (_big_info(60000), {}),
]


def _tlvs(frame: bytes) -> list[tuple[int, int]]:
    """(type, value length) of each TLV, walked with our own length decoder."""
    out, o = [], 8
    while o < len(frame):
        n, vo = dec_len(frame, o + 1, len(frame))
        out.append((frame[o], n))
        o = vo + n
    return out


def _flat(obj, out=None) -> dict[str, list]:
    out = defaultdict(list) if out is None else out
    for k, v in obj.items():
        for x in v if isinstance(v, list) else [v]:
            _flat(x, out) if isinstance(x, dict) else out[k].append(x)
    return out


def _tshark(frames: list[bytes], path) -> list[dict]:
    with PcapSink(path) as p:
        for f in frames:
            p.write(f, ("10.0.0.1", 4551), ("10.0.0.2", 4551))
    out = subprocess.run(["tshark", "-r", str(path), "-T", "json", "--no-duplicate-keys", "-J", "mih"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return [pkt["_source"]["layers"]["mih"] for pkt in json.loads(out)]


def _check_header(layer: dict, frame: bytes, msg: Message) -> None:
    f = _flat({k: v for k, v in layer.items() if not k.startswith("MIH TLV")})
    spec = msg.spec
    assert f["mih.version"][0] == "1"
    assert f["mih.acq_req"] == [str(int(msg.ack_req))] and f["mih.acq_resp"] == [str(int(msg.ack_rsp))]
    assert f["mih.uir"] == [str(int(msg.uir))]
    assert int(f["mih.service_id"][0], 16) == spec.sid and int(f["mih.opcode"][0], 16) == spec.opcode
    assert int(f["mih.action_id"][0], 16) == spec.aid
    assert f["mih.tid"] == [str(msg.tid)] and f["mih.pay_len"] == [str(len(frame) - 8)]


def test_wireshark_decodes_base_messages(tmp_path):
    frames = [encode(m) for m, _ in CASES]
    layers = _tshark(frames, tmp_path / "mih.pcap")
    assert len(layers) == len(CASES)
    for (msg, expect), frame, layer in zip(CASES, frames, layers):
        _check_header(layer, frame, msg)
        tlvs = [_flat(v) for k, v in layer.items() if k.startswith("MIH TLV")]
        got = [(int(t["mih.tlv_type"][0]),
                int(t["mih.tlv_length"][0]) if "mih.tlv_length" in t else 128 + int(t["mih.tlv_length_ext"][0]))
               for t in tlvs]
        assert got == _tlvs(frame), msg.name
        by_type = {ty: t for (ty, _), t in zip(got, tlvs)}
        for ty, field in ((1, "src"), (2, "dst")):
            assert by_type[ty]["mih.mihf_id"] == [msg.fields[field]]
        for ty, fields in expect.items():
            for name, values in fields.items():
                assert by_type[ty][name] == values, (msg.name, ty, name)


def test_wireshark_long_form_length_fields(tmp_path):
    cases = [(126, "mih.tlv_length", "127"), (127, "mih.tlv_length", "128"), (128, "mih.tlv_length_ext", "1")]
    frames = [encode(Message.of("DeRegister.request", src="m" * (n - 2) + "@x", dst=POS)) for n, _, _ in cases]
    frames += [encode(_big_info(60000))]
    layers = _tshark(frames, tmp_path / "long.pcap")
    for (n, field, value), layer in zip(cases, layers):
        src = _flat(layer["MIH TLV : Source MIHIF ID"])
        assert src[field] == [value] and src["mih.mihf_id"] == ["m" * (n - 2) + "@x"]
    big = _flat(layers[3]["MIH TLV : Info response binary data list"])
    assert int(big["mih.tlv_length_ext"][0]) + 128 == _tlvs(frames[3])[-1][1] > 60000


def test_wireshark_sees_fragment_headers(tmp_path):
    msg = _big_info(3000)
    _, frames = split(msg, mtu=1000)
    layers = _tshark(frames, tmp_path / "frag.pcap")
    assert len(layers) == len(frames) == 4
    for i, layer in enumerate(layers):
        f = _flat(layer)
        assert f["mih.more_frag"] == [str(int(i < 3))] and f["mih.frag_no"] == [str(i)]
        assert f["mih.tid"] == ["9"] and f["mih.pay_len"] == [str(len(frames[i]) - 8)]
