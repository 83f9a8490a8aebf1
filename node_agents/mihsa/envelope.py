"""The protected MIH PDU (PROVISIONAL layout; 802.21a's clause 8.4 format is not public):

  header (8, bit S set) | Src MIHF ID TLV | Dst MIHF ID TLV | protected_payload TLV
  protected_payload value = SAID (4) | SEQ (8) | AEAD ciphertext of the remaining TLVs | tag (16)
  AAD = header octets 0-5 with M and FN zeroed (S set) | Src TLV | Dst TLV | SAID | SEQ
  (the reserved bit after FN and bit P are authenticated as sent)

The MIHF IDs stay in the clear (the receiver finds the SA by Src and SAID) but are authenticated; the
message ID, TID and ACK flags are authenticated too. The length field is left out of the AAD: it is
implied by the ciphertext length. Protect whole PDUs, then fragment; reassemble, then open.
"""
from __future__ import annotations

import struct
from typing import NamedTuple

from cryptography.exceptions import InvalidTag

from ..mih.basic import dec_len, enc_len
from ..mih.codec import HEADER_LEN, unpack_header
from ..mih.codepoints import HEADER_BITS, TLVS, VERSION
from ..mih.errors import MihDecodeError, MihEncodeError
from .errors import Tampered
from .sa import SecurityAssociation
from .suites import TAG_LEN

S_BIT = HEADER_BITS["S"].value
PROTECTED = TLVS["protected_payload"].value
_SRC, _DST = TLVS["src"].value, TLVS["dst"].value
_SAID_SEQ = struct.Struct(">IQ")
OVERHEAD = 1 + 3 + _SAID_SEQ.size + TAG_LEN  # most a PDU grows by


class Pdu(NamedTuple):
    """Where things are in one unfragmented PDU."""
    mid: int
    protected: bool
    src: str
    dst: str
    ids_end: int        # end of the Dst TLV: the clear part of the payload ends here


def _id(b: bytes, o: int, end: int, want: int, name: str) -> tuple[str, int]:
    if o + 2 < end and b[o] == want and b[o + 1] <= 128 and b[o + 2] == b[o + 1] - 1:  # short forms: fast path
        ve = o + 2 + b[o + 1]
        if ve <= end:
            return b[o + 3:ve].decode("utf-8", "replace"), ve
    if o >= end or b[o] != want:
        raise MihDecodeError(o, f"{name} MIHF ID TLV ({want}) must come here")
    n, vo = dec_len(b, o + 1, end)
    ve = vo + n
    if ve > end:
        raise MihDecodeError(o + 1, f"{name} MIHF ID TLV runs past the payload")
    m, io = dec_len(b, vo, ve)
    if io + m != ve:
        raise MihDecodeError(vo, f"{name} MIHF ID length disagrees with its TLV")
    return b[io:ve].decode("utf-8", "replace"), ve


def parse(pdu: bytes) -> Pdu:
    """Header, Src and Dst of a whole PDU (MihDecodeError if they do not parse)."""
    end = len(pdu)
    if end < HEADER_LEN or pdu[0] & 0xF1 != VERSION << 4 or pdu[1] & 0xFE or pdu[6] << 8 | pdu[7] != end - 8:
        h = unpack_header(pdu)  # raises the codec's error for a bad header
        if h.more or h.fn:
            raise MihDecodeError(0, "a fragment: protection works on whole PDUs (reassemble first)")
    src, o = _id(pdu, HEADER_LEN, end, _SRC, "Source")
    dst, o = _id(pdu, o, end, _DST, "Destination")
    return Pdu(pdu[2] << 8 | pdu[3], bool(pdu[4] & S_BIT), src, dst, o)


def _aad(pdu: bytes, ids_end: int, said_seq: bytes) -> bytes:
    head = bytes((pdu[0] & 0xFE, pdu[1] & 1, pdu[2], pdu[3], pdu[4] | S_BIT, pdu[5]))
    return head + pdu[HEADER_LEN:ids_end] + said_seq


def seal(sa: SecurityAssociation, pdu: bytes, p: Pdu, seq: int) -> bytes:
    said_seq = _SAID_SEQ.pack(sa.said, seq)
    ct = sa.tx.encrypt(sa.suite.nonce(sa.tx_dir, sa.said, seq), pdu[p.ids_end:], _aad(pdu, p.ids_end, said_seq))
    n = len(said_seq) + len(ct)
    length = p.ids_end - HEADER_LEN + 1 + len(enc_len(n)) + n
    if length > 0xFFFF:
        raise MihEncodeError("protected PDU", f"payload of {length} octets exceeds 65535")
    head = bytes((pdu[0], pdu[1], pdu[2], pdu[3], pdu[4] | S_BIT, pdu[5])) + length.to_bytes(2, "big")
    return b"".join((head, pdu[HEADER_LEN:p.ids_end], bytes((PROTECTED,)), enc_len(n), said_seq, ct))


class Sealed(NamedTuple):
    said: int
    seq: int
    body: int   # offset of SAID in the PDU
    tag: bytes


def envelope(pdu: bytes, p: Pdu) -> Sealed:
    """SAID, SEQ and tag of a protected PDU: the protected_payload TLV must be the rest of the payload."""
    o, end = p.ids_end, len(pdu)
    if o >= end or pdu[o] != PROTECTED:
        raise MihDecodeError(o, f"header bit S set but no protected_payload TLV ({PROTECTED}) after Src, Dst")
    n, vo = dec_len(pdu, o + 1, end)
    if vo + n != end:
        raise MihDecodeError(o + 1, f"protected_payload of {n} octets does not end the PDU ({end - vo} left)")
    if n < _SAID_SEQ.size + TAG_LEN:
        raise MihDecodeError(vo, f"protected_payload of {n} octets is shorter than SAID, SEQ and tag")
    said, seq = _SAID_SEQ.unpack_from(pdu, vo)
    return Sealed(said, seq, vo, pdu[end - TAG_LEN:])


def open_(sa: SecurityAssociation, pdu: bytes, p: Pdu, e: Sealed) -> bytes:
    """The plain PDU (bit S cleared, length fixed); Tampered if the tag does not verify."""
    ct_at = e.body + _SAID_SEQ.size
    try:
        plain = sa.rx.decrypt(sa.suite.nonce(sa.rx_dir, e.said, e.seq), pdu[ct_at:],
                              _aad(pdu, p.ids_end, pdu[e.body:ct_at]))
    except InvalidTag:
        raise Tampered(f"SA 0x{e.said:08x} SEQ {e.seq}: authentication tag does not verify") from None
    length = p.ids_end - HEADER_LEN + len(plain)
    head = bytes((pdu[0], pdu[1], pdu[2], pdu[3], pdu[4] & ~S_BIT & 0xFF, pdu[5])) + length.to_bytes(2, "big")
    return b"".join((head, pdu[HEADER_LEN:p.ids_end], plain))
