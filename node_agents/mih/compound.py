"""Constructed 802.21 data types: SEQUENCE, CHOICE, LIST (Annex F) and nested TLV lists (IEs).

SEQUENCE values are namedtuples generated from the declaration; CHOICE values
are Alt(tag, value); CHOICE(NULL, X) is Opt(X) with value None or X; LIST
values are tuples. All values are hashable and compare by value.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, NamedTuple

from .basic import Codec, Null, dec_len, enc_len
from .errors import MihDecodeError


class Alt(NamedTuple):
    """Value of a CHOICE: which alternative, and its value."""
    tag: str
    value: Any


class Seq(Codec):
    """SEQUENCE(T1, T2, ...): the fields one after the other, no framing."""

    def __init__(self, name: str, /, **fields: Codec):
        self.name, self.fields = name, tuple(fields.items())
        self.cls = namedtuple(name.replace("-", "_"), [f for f, _ in self.fields])
        self._encs = tuple(c.enc for _, c in self.fields)
        self._decs = tuple(c.dec for _, c in self.fields)

    def enc(self, v: tuple) -> bytes:
        if not isinstance(v, tuple) or len(v) != len(self._encs):
            raise TypeError(f"{self.name} takes a {len(self._encs)}-tuple ({', '.join(f for f, _ in self.fields)})")
        return b"".join([e(x) for e, x in zip(self._encs, v)])

    def dec(self, b, o, end):
        out = []
        for d in self._decs:
            x, o = d(b, o, end)
            out.append(x)
        return tuple.__new__(self.cls, out), o

    def to_json(self, v):
        return {f: c.to_json(x) for (f, c), x in zip(self.fields, v)}

    def from_json(self, j):
        return self.cls(*[c.from_json(j[f]) for f, c in self.fields])


class Choice(Codec):
    """CHOICE(T0, T1, ...): one selector octet (the alternative's index), then that alternative."""

    def __init__(self, name: str, /, **alts: Codec):
        self.name, self.alts = name, tuple(alts.items())
        self.index = {t: i for i, (t, _) in enumerate(self.alts)}
        self._tags = tuple(t for t, _ in self.alts)
        self._encs = tuple(c.enc for _, c in self.alts)
        self._decs = tuple(c.dec for _, c in self.alts)

    def enc(self, v: Alt) -> bytes:
        tag, x = v
        i = self.index[tag]
        return bytes((i,)) + self._encs[i](x)

    def dec(self, b, o, end):
        if o >= end:
            self._need(o, 1, end)
        i = b[o]
        if i >= len(self._decs):
            raise MihDecodeError(o, f"{self.name}: CHOICE selector {i} not in 0..{len(self._decs) - 1}")
        x, o = self._decs[i](b, o + 1, end)
        return Alt(self._tags[i], x), o

    def to_json(self, v):
        return {v[0]: self.alts[self.index[v[0]]][1].to_json(v[1])}

    def from_json(self, j):
        (tag, x), = j.items()
        return Alt(tag, self.alts[self.index[tag]][1].from_json(x))


class Opt(Codec):
    """CHOICE(NULL, T): 802.21's optional field; value None or the T value."""

    def __init__(self, inner: Codec):
        self.inner, self.name = inner, f"CHOICE(NULL, {inner.name})"
        self._enc, self._dec = inner.enc, inner.dec

    def enc(self, v: Any) -> bytes:
        return b"\x00" if v is None else b"\x01" + self._enc(v)

    def dec(self, b, o, end):
        if o >= end:
            self._need(o, 1, end)
        s = b[o]
        if s == 0:
            return None, o + 1
        if s == 1:
            return self._dec(b, o + 1, end)
        raise MihDecodeError(o, f"{self.name}: CHOICE selector {s} not in 0..1")

    def to_json(self, v):
        return None if v is None else self.inner.to_json(v)

    def from_json(self, j):
        return None if j is None else self.inner.from_json(j)


class ListOf(Codec):
    """LIST(T): element count (802.21 length encoding), then the elements."""

    def __init__(self, inner: Codec, name: str = ""):
        self.inner, self.name = inner, name or f"LIST({inner.name})"
        self._enc, self._dec = inner.enc, inner.dec

    def enc(self, v: tuple) -> bytes:
        if not isinstance(v, (tuple, list)):
            raise TypeError(f"{self.name} takes a tuple")
        return enc_len(len(v)) + b"".join([self._enc(x) for x in v])

    def dec(self, b, o, end):
        n, o = dec_len(b, o, end)
        if n > end - o:  # every element takes at least one octet: bounds the loop on hostile counts
            raise MihDecodeError(o, f"{self.name}: {n} elements cannot fit in {end - o} octets")
        out, d = [], self._dec
        for _ in range(n):
            x, o = d(b, o, end)
            out.append(x)
        return tuple(out), o

    def to_json(self, v):
        return [self.inner.to_json(x) for x in v]

    def from_json(self, j):
        return tuple(self.inner.from_json(x) for x in j)


class Wrapped(Codec):
    """An OCTET_STRING whose content is itself one encoded value (e.g. IR_BIN_DATA holds IE TLVs)."""

    def __init__(self, inner: Codec, name: str):
        self.inner, self.name = inner, name

    def enc(self, v: Any) -> bytes:
        body = self.inner.enc(v)
        return enc_len(len(body)) + body

    def dec(self, b, o, end):
        n, o = dec_len(b, o, end)
        e = o + n
        if e > end:
            raise MihDecodeError(o, f"{self.name} of {n} octets overruns its container ({end - o} left)")
        v, p = self.inner.dec(b, o, e)
        if p != e:
            raise MihDecodeError(p, f"{self.name}: {e - p} trailing octets")
        return v, e

    def to_json(self, v):
        return self.inner.to_json(v)

    def from_json(self, j):
        return self.inner.from_json(j)


class Ie(NamedTuple):
    """One Information Element: its name (codepoints.IES) and value."""
    name: str
    value: Any


class IeList(Codec):
    """A run of IE TLVs (4-octet type, 802.21 length, value) up to the end of the container.

    `table` maps IE name -> (type number, codec); filled after construction so containers can nest.
    """

    def __init__(self, name: str):
        self.name, self.table, self.by_type = name, {}, {}

    def define(self, name: str, number: int, codec: Codec) -> None:
        self.table[name] = (number, codec)
        self.by_type[number] = (name, codec)

    def enc(self, v: tuple) -> bytes:
        out = []
        for name, x in v:
            number, codec = self.table[name]
            body = codec.enc(x)
            out += [number.to_bytes(4, "big"), enc_len(len(body)), body]
        return b"".join(out)

    def dec(self, b, o, end):
        out = []
        while o < end:
            if o + 4 > end:
                raise MihDecodeError(o, f"truncated IE type ({end - o} octets left)")
            number = int.from_bytes(b[o:o + 4], "big")
            name, codec = self.by_type.get(number, (None, None))
            if codec is None:
                raise MihDecodeError(o, f"unknown IE type 0x{number:08x}")
            n, vo = dec_len(b, o + 4, end)
            ve = vo + n
            if ve > end:
                raise MihDecodeError(o + 4, f"IE {name} length {n} exceeds the {end - vo} octets left")
            x, p = codec.dec(b, vo, ve)
            if p != ve:
                raise MihDecodeError(p, f"IE {name}: {ve - p} trailing octets in value")
            out.append(Ie(name, x))
            o = ve
        return tuple(out), o

    def to_json(self, v):
        return [{name: self.table[name][1].to_json(x)} for name, x in v]

    def from_json(self, j):
        return tuple(Ie(n, self.table[n][1].from_json(x)) for item in j for n, x in item.items())


__all__ = ["Alt", "Seq", "Choice", "Opt", "ListOf", "Wrapped", "Ie", "IeList", "Null"]
