"""Basic 802.21 data types (Annex F, Table F.1) as codecs.

A codec turns a Python value into octets (`enc`) and back (`dec(buf, off, end)`
returning `(value, new_off)`), and to/from JSON. Decoders never read past `end`
and raise MihDecodeError with the absolute offset on bad input.
"""
from __future__ import annotations

import ipaddress
import struct
from typing import Any

from .errors import MihDecodeError

_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}


def enc_len(n: int) -> bytes:
    """802.21 length (TLV Length, LIST count, OCTET_STRING length): <=128 in one octet, else 0x80|k + (n-128)."""
    if n <= 128:
        return bytes((n,))
    n -= 128
    k = (n.bit_length() + 7) // 8
    return bytes((0x80 | k,)) + n.to_bytes(k, "big")


def dec_len(b: bytes, o: int, end: int) -> tuple[int, int]:
    if o >= end:
        raise MihDecodeError(o, "truncated: length field missing")
    first = b[o]
    if first <= 128:
        return first, o + 1
    k = first & 0x7F
    if k > 4:  # a frame payload is at most 65535 octets; 4 octets of length is already generous
        raise MihDecodeError(o, f"length field of {k + 1} octets is overlong")
    e = o + 1 + k
    if e > end:
        raise MihDecodeError(o, "truncated: long-form length field")
    if b[o + 1] == 0:  # a leading zero octet is never needed: reject so encodings stay canonical
        raise MihDecodeError(o, "non-canonical long-form length (leading zero octet)")
    return 128 + int.from_bytes(b[o + 1:e], "big"), e


class Codec:
    """Base of all data type codecs; `name` shows up in error messages."""
    name = "?"

    def enc(self, v: Any) -> bytes:
        raise NotImplementedError

    def dec(self, b: bytes, o: int, end: int) -> tuple[Any, int]:
        raise NotImplementedError

    def to_json(self, v: Any) -> Any:
        return v

    def from_json(self, j: Any) -> Any:
        return j

    def _need(self, o: int, n: int, end: int) -> int:
        if o + n > end:
            raise MihDecodeError(o, f"truncated {self.name}: needs {n} octets, {max(end - o, 0)} left")
        return o + n


class Null(Codec):
    """NULL: no octets; the empty alternative of a CHOICE."""
    name = "NULL"

    def enc(self, v: None) -> bytes:
        if v is not None:
            raise TypeError("NULL takes None")
        return b""

    def dec(self, b, o, end):
        return None, o


class Uint(Codec):
    """UNSIGNED_INT(n), big-endian."""

    def __init__(self, n: int, name: str = ""):
        self.n, self.name = n, name or f"UNSIGNED_INT({n})"
        self._s = struct.Struct(">" + _FMT[n]) if n in _FMT else None

    def enc(self, v: int) -> bytes:
        if type(v) is not int:
            raise TypeError(f"{self.name} takes an int")
        return self._s.pack(v) if self._s else v.to_bytes(self.n, "big")

    def dec(self, b, o, end):
        e = o + self.n
        if e > end:
            self._need(o, self.n, end)
        return (self._s.unpack_from(b, o)[0] if self._s else int.from_bytes(b[o:e], "big")), e


class Int(Uint):
    """INTEGER(n): two's complement."""

    def __init__(self, n: int, name: str = ""):
        super().__init__(n, name or f"INTEGER({n})")
        self._s = struct.Struct(">" + _FMT[n].lower())


class Bool(Codec):
    """BOOLEAN: one octet, 0 or 1 (anything else is malformed)."""
    name = "BOOLEAN"

    def enc(self, v: bool) -> bytes:
        if type(v) is not bool:
            raise TypeError("BOOLEAN takes a bool")
        return b"\x01" if v else b"\x00"

    def dec(self, b, o, end):
        if o >= end:
            self._need(o, 1, end)
        x = b[o]
        if x > 1:
            raise MihDecodeError(o, f"BOOLEAN octet is {x}, not 0 or 1")
        return x == 1, o + 1


class Octets(Codec):
    """OCTET(n): fixed size; value bytes, JSON hex."""

    def __init__(self, n: int, name: str = ""):
        self.n, self.name = n, name or f"OCTET({n})"

    def enc(self, v: bytes) -> bytes:
        if type(v) is not bytes or len(v) != self.n:
            raise ValueError(f"{self.name} takes {self.n} bytes")
        return v

    def dec(self, b, o, end):
        e = self._need(o, self.n, end)
        return b[o:e], e

    def to_json(self, v):
        return v.hex()

    def from_json(self, j):
        return bytes.fromhex(j)


class FixedText(Octets):
    """OCTET(n) holding ASCII (country and currency codes)."""

    def enc(self, v: str) -> bytes:
        return super().enc(v.encode("ascii"))

    def dec(self, b, o, end):
        e = self._need(o, self.n, end)
        return b[o:e].decode("latin-1"), e

    def to_json(self, v):
        return v

    def from_json(self, j):
        return j


class OctetString(Codec):
    """OCTET_STRING = LIST(OCTET): length then octets; value bytes, JSON hex."""
    name = "OCTET_STRING"

    def enc(self, v: bytes) -> bytes:
        if type(v) is not bytes:
            raise TypeError(f"{self.name} takes bytes")
        return enc_len(len(v)) + v

    def dec(self, b, o, end):
        n, o = dec_len(b, o, end)
        e = o + n
        if e > end:
            raise MihDecodeError(o, f"{self.name} of {n} octets overruns its container ({end - o} left)")
        return b[o:e], e

    def to_json(self, v):
        return v.hex()

    def from_json(self, j):
        return bytes.fromhex(j)


class Text(OctetString):
    """OCTET_STRING holding text (NAI, SSID, URL): UTF-8, undecodable octets kept via surrogateescape."""
    name = "OCTET_STRING(text)"

    def enc(self, v: str) -> bytes:
        return super().enc(v.encode("utf-8", "surrogateescape"))

    def dec(self, b, o, end):
        v, e = super().dec(b, o, end)
        return v.decode("utf-8", "surrogateescape"), e

    def to_json(self, v):
        return v

    def from_json(self, j):
        return j


class Enum(Codec):
    """ENUMERATED on an UNSIGNED_INT: value is the name, or the int for unassigned values."""

    def __init__(self, name: str, names: dict[int, str], size: int = 1):
        self.name, self.names, self.base = name, names, Uint(size, name)
        self.codes = {v: k for k, v in names.items()}

    def enc(self, v: str | int) -> bytes:
        return self.base.enc(self.codes[v] if type(v) is str else v)

    def dec(self, b, o, end):
        x, o = self.base.dec(b, o, end)
        return self.names.get(x, x), o


class Bitmap(Codec):
    """BITMAP(8n): bit 0 is the least significant bit of the big-endian number (as ODTONE and OAI).

    Value is a frozenset of bit names; unnamed bits appear as "bit<N>".
    """

    def __init__(self, name: str, nbytes: int, names: dict[int, str]):
        self.name, self.nbytes = name, nbytes
        self.names = {i: names.get(i, f"bit{i}") for i in range(8 * nbytes)}
        self.bits = {v: k for k, v in self.names.items()}

    def enc(self, v: frozenset[str]) -> bytes:
        x = 0
        for n in v:
            x |= 1 << self.bits[n]
        return x.to_bytes(self.nbytes, "big")

    def dec(self, b, o, end):
        e = self._need(o, self.nbytes, end)
        x = int.from_bytes(b[o:e], "big")
        names, out, i = self.names, [], 0
        while x:
            if x & 1:
                out.append(names[i])
            x >>= 1
            i += 1
        return frozenset(out), e

    def to_json(self, v):
        return sorted(v, key=self.bits.__getitem__)

    def from_json(self, j):
        return frozenset(j)


class MacAddr(Codec):
    """MAC_ADDR = TRANSPORT_ADDR(address family 6 = IEEE 802, 6 octets); value 'aa:bb:cc:dd:ee:ff'."""
    name = "MAC_ADDR"

    def enc(self, v: str) -> bytes:
        raw = bytes.fromhex(v.replace(":", ""))
        if len(raw) != 6:
            raise ValueError("MAC_ADDR takes six octets")
        return b"\x00\x06\x06" + raw

    def dec(self, b, o, end):
        e = self._need(o, 9, end)
        if b[o] != 0 or b[o + 1] != 6 or b[o + 2] != 6:
            raise MihDecodeError(o, f"MAC_ADDR needs family 6 and 6 octets, got {b[o:o + 3].hex()}")
        return b[o + 3:e].hex(":"), e


class IpAddr(Codec):
    """IP_ADDR = TRANSPORT_ADDR(family 1 = IPv4 / 2 = IPv6, address octets); value the address text."""
    name = "IP_ADDR"
    _FAM = {1: 4, 2: 16}

    def enc(self, v: str) -> bytes:
        a = ipaddress.ip_address(v)
        return (b"\x00\x01\x04" if a.version == 4 else b"\x00\x02\x10") + a.packed

    def dec(self, b, o, end):
        self._need(o, 3, end)
        fam = (b[o] << 8) | b[o + 1]
        n = self._FAM.get(fam)
        if n is None or b[o + 2] != n:
            raise MihDecodeError(o, f"IP_ADDR family {fam} with {b[o + 2]} octets is not IPv4/IPv6")
        e = self._need(o + 3, n, end)
        return str(ipaddress.ip_address(b[o + 3:e])), e  # ipaddress, not inet_ntop: same text as enc parses
