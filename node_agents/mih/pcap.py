"""MIH traffic to and from pcap files Wireshark opens (Ethernet/IP/UDP around each frame).

scapy is imported lazily: only agents that dump traffic pay its import time.
"""
from __future__ import annotations

import ipaddress
import time
from pathlib import Path
from typing import Iterator, NamedTuple

from .codepoints import ETHERTYPE, UDP_PORT

Addr = tuple[str, int]


class PcapSink:
    """Appends MIH frames as UDP datagrams to a pcap file (flushed after every packet)."""

    def __init__(self, path: str | Path):
        from scapy.utils import PcapWriter
        self.path = Path(path)
        self._w = PcapWriter(str(self.path), linktype=1, sync=True)

    def write(self, frame: bytes, src: Addr, dst: Addr, ts: float | None = None) -> None:
        from scapy.layers.inet import IP, UDP
        from scapy.layers.inet6 import IPv6
        from scapy.layers.l2 import Ether
        from scapy.packet import Raw
        ip = IP if ipaddress.ip_address(src[0]).version == 4 else IPv6
        pkt = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip(src=src[0], dst=dst[0]) \
            / UDP(sport=src[1], dport=dst[1]) / Raw(frame)
        pkt.time = time.time() if ts is None else ts
        self._w.write(pkt)

    def close(self) -> None:
        self._w.close()

    def __enter__(self) -> "PcapSink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Captured(NamedTuple):
    number: int          # 1-based packet number, as Wireshark shows it
    time: float
    src: Addr
    dst: Addr
    frame: bytes


def read_pcap(path: str | Path, port: int | None = UDP_PORT) -> Iterator[Captured]:
    """MIH frames in a capture: UDP payloads to or from `port` (None: any), and L2 frames of ethertype 0x8917."""
    from scapy.layers.inet import UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import PcapReader
    with PcapReader(str(path)) as r:
        for n, pkt in enumerate(r, 1):
            if UDP in pkt and (port is None or port in (pkt[UDP].sport, pkt[UDP].dport)):
                ip = pkt[UDP].underlayer
                yield Captured(n, float(pkt.time), (ip.src, pkt[UDP].sport), (ip.dst, pkt[UDP].dport),
                               bytes(pkt[UDP].payload))
            elif Ether in pkt and pkt[Ether].type == ETHERTYPE:
                raw = bytes(pkt[Ether].payload)
                if len(raw) >= 8:  # drop Ethernet padding: the header says how long the payload is
                    raw = raw[:8 + int.from_bytes(raw[6:8], "big")]
                yield Captured(n, float(pkt.time), (pkt[Ether].src, 0), (pkt[Ether].dst, 0), raw)
