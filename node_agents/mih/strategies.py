"""Hypothesis strategies derived from the data type tables (tests only: imports hypothesis).

for_codec(codec) generates any valid value of a data type; message(name) any
valid message of that name, optional TLVs present or absent at random.
"""
from __future__ import annotations

from functools import partial

from hypothesis import strategies as st

from .basic import (Bitmap, Bool, Codec, Enum, FixedText, Int, IpAddr, MacAddr, Null, Octets, OctetString, Text,
                    Uint)
from .compound import Alt, Choice, Ie, IeList, ListOf, Opt, Seq, Wrapped
from .messages import SPECS, Message

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
_cache: dict[int, st.SearchStrategy] = {}


def for_codec(c: Codec) -> st.SearchStrategy:
    s = _cache.get(id(c))
    if s is None:
        s = _cache[id(c)] = _build(c)
    return s


def _build(c: Codec) -> st.SearchStrategy:  # most specific classes first: Int < Uint, Text < OctetString
    if isinstance(c, Null):
        return st.none()
    if isinstance(c, Bool):
        return st.booleans()
    if isinstance(c, Int):
        return st.integers(-(1 << (8 * c.n - 1)), (1 << (8 * c.n - 1)) - 1)
    if isinstance(c, Uint):
        return st.integers(0, (1 << (8 * c.n)) - 1)
    if isinstance(c, FixedText):
        return st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=c.n, max_size=c.n)
    if isinstance(c, Octets):
        return st.binary(min_size=c.n, max_size=c.n)
    if isinstance(c, Text):
        return _TEXT
    if isinstance(c, OctetString):
        return st.binary(max_size=40)
    if isinstance(c, Enum):
        limit = (1 << (8 * c.base.n)) - 1
        return st.sampled_from(sorted(c.names.values())) | st.integers(0, limit).filter(lambda x: x not in c.names)
    if isinstance(c, Bitmap):
        return st.frozensets(st.sampled_from(sorted(c.bits)), max_size=4)
    if isinstance(c, MacAddr):
        return st.binary(min_size=6, max_size=6).map(lambda b: b.hex(":"))
    if isinstance(c, IpAddr):
        return (st.ip_addresses(v=4) | st.ip_addresses(v=6)).map(str)
    if isinstance(c, Seq):
        return st.builds(c.cls, *[for_codec(f) for _, f in c.fields])
    if isinstance(c, Choice):
        return st.one_of([for_codec(a).map(partial(Alt, t)) for t, a in c.alts])
    if isinstance(c, Opt):
        return st.none() | for_codec(c.inner)
    if isinstance(c, ListOf):
        return st.lists(for_codec(c.inner), max_size=3).map(tuple)
    if isinstance(c, Wrapped):
        return for_codec(c.inner)
    if isinstance(c, IeList):  # containers nest: defer, and keep lists short so recursion ends
        ie = st.deferred(lambda: st.one_of([for_codec(k).map(partial(Ie, n)) for n, (_, k) in c.table.items()]))
        return st.lists(ie, max_size=2).map(tuple)
    raise TypeError(f"no strategy for {type(c).__name__}")


@st.composite
def message(draw, name: str) -> Message:
    fields = {}
    for t in SPECS[name].tlvs:
        if t.mandatory or draw(st.booleans()):
            fields[t.name] = draw(for_codec(t.codec))
    return Message(name, fields, draw(st.integers(0, 0xFFF)), draw(st.booleans()), draw(st.booleans()),
                   draw(st.booleans()))
