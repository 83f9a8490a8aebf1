"""MIH traffic to and from pcap files Wireshark opens (Ethernet/IP/UDP around each frame).

scapy is imported lazily: only agents that dump traffic pay its import time.
"""
from __future__ import annotations

import ipaddress
import struct
import time
from pathlib import Path
from typing import Iterator, NamedTuple

from .codepoints import ETHERTYPE, UDP_PORT

Addr = tuple[str, int]


class PcapSink:
    """Appends MIH frames as UDP datagrams to a pcap file (flushed after every packet).

    The agents write one for every frame they send and receive, on the pre-authentication path: the
    Ethernet/IP/UDP headers are packed here (a few microseconds) rather than built as scapy layers (7 ms a frame
    natively, ~100 ms under TCG: most of what an EAP round trip through the PoS cost, issue 16)."""

    def __init__(self, path: str | Path):
        from scapy.utils import PcapWriter
        self.path = Path(path)
        self._w = PcapWriter(str(self.path), linktype=1, sync=True)
        self._w.write_header(None)  # an empty capture is still a capture file

    def write(self, frame: bytes, src: Addr, dst: Addr, ts: float | None = None) -> None:
        t = time.time() if ts is None else ts
        sec = int(t)
        self._w.write_packet(udp_frame(frame, src, dst), sec=sec, usec=int((t - sec) * 1e6))

    def close(self) -> None:
        self._w.close()

    def __enter__(self) -> "PcapSink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _fold(total: int) -> int:
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _sum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


def udp_frame(payload: bytes, src: Addr, dst: Addr) -> bytes:
    """Ethernet/IP/UDP around `payload`, as Wireshark expects it (IPv4 header checksum; UDP checksum 0 over
    IPv4, "none", and computed over IPv6, where it is mandatory)."""
    s, d = ipaddress.ip_address(src[0]), ipaddress.ip_address(dst[0])
    ulen = 8 + len(payload)
    if s.version == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0, s.packed, d.packed)
        ip = hdr[:10] + struct.pack("!H", ~_fold(_sum16(hdr)) & 0xFFFF) + hdr[12:]
        udp = struct.pack("!HHHH", src[1], dst[1], ulen, 0)
        etype = 0x0800
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", ulen, 17)
        csum = ~_fold(_sum16(pseudo + struct.pack("!HHHH", src[1], dst[1], ulen, 0) + payload)) & 0xFFFF
        udp = struct.pack("!HHHH", src[1], dst[1], ulen, csum or 0xFFFF)
        ip = struct.pack("!IHBB16s16s", 6 << 28, ulen, 17, 64, s.packed, d.packed)
        etype = 0x86DD
    return _ETH + struct.pack("!H", etype) + ip + udp + payload


_ETH = bytes.fromhex("020000000002" "020000000001")  # dst, src: the addresses the scapy-built frames had


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
