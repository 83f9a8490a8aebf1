"""Per-frame log of the medium: one fixed 32-byte record per frame the kernel handed over, stamped with
CLOCK_REALTIME (same clock as the daemons' `-t` timestamps and pcaps in the same machine) and
CLOCK_MONOTONIC (durations). A JSON header beside it names the radios by index.

Record `<ddBBHHHHbbBBBx`: realtime, monotonic, transmitter index, receiver index (255: group-addressed,
254: unknown addressee), frequency MHz, frame control, sequence control, length, signal dBm at the addressee
(group: strongest receiver; -128 none), rate index of the attempt that got through (-1 none), attempts used,
acked, receivers delivered to.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

RECORD = struct.Struct("<ddBBHHHHbbBBBx")
GROUP, UNKNOWN = 255, 254


@dataclass(frozen=True)
class FrameRecord:
    realtime: float
    monotonic: float
    tx: int
    rx: int
    freq: int
    fc: int
    seq: int
    length: int
    signal: int
    rate: int
    attempts: int
    acked: bool
    delivered: int

    @property
    def subtype(self) -> tuple[int, int]:
        """(type, subtype) of the 802.11 frame: (0, 8) beacon, (0, 11) auth, (2, x) data..."""
        return (self.fc >> 2) & 3, (self.fc >> 4) & 0xF


class FrameLog:
    def __init__(self, path: Path, radios: list[dict]):
        self.path = path
        path.with_suffix(".json").write_text(json.dumps({"record": RECORD.format, "radios": radios}, indent=1))
        self.f: BinaryIO = open(path, "wb", buffering=1 << 16)

    def write(self, *fields: object) -> None:
        self.f.write(RECORD.pack(*fields))

    def flush(self) -> None:
        self.f.flush()

    def close(self) -> None:
        self.f.close()


def read(path: Path) -> tuple[list[dict], list[FrameRecord]]:
    """The radios (index -> node, mac) and every record."""
    header = json.loads(path.with_suffix(".json").read_text())
    data = path.read_bytes()
    n = len(data) // RECORD.size
    recs = [FrameRecord(*r[:11], bool(r[11]), r[12]) for r in RECORD.iter_unpack(data[:n * RECORD.size])]
    return header["radios"], recs
