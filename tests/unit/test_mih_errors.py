"""Each class of malformed frame raises MihDecodeError naming the offset and the problem."""
import pytest

from node_agents.mih import SPECS, MihDecodeError, MihEncodeError, Message, decode, encode
from node_agents.mih.samples import POS, link_up

UP = SPECS["Link_Up.indication"].mid
SRC, DST = b"\x01\x03\x02mn", b"\x02\x04\x03pos"
LINK = b"\x0d\x0c\x13\x00\x00\x06\x06\x02\x00\x00\x00\x00\x01\x00"  # LINK_TUPLE_ID, 802.11, MAC, no PoA


def frame(payload: bytes, mid: int = UP, first: int = 0x10, fn: int = 0) -> bytes:
    return bytes((first, fn << 1)) + mid.to_bytes(2, "big") + b"\x00\x05" + len(payload).to_bytes(2, "big") + payload


def test_the_helper_frame_is_valid():
    assert decode(frame(SRC + DST + LINK)).fields["src"] == "mn"


# (case, frame, expected offset, words in the problem)
CASES = [  # offsets: SRC 8-12, DST 13-18, LINK 19-32, payload end 33
    ("empty", b"", 0, "truncated header"),
    ("truncated header", bytes.fromhex("1000200200"), 5, "truncated header"),
    ("wrong version", frame(SRC + DST + LINK, first=0x20), 0, "version 2"),
    ("version zero", frame(SRC + DST + LINK, first=0x00), 0, "version 0"),
    ("payload length too long", frame(SRC + DST + LINK)[:-3], 6, "payload length field"),
    ("payload length too short", frame(SRC + DST + LINK) + b"\x00", 6, "payload length field"),
    ("unknown message id", frame(SRC + DST, mid=0x2C00 | 0x3FF), 2, "unknown message ID"),
    ("fragment", frame(SRC + DST + LINK, first=0x11), 0, "reassemble"),
    ("truncated TLV header", frame(SRC + DST + LINK + b"\x11"), 34, "length field missing"),
    ("TLV longer than payload", frame(SRC + DST + LINK[:-1]), 20, "exceeds"),
    ("value shorter than its TLV length", frame(SRC + DST + LINK + b"\x11\x02\x01\x00"), 36, "trailing octets"),
    ("value longer than its TLV length", frame(SRC + b"\x02\x03\x05pos12" + LINK), 16, "overruns"),
    ("truncated inner field", frame(SRC + DST + b"\x0d\x05\x13\x00\x00\x06\x06"), 23, "truncated MAC_ADDR"),
    ("unknown TLV in known message", frame(SRC + DST + LINK + b"\x63\x01\x00"), 33, "TLV type 99 is not part"),
    ("experimental TLV in base message", frame(SRC + DST + b"\xa0\x01\x00" + LINK), 19, "TLV type 160"),
    ("overlong length field", frame(SRC + DST + b"\x0d\x85" + bytes(5)), 20, "overlong"),
    ("non-canonical long length", frame(SRC + DST + b"\x0d\x81\x00" + bytes(128)), 20, "non-canonical"),
    ("TLV order: dst before src", frame(DST + SRC + LINK), 8, "src out of order"),
    ("TLV order: optional TLVs swapped", frame(SRC + DST + LINK + b"\x11\x01\x01" + b"\x0f\x0a" + LINK[3:13]),
     36, "old_access_router (15) out of order"),
    ("TLV repeated", frame(SRC + DST + LINK + LINK), 33, "out of order or repeated"),
    ("mandatory TLV missing at end", frame(SRC + DST), 19, "mandatory TLV link_id missing"),
    ("mandatory TLV skipped", frame(SRC + LINK), 13, "mandatory TLV dst missing"),
    ("bad BOOLEAN", frame(SRC + DST + LINK + b"\x11\x01\x07"), 35, "BOOLEAN octet is 7"),
    ("bad CHOICE selector", frame(SRC + DST + b"\x0d\x02\x13\x09"), 22, "CHOICE selector 9"),
    ("bad MAC family", frame(SRC + DST + b"\x0d\x0c\x13\x00\x00\x01\x06" + bytes(6) + b"\x00"), 23, "family 6"),
    ("hostile LIST count", frame(SRC + DST + b"\x19\x05\x84\x7f\xff\xff\xff", mid=SPECS["Register.request"].mid),
     26, "elements cannot fit"),
]


@pytest.mark.parametrize("case, data, offset, problem", CASES, ids=[c[0] for c in CASES])
def test_malformed_frame_gives_typed_error(case, data, offset, problem):
    with pytest.raises(MihDecodeError) as e:
        decode(data)
    assert e.value.offset == offset, e.value
    assert problem in e.value.problem
    assert str(offset) in str(e.value)


def test_bare_ack_is_valid_but_bare_message_is_not():
    ack = frame(SRC + DST, first=0x14)
    assert decode(ack).is_ack_only
    with pytest.raises(MihDecodeError, match="mandatory TLV link_id"):
        decode(frame(SRC + DST, first=0x10))


@pytest.mark.parametrize("msg, problem", [
    (Message.of("Nope.request", src="a", dst="b"), "unknown message"),
    (Message.of("Link_Up.indication", src="a", dst="b"), "mandatory TLV missing"),
    (Message.of("DeRegister.request", src="a", dst="b", status="success"), "not carried"),
    (Message.of("DeRegister.response", src="a", dst="b", status="fine"), "bad ENUM"),
    (Message.of("Register.response", src="a", dst="b", status="success", valid_time_interval=-1), "bad UNSIGNED"),
    (Message.of("DeRegister.request", src=b"bytes", dst=POS), "bad OCTET_STRING"),
])
def test_bad_message_gives_typed_encode_error(msg, problem):
    with pytest.raises(MihEncodeError) as e:
        encode(msg)
    assert problem.split()[0] in str(e.value)


def test_header_field_ranges_are_checked():
    with pytest.raises(MihEncodeError):
        encode(Message("Link_Up.indication", link_up().fields, tid=0x1000))
