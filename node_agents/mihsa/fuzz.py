"""Fuzzing and benchmarking the protected byte path (shared by `mihsec mihsa` and the unit tests).

Three kinds of input, from the sample corpus, through inbound() then the MIH decoder:
- "sealed": a protected PDU with random mutations (header, IDs, SAID, SEQ, ciphertext, tag, lengths);
- "inner": a mutated plain PDU that the sender seals first, so the decoder behind a valid tag sees it;
- "clear": a mutated plain PDU sent unprotected.
Allowed outcomes: success (a protected input only if unchanged, an unprotected one only if policy allows
it in the clear), MihDecodeError, MihEncodeError (the sender refusing an inner mutant),
MihSecurityError. Anything else is a crash and is returned with the input that caused it.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from ..mih.codec import decode, encode
from ..mih.errors import MihDecodeError, MihEncodeError
from ..mih.samples import MN, POS, corpus, link_up
from .errors import MihSecurityError
from .hook import MihSecurity
from .envelope import S_BIT
from .kdf import eap_sa_keys
from .policy import may_be_clear
from .sa import INITIATOR, RESPONDER, SecurityAssociation
from .suites import MANDATORY

TYPED = (MihDecodeError, MihEncodeError, MihSecurityError)


def hook_pair(suite: int = MANDATORY, seed: int = 0) -> tuple[MihSecurity, MihSecurity]:
    """An MN hook and a PoS hook sharing one confirmed SA (keys from a seeded MSK: test use only)."""
    rng = random.Random(seed)
    keys = eap_sa_keys(rng.randbytes(64), rng.randbytes(32), rng.randbytes(32), suite, 0x5A1D, MN, POS)
    now = time.monotonic()
    mn, pos = MihSecurity(MN), MihSecurity(POS)
    mn.install(SecurityAssociation(keys, MN, POS, INITIATOR, now), confirmed=True)
    pos.install(SecurityAssociation(keys, POS, MN, RESPONDER, now), confirmed=True)
    return mn, pos


def mutate(rng: random.Random, data: bytes, fix_length: float = 0.5) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op, i = rng.randrange(7), rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[i % len(b)] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[i % len(b)] = rng.choice((0, 0x40, 0x7F, 0x80, 0x81, 0x84, 0xAE, 0xFF, rng.randrange(256)))
        elif op == 2:
            del b[i:]
        elif op == 3:
            b[i:i] = rng.randbytes(rng.randint(1, 8))
        elif op == 4:
            del b[i:i + rng.randint(1, 8)]
        elif op == 5:
            j = rng.randrange(len(b) + 1)
            b[i:i] = b[min(i, j):max(i, j)][:64]
        else:
            b = bytearray(rng.randbytes(rng.randint(0, 48)))
    if len(b) >= 8 and rng.random() < fix_length:  # repair the length field so the input gets past it
        b[6:8] = (len(b) - 8).to_bytes(2, "big")
    return bytes(b)


@dataclass
class FuzzResult:
    outcomes: Counter = field(default_factory=Counter)
    crashes: list[tuple[str, bytes, str]] = field(default_factory=list)  # (kind, input, repr of exception)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def fuzz(count: int, seed: int = 21, max_crashes: int = 20) -> FuzzResult:
    rng = random.Random(seed)
    mn, pos = hook_pair(seed=seed)
    plain = [encode(m) for m in corpus() if m.src == MN and m.dst == POS]
    sealed = [mn.outbound(p) for p in plain]
    sealed_set = set(sealed)
    res = FuzzResult()
    for _ in range(count):
        r = rng.random()
        kind = "sealed" if r < 0.5 else "inner" if r < 0.8 else "clear"
        data = mutate(rng, rng.choice(sealed if kind == "sealed" else plain))
        try:
            pdu = mn.outbound(data) if kind == "inner" else data
            msg = decode(pos.inbound(pdu))
            if decode(encode(msg)) != msg:
                raise AssertionError(f"{msg.name} does not survive re-encoding")
            if pdu[4] & S_BIT and kind == "sealed" and data not in sealed_set:
                raise AssertionError("a mutated protected PDU was accepted")
            if not pdu[4] & S_BIT and not may_be_clear(msg.spec.mid):
                raise AssertionError(f"{msg.name} accepted in the clear")
            res.outcomes[f"{kind}: accepted"] += 1
        except TYPED as e:
            res.outcomes[f"{kind}: {type(e).__name__}"] += 1
        except Exception as e:  # a crash: what the fuzzer is looking for
            res.outcomes[f"{kind}: CRASH"] += 1
            if len(res.crashes) < max_crashes:
                res.crashes.append((kind, data, repr(e)))
    return res


@dataclass
class BenchResult:
    name: str
    count: int
    wall: float
    cpu: float

    def line(self) -> str:
        return (f"{self.name}: {self.count} in {self.wall:.2f} s wall, {self.cpu:.2f} s CPU = "
                f"{self.count / self.wall:,.0f}/s wall, {self.count / self.cpu:,.0f}/s per CPU-second")


def _time(name: str, count: int, fn) -> BenchResult:
    t, c = time.perf_counter(), time.process_time()
    for _ in range(count):
        fn()
    return BenchResult(name, count, time.perf_counter() - t, time.process_time() - c)


def bench(count: int, suite: int = MANDATORY) -> list[BenchResult]:
    """protect+unprotect of one PDU, and the whole encode+protect+unprotect+decode, against plain codec."""
    mn, pos = hook_pair(suite)
    msg = link_up()
    pdu = encode(msg)
    return [_time("MIH codec encode+decode (no protection)", count, lambda: decode(encode(msg))),
            _time("protect+unprotect (PDU bytes)", count, lambda: pos.inbound(mn.outbound(pdu))),
            _time("encode+protect+unprotect+decode", count, lambda: decode(pos.inbound(mn.outbound(encode(msg)))))]
