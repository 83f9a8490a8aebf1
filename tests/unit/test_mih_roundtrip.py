"""Every MIH message type survives encode -> decode (and JSON) unchanged; length encoding edge cases."""
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node_agents.mih import SPECS, decode, encode
from node_agents.mih.basic import dec_len, enc_len
from node_agents.mih.codec import decode_pdu, unpack_header
from node_agents.mih.cpdoc import render
from node_agents.mih.fragment import Reassembler, split
from node_agents.mih.jsonfmt import from_json, to_json
from node_agents.mih.messages import Message
from node_agents.mih.samples import POS, corpus, link_up, wifi
from node_agents.mih.strategies import message

NAMES = sorted(SPECS)
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_message_roundtrip(name, data):
    msg = data.draw(message(name))
    assert decode(encode(msg)) == msg
    assert from_json(json.loads(json.dumps(to_json(msg)))) == msg


def test_all_three_opcodes_and_the_802_21a_messages_are_covered():
    assert {s.opcode for s in SPECS.values()} == {1, 2, 3}
    for n in ("LL_Auth.request", "LL_Auth.response", "Pro_Auth.request", "Pro_Auth_Termination.request",
              "Push_Key.request", "Auth.request", "Get_Information.response", "Push_Information.indication"):
        assert n in SPECS
    assert (SPECS["LL_Auth.request"].sid, SPECS["LL_Auth.request"].aid) == (1, 9)


@pytest.mark.parametrize("n, wire", [(0, "00"), (127, "7f"), (128, "80"), (129, "8101"), (255, "817f"),
                                     (256, "8180"), (384, "820100"), (65535 + 128, "82ffff"),
                                     (65536 + 128, "83010000")])
def test_length_encoding_edges(n, wire):
    assert enc_len(n).hex() == wire
    b = bytes.fromhex(wire)
    assert dec_len(b, 0, len(b)) == (n, len(b))


@pytest.mark.parametrize("nai_len, tlv_len_wire", [(126, "7f"), (127, "80"), (128, "8101"), (200, "814a")])
def test_long_form_tlv_lengths_in_a_frame(nai_len, tlv_len_wire):
    nai = "m" * (nai_len - len("@x")) + "@x"
    frame = encode(Message.of("DeRegister.request", src=nai, dst=POS))
    assert frame[9:9 + len(tlv_len_wire) // 2].hex() == tlv_len_wire  # TLV 1 starts at offset 8
    assert decode(frame).src == nai


def test_large_tlv_value():
    big = Message.of("LL_Auth.request", src="a", dst="b", link_id=wifi("02:00:00:00:00:01"), ll_info=bytes(70000))
    spec, frames = split(big, mtu=1400)
    assert len(frames) > 1
    reasm, out = Reassembler(lifetime=60), None
    for f in frames:
        out = reasm.add("peer", unpack_header(f), f)
    assert decode_pdu(out) == big


def test_fragments_reassemble_in_any_order():
    msg = corpus()[6]
    _, frames = split(msg, mtu=24)
    random.Random(7).shuffle(frames)
    reasm, got = Reassembler(lifetime=60), []
    for f in frames:
        got.append(reasm.add(("10.0.0.1", 4551), unpack_header(f), f))
    assert [decode_pdu(g) for g in got if g is not None] == [msg]


def test_samples_roundtrip():
    for m in corpus():
        assert decode(encode(m)) == m
    assert decode(encode(link_up())).fields["link_id"].link.link_type == "IEEE802_11"


def test_codepoint_doc_is_generated_from_the_tables():
    doc = Path(__file__).resolve().parents[2] / "docs" / "mih-codepoints.md"
    assert doc.read_text() == render(), "regenerate: python -m node_agents.mih.cpdoc > docs/mih-codepoints.md"
