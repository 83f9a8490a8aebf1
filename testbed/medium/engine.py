"""What the medium does with one transmitted frame: who hears it, at which signal, whether each attempt of
the hardware retry chain gets through and is acknowledged. Pure logic, no sockets (unit-testable).

Group-addressed frames go to every other radio (each draws its own loss); unicast frames only to the
radio owning addr1 (mac80211 would drop them elsewhere, and every delivery costs a netlink message).
The kernel drops deliveries to radios on another channel, so the caller confirms the addressee's.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from testbed.medium import loss
from testbed.medium.propagation import Link, Model, rssi

Vec = tuple[float, float, float]


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def mac_str(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def radio_id(mac: str) -> bytes:
    """hwsim's radio identity (addresses[1]): the permanent MAC with the locally-administered bit 0x40 set."""
    b = bytearray(mac_bytes(mac))
    b[0] |= 0x40
    return bytes(b)


@dataclass
class Radio:
    index: int
    node: str
    mac: bytes  # permanent (vif) address
    position: Vec
    txpower: float = 14.0  # dBm
    gain: float = 5.0  # antennaGain, dBi
    height: float = 1.0  # antennaHeight, m
    rid: bytes = field(init=False, default=b"")  # hwsim's id of the radio: what FRAME messages name

    def __post_init__(self) -> None:
        self.rid = radio_id(mac_str(self.mac))


@dataclass(frozen=True)
class TxFrame:
    """One frame the kernel handed to the medium."""
    transmitter: bytes  # radio id
    frame: bytes
    flags: int
    freq: int
    rates: tuple[tuple[int, int], ...]  # tx_info: (idx, count), idx -1 ends
    rate_flags: tuple[int, ...]
    cookie: int

    @property
    def addr1(self) -> bytes:
        return self.frame[4:10]

    @property
    def group(self) -> bool:
        return bool(self.frame[4] & 1) if len(self.frame) >= 10 else True


@dataclass
class Delivery:
    radio: Radio
    signal: int  # dBm
    rate: int  # legacy rate index for RX_RATE


@dataclass
class Outcome:
    tx: Radio | None
    deliveries: list[Delivery] = field(default_factory=list)
    addressee: Delivery | None = None  # unicast delivery: the kernel must accept it for the ACK to stand
    acked: bool = False
    tries: tuple[tuple[int, int], ...] = ()  # the retry chain as used, to report
    tries_failed: tuple[tuple[int, int], ...] = ()  # what to report if the addressee is rejected
    ack_signal: int = 0
    signal: float | None = None  # at the addressee (unicast) or the strongest receiver (group)


def chain(rates: tuple[tuple[int, int], ...], upto: int | None = None, last: int = 0) -> tuple[tuple[int, int], ...]:
    """The tx_info to report: entries before `upto` in full, `last` tries of entry `upto`, then idx -1."""
    out = []
    for i, (idx, count) in enumerate(rates):
        if idx < 0 or (upto is not None and i > upto):
            out.append((-1, 0))
        elif upto is not None and i == upto:
            out.append((idx, last))
        else:
            out.append((idx, count))
    return tuple(out + [(-1, 0)] * (4 - len(out)))


class Engine:
    def __init__(self, radios: list[Radio], model: Model, noise_th: float = loss.NOISE_TH, seed: int = 0):
        self.model, self.noise_th = model, noise_th
        self.rng = random.Random(seed)
        self.radios = radios
        self.by_id = {r.rid: r for r in radios}
        self.by_mac = {r.mac: r for r in radios}
        self.by_node = {r.node: r for r in radios}
        self._signal: dict[tuple[int, int, int], float] = {}

    # --- state -------------------------------------------------------------------------------

    def move(self, node: str, position: Vec) -> None:
        self.by_node[node].position = position
        self._signal.clear()

    def learn(self, rid: bytes, mac: bytes) -> None:
        """A vif address of a radio (hwsim ADD_MAC_ADDR, or a frame's transmitter address)."""
        if (r := self.by_id.get(rid)) is not None:
            self.by_mac[mac] = r

    def signal(self, a: Radio, b: Radio, freq: int) -> float:
        key = (a.index, b.index, freq)
        s = self._signal.get(key)
        if s is None:
            d = math.dist(a.position, b.position)
            pair = "|".join(sorted((f"{a.node}{a.position}", f"{b.node}{b.position}")))
            link = Link(d, float(freq), a.height, b.height, a.position[2] - b.position[2], pair)
            s = self._signal[key] = rssi(self.model, link, a.txpower, a.gain, b.gain)
        return s

    # --- one frame ---------------------------------------------------------------------------

    def transmit(self, f: TxFrame) -> Outcome:
        tx = self.by_id.get(f.transmitter)
        out = Outcome(tx, tries_failed=chain(f.rates))
        out.tries = out.tries_failed
        if tx is None or not f.rates or f.rates[0][0] < 0:
            return out
        if len(f.frame) >= 16:
            self.by_mac.setdefault(f.frame[10:16], tx)
        idx0 = f.rates[0][0]
        snr10, rx_rate = loss.rate_of(idx0, f.rate_flags[0] if f.rate_flags else 0, f.freq)
        if f.group:
            best = None
            for r in self.radios:
                if r is tx:
                    continue
                s = self.signal(tx, r, f.freq)
                best = s if best is None else max(best, s)
                if s >= self.noise_th and self.rng.random() >= loss.per(s - self.noise_th, snr10, len(f.frame)):
                    out.deliveries.append(Delivery(r, round(s), rx_rate))
            out.signal, out.acked = best, True
            out.tries = chain(f.rates, 0, 1)
            return out
        rx = self.by_mac.get(f.addr1)
        if rx is None or rx is tx:
            return out
        fwd, rev = self.signal(tx, rx, f.freq), self.signal(rx, tx, f.freq)
        out.signal, out.ack_signal = fwd, round(rev)
        if fwd < self.noise_th:
            return out
        ack_snr10, _ = loss.rate_of(0, 0, f.freq)
        p_ack = loss.per(rev - self.noise_th, ack_snr10, 14)
        for i, (idx, count) in enumerate(f.rates):
            if idx < 0:
                break
            snr10, rx_rate = loss.rate_of(idx, f.rate_flags[i] if i < len(f.rate_flags) else 0, f.freq)
            p = loss.per(fwd - self.noise_th, snr10, len(f.frame))
            for k in range(count):
                if self.rng.random() < p:
                    continue
                if out.addressee is None:  # the first copy that gets through (duplicates are dropped anyway)
                    out.addressee = Delivery(rx, round(fwd), rx_rate)
                if self.rng.random() >= p_ack:
                    out.acked, out.tries = True, chain(f.rates, i, k + 1)
                    return out
        return out
