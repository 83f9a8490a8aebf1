"""MIH frame codec: the 8-octet header and the TLV payload, driven by the message table.

encode(Message) -> bytes and decode(bytes) -> Message handle one unfragmented
frame. The endpoint's byte path goes through a whole PDU instead (encode_pdu -> protect ->
fragment.py's fragment; reassemble -> unprotect -> decode_pdu), so a security association sees
every message as bytes between codec and transport. Every malformed input raises
MihDecodeError(offset, problem), offsets counted from the start of the frame.
"""
from __future__ import annotations

import struct
from typing import NamedTuple

from .basic import dec_len, enc_len
from .codepoints import VERSION
from .errors import MihDecodeError, MihEncodeError, MihError
from .messages import BY_MID, SPECS, Message, MsgSpec

HEADER_LEN = 8
_HDR = struct.Struct(">BBHHH")
_TYPE = [bytes((i,)) for i in range(256)]
_ENC_ERRORS = (TypeError, ValueError, KeyError, OverflowError, AttributeError, IndexError, struct.error)


class Header(NamedTuple):
    version: int
    ack_req: bool
    ack_rsp: bool
    uir: bool
    more: bool        # M: more fragments follow
    fn: int           # fragment number, 7 bits
    mid: int          # SID(4) | opcode(2) | AID(10)
    tid: int          # 12 bits; the 4 above them are `sec`
    length: int       # payload length of this frame
    sec: int = 0      # the top 4 bits of the TID word: P, S (0x4: protected PDU, 802.21a) and 2 reserved

    @property
    def sid(self) -> int:
        return self.mid >> 12

    @property
    def opcode(self) -> int:
        return (self.mid >> 10) & 3

    @property
    def aid(self) -> int:
        return self.mid & 0x3FF


def pack_header(ack_req: bool, ack_rsp: bool, uir: bool, more: bool, fn: int, mid: int, tid: int,
                length: int, sec: int = 0) -> bytes:
    if not 0 <= tid <= 0xFFF or not 0 <= fn <= 0x7F or not 0 <= length <= 0xFFFF or not 0 <= sec <= 0xF:
        raise MihEncodeError("header", f"TID {tid}, FN {fn}, P/S bits {sec} or payload length {length} out of range")
    return _HDR.pack(VERSION << 4 | ack_req << 3 | ack_rsp << 2 | uir << 1 | more, fn << 1, mid, sec << 12 | tid,
                     length)


def unpack_header(b: bytes) -> Header:
    """Parse and check the header of one frame (the payload length must match the frame)."""
    if len(b) < HEADER_LEN:
        raise MihDecodeError(len(b), f"truncated header: {len(b)} of {HEADER_LEN} octets")
    f, fn, mid, tid, length = _HDR.unpack_from(b)
    if f >> 4 != VERSION:
        raise MihDecodeError(0, f"MIH version {f >> 4} is not {VERSION}")
    if length != len(b) - HEADER_LEN:
        raise MihDecodeError(6, f"payload length field says {length} octets, frame carries {len(b) - HEADER_LEN}")
    return Header(VERSION, bool(f & 8), bool(f & 4), bool(f & 2), bool(f & 1), fn >> 1, mid, tid & 0xFFF, length,
                  tid >> 12)


def encode_payload(msg: Message) -> tuple[MsgSpec, bytes]:
    spec = SPECS.get(msg.name)
    if spec is None:
        raise MihEncodeError(msg.name, "unknown message")
    f = msg.fields
    extra = f.keys() - spec.names
    if extra:
        raise MihEncodeError(msg.name, f"fields not carried by this message: {', '.join(sorted(extra))}")
    bare = msg.ack_rsp and f.keys() <= {"src", "dst"}  # a standalone ACK carries only the MIHF IDs
    out = []
    for t in spec.tlvs:
        v = f.get(t.name)
        if v is None:
            if t.mandatory and not (bare and t.type > 2):
                raise MihEncodeError(f"{msg.name}.{t.name}", "mandatory TLV missing")
            continue
        try:
            body = t.codec.enc(v)
        except MihError:
            raise
        except _ENC_ERRORS as e:
            raise MihEncodeError(f"{msg.name}.{t.name}", f"bad {t.codec.name} value {v!r}: {e}") from None
        out += [_TYPE[t.type], enc_len(len(body)), body]
    return spec, b"".join(out)


def encode(msg: Message) -> bytes:
    """One unfragmented frame (payload up to 65535 octets; see fragment.py for more)."""
    spec, payload = encode_payload(msg)
    return pack_header(msg.ack_req, msg.ack_rsp, msg.uir, False, 0, spec.mid, msg.tid, len(payload)) + payload


class Pdu(NamedTuple):
    """One whole MIH PDU before fragmentation / after reassembly: the header (M=0, FN=0; `length` is the
    payload's, which may exceed one frame's 16 bits) and the TLV payload."""
    header: Header
    payload: bytes


def encode_pdu(msg: Message) -> Pdu:
    spec, payload = encode_payload(msg)
    return Pdu(Header(VERSION, msg.ack_req, msg.ack_rsp, msg.uir, False, 0, spec.mid, msg.tid, len(payload)), payload)


def decode_pdu(pdu: Pdu) -> Message:
    """Decode a whole PDU; error offsets count from the start of a frame, as for decode()."""
    return decode_payload(pdu.header, bytes(HEADER_LEN) + pdu.payload, HEADER_LEN, HEADER_LEN + len(pdu.payload))


def decode_payload(h: Header, b: bytes, o: int, end: int) -> Message:
    """Decode the TLVs in b[o:end] as the message named by header h."""
    spec = BY_MID.get(h.mid)
    if spec is None:
        raise MihDecodeError(2, f"unknown message ID: SID {h.sid}, opcode {h.opcode}, AID {h.aid}")
    tlvs, pos, fields, i = spec.tlvs, spec.pos, {}, 0
    while o < end:
        t = b[o]
        j = pos.get(t)
        if j is None:
            raise MihDecodeError(o, f"TLV type {t} is not part of {spec.name}")
        if j < i:
            raise MihDecodeError(o, f"TLV {tlvs[j].name} ({t}) out of order or repeated after {tlvs[i - 1].name}")
        for k in range(i, j):
            if tlvs[k].mandatory:
                what = "out of order" if _later(b, o, end, tlvs[k].type) else "missing"
                raise MihDecodeError(o, f"mandatory TLV {tlvs[k].name} {what}: must come before {tlvs[j].name}")
        n, vo = dec_len(b, o + 1, end)
        ve = vo + n
        if ve > end:
            raise MihDecodeError(o + 1, f"TLV {tlvs[j].name} length {n} exceeds the {end - vo} payload octets left")
        v, p = tlvs[j].codec.dec(b, vo, ve)
        if p != ve:
            raise MihDecodeError(p, f"TLV {tlvs[j].name}: {ve - p} trailing octets in value")
        fields[tlvs[j].name] = v
        i, o = j + 1, ve
    bare = h.ack_rsp and i <= 2  # standalone ACK: only the MIHF IDs
    for k in range(i, len(tlvs)):
        if tlvs[k].mandatory and not (bare and k >= 2):
            raise MihDecodeError(end, f"mandatory TLV {tlvs[k].name} missing from {spec.name}")
    return Message(spec.name, fields, h.tid, h.ack_req, h.ack_rsp, h.uir)


def _later(b: bytes, o: int, end: int, t: int) -> bool:
    """Whether TLV type t occurs in b[o:end] (error path only: tells 'out of order' from 'missing')."""
    try:
        while o < end:
            if b[o] == t:
                return True
            n, o = dec_len(b, o + 1, end)
            o += n
    except MihDecodeError:
        pass
    return False


def decode(buf: bytes | bytearray | memoryview) -> Message:
    """Decode one complete (unfragmented) frame."""
    b = bytes(buf)
    h = unpack_header(b)
    if h.more or h.fn:
        raise MihDecodeError(0 if h.more else 1, f"fragment (M={int(h.more)}, FN={h.fn}): reassemble first")
    return decode_payload(h, b, HEADER_LEN, len(b))


def make_ack(msg: Message, src: str, dst: str) -> Message:
    """The standalone ACK for msg: same message ID and TID, ACK-Rsp set, only the MIHF IDs."""
    return Message(msg.name, {"src": src, "dst": dst}, msg.tid, ack_rsp=True)
