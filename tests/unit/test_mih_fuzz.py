"""Fuzz: 100,000+ mutated and random inputs through the decoder; only MihDecodeError or success.

A seeded mutation loop over valid frames (hypothesis would be too slow for this count).
Half the mutants get their payload length field repaired so they reach the TLV parser.
Every successful decode must re-encode to a frame that decodes to the same message.
"""
import random

from node_agents.mih import MihDecodeError, decode, encode
from node_agents.mih.samples import corpus

RUNS = 100_000


def _mutants(rng: random.Random, seeds: list[bytes]):
    for _ in range(RUNS):
        b = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op, i = rng.randrange(7), rng.randrange(len(b) + 1)
            if op == 0 and b:
                b[i % len(b)] ^= 1 << rng.randrange(8)
            elif op == 1 and b:
                b[i % len(b)] = rng.choice((0, 0x7F, 0x80, 0x81, 0x84, 0xFF, rng.randrange(256)))
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
                b = bytearray(rng.randbytes(rng.randint(0, 40)))
        if len(b) >= 8 and rng.random() < 0.5:
            b[6:8] = (len(b) - 8).to_bytes(2, "big")
        yield bytes(b)


def test_fuzz_decoder(capsys):
    rng = random.Random(21)
    seeds = [encode(m) for m in corpus()]
    ok = errors = 0
    for data in _mutants(rng, seeds):
        try:
            msg = decode(data)
        except MihDecodeError:
            errors += 1
            continue
        ok += 1
        assert decode(encode(msg)) == msg
    with capsys.disabled():
        print(f"\nMIH fuzz: {ok + errors} inputs, {ok} decoded, {errors} MihDecodeError")
    assert ok + errors == RUNS >= 100_000 and ok > 0 and errors > 0
