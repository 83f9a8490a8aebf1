"""The attacker: a UDP socket and a packet sniffer in its own namespace, and the attacks as a table.

Each attack names its victim agent, how to make its frames (forged from scratch, or from MN -> PoS traffic
sniffed on the wire) and the victim's counter that moves when the message reaches its role ("accepted").
"""
from __future__ import annotations

import ctypes
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from node_agents.mih import Message
from node_agents.mih.codec import encode
from node_agents.mih.compound import Alt
from node_agents.mih.samples import wifi
from testbed.attack.lab import BSSID_B, IP, MN, MN_MAC, POA, PORT, POS, Lab

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000


def in_ns(ns: str, fn: Callable[[], Any]) -> Any:
    """fn() on a thread that entered namespace ns: sockets it makes live there."""
    out: list[Any] = []

    def run() -> None:
        fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)
        out.append(fn())

    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    if not out:
        raise RuntimeError(f"could not enter namespace {ns}")
    return out[0]


class Attacker:
    def __init__(self, ns: str):
        self.udp: socket.socket = in_ns(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        self.udp.bind((IP["atk"], 0))
        self.raw: socket.socket = in_ns(ns, lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                                                   socket.htons(0x0800)))
        self.raw.bind(("eth0", 0x0800))
        self.raw.settimeout(0.2)

    def send(self, to: str, frame: bytes, count: int = 1) -> None:
        for _ in range(count):
            self.udp.sendto(frame, (IP[to], PORT))

    def sniff(self, src: str, dst: str, seconds: float) -> list[bytes]:
        """MIH frames (UDP payloads to port 4551) from src to dst seen on the wire for `seconds`."""
        out, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                f = self.raw.recv(65535)
            except TimeoutError:
                continue
            ip = f[14:]
            ihl = (ip[0] & 15) * 4
            if ip[9] != 17 or socket.inet_ntoa(ip[12:16]) != IP[src] or socket.inet_ntoa(ip[16:20]) != IP[dst]:
                continue
            if struct.unpack("!H", ip[ihl + 2:ihl + 4])[0] != PORT:
                continue
            out.append(bytes(ip[ihl + 8:]))
        return out

    def capture_get_information(self, lab: Lab) -> bytes:
        """A real MN -> PoS Get_Information, sniffed while the MN asks (protected when protection is on)."""
        got: list[bytes] = []
        t = threading.Thread(target=lambda: got.extend(self.sniff("mn", "pos", 4)))
        t.start()
        time.sleep(0.3)
        ok = lab.call("mn", {"cmd": "discover"}).get("ok")
        t.join()
        gi = [f for f in got if len(f) > 8 and f[2:4] == b"\x44\x01"]  # SID 4 (IS), request, AID 1
        if not ok or not gi:
            raise RuntimeError(f"no Get_Information to capture (discover ok: {ok}, {len(got)} frames sniffed)")
        return gi[0]

    def close(self) -> None:
        self.udp.close()
        self.raw.close()


def forged(name: str, src: str, dst: str, tid: int = 77, **fields: Any) -> bytes:
    return encode(Message.of(name, src=src, dst=dst, tid=tid, **fields))


def _flip(frame: bytes) -> bytes:
    b = bytearray(frame)
    b[5] ^= 0x01  # the TID: authenticated data under protection, a new transaction without it
    return bytes(b)


@dataclass(frozen=True)
class Attack:
    name: str
    victim: str                                   # agent role that receives the frames
    frames: Callable[[Attacker, Lab], list[bytes]]
    counter: Callable[[dict], int]                # victim's stats -> how many such messages reached its role


def _pos(key: str) -> Callable[[dict], int]:
    return lambda s: s["events"].get("Link_Going_Down", 0) if key == "lgd" else s[key]


ATTACKS: list[Attack] = [
    Attack("forged Link_Going_Down", "pos", lambda a, lab: [forged(
        "Link_Going_Down.indication", MN, POS, link_id=wifi(MN_MAC), time_interval=100,
        link_going_down_reason="explicit_disconnect")], _pos("lgd")),
    Attack("forged MN_HO_Commit", "pos", lambda a, lab: [forged(
        "MN_HO_Commit.request", MN, POS, link_type="IEEE802_11",
        target_network_info=Alt("link_addr", Alt("mac", BSSID_B)))], _pos("ho_commit")),
    Attack("forged Pro_Auth", "pos", lambda a, lab: [forged(
        "Pro_Auth.request", MN, POS, mn_mihf_id=MN, mn_link_addr=Alt("mac", MN_MAC), poa=Alt("mac", BSSID_B),
        eap_payload=bytes.fromhex("0201000a01") + b"alice")], _pos("pro_auth")),
    Attack("forged Push_Key", "poa", lambda a, lab: [forged(
        "Push_Key.request", POS, POA, mn_link_addr=Alt("mac", "02:00:00:00:ee:ee"), poa=Alt("mac", BSSID_B),
        key_name=bytes(16), wrapped_key=bytes(40), key_lifetime=60, akm_suite=0x000FAC01, replay_counter=2**40,
        integrity_tag=bytes(16))], lambda s: s["pushes_refused"] + s["keys_installed"]),
    Attack("replayed captured PDU", "pos", lambda a, lab: [a.capture_get_information(lab)], _pos("info")),
    Attack("bit-flipped captured PDU", "pos", lambda a, lab: [_flip(a.capture_get_information(lab))], _pos("info")),
    # bounded: 2000 datagrams, each its own transaction (distinct TIDs), to the lab's own namespace
    Attack("flood of forged MN_HO_Commit", "pos", lambda a, lab: [forged(
        "MN_HO_Commit.request", MN, POS, tid=1 + i % 4095, link_type="IEEE802_11",
        target_network_info=Alt("link_addr", Alt("mac", BSSID_B))) for i in range(100, 2100)], _pos("ho_commit")),
]
