"""Raw Ethernet frames on one interface (AF_PACKET), read from the asyncio loop.

The PoA agents carry RSN pre-authentication frames (EAPOL, ethertype 0x88C7) between domains:
they read and write them on a veth port of their AP's bridge, so injected frames reach hostapd
(and the bridge's stations) exactly as frames from the DS would.
"""
from __future__ import annotations

import asyncio
import socket
from typing import Callable

ETH_P_PREAUTH = 0x88C7
PACKET_OUTGOING = 4  # sll_pkttype of our own transmissions: never treat them as received


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def mac_str(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


class RawPort:
    def __init__(self, ifname: str, ethertype: int, on_frame: Callable[[bytes], None]):
        self.ifname, self.ethertype, self.on_frame = ifname, ethertype, on_frame
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
        self.sock.bind((ifname, ethertype))
        self.sock.setblocking(False)
        asyncio.get_running_loop().add_reader(self.sock.fileno(), self._read)

    def _read(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
            except BlockingIOError:
                return
            if addr[2] != PACKET_OUTGOING:
                self.on_frame(data)

    def send(self, frame: bytes) -> None:
        self.sock.send(frame)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.sock.fileno())
        self.sock.close()
