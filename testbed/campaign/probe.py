"""Data-plane probe: a UDP stream from a correspondent host to the mobile node, across a handover.

The sender is a forked process inside the correspondent's namespace (its pacing does not depend on
what the orchestrator does meanwhile): `rate` packets/s, each carrying a run token, a sequence
number and its send time. The receiver is a socket in the mobile node's namespace; a thread reads
it and keeps the kernel's receive timestamp of each packet (SO_TIMESTAMPNS), so the orchestrator's
own scheduling does not blur the arrival times.

Interruption = the longest gap between consecutive arrivals; lost = sent - received.

With `via` (interfaces of the sender), every packet leaves through each of them (SO_BINDTODEVICE; the
station's address counts as on-link there): a correspondent with a leg in each domain reaches the
station wherever it is attached, the way a mobility anchor bicasts during a handover. The receiver
counts a sequence number once.
"""
from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import secrets
import select
import signal
import socket
import struct
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

_CLONE_NEWNET = 0x40000000
_SO_TIMESTAMPNS = 35  # == SCM_TIMESTAMPNS
_HDR = struct.Struct("!QId")  # run token, sequence number, send time (time.time())
_libc = ctypes.CDLL(None, use_errno=True)


def _setns_fd(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _enter(netns: str) -> None:
    fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        _setns_fd(fd)
    finally:
        os.close(fd)


@contextmanager
def in_netns(netns: str | None) -> Iterator[None]:
    """Run the body (this thread only) inside `netns`; sockets created there stay there."""
    if netns is None:
        yield
        return
    back = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        _enter(netns)
        yield
    finally:
        _setns_fd(back)
        os.close(back)


def _send_loop(netns: str | None, dst: str, port: int, rate: float, size: int, token: int,
               stop: "mp.synchronize.Event", sent: "mp.sharedctypes.Synchronized",
               max_gap_us: "mp.sharedctypes.Synchronized", via: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the orchestrator's to handle; it stops us
    if netns:
        _enter(netns)
    socks = []
    for ifname in via or [None]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if ifname:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
        socks.append(s)
    pad = b"\0" * max(0, size - _HDR.size)
    period = 1.0 / rate
    seq, t_next, last = 0, time.monotonic(), None
    while not stop.is_set():
        now = time.monotonic()
        if now < t_next:
            time.sleep(t_next - now)
            now = time.monotonic()
        data = _HDR.pack(token, seq, time.time()) + pad
        for sock in socks:
            try:
                sock.sendto(data, (dst, port))
            except OSError:
                pass  # e.g. no route or neighbour for a moment: that packet is lost, like any other
        if last is not None:
            max_gap_us.value = max(max_gap_us.value, int((now - last) * 1e6))
        last = now
        seq += 1
        sent.value = seq
        # Absolute schedule; after a stall (e.g. the sender was descheduled) restart it rather than burst.
        t_next = max(t_next + period, now - period)
    for sock in socks:
        sock.close()


@dataclass
class ProbeResult:
    sent: int
    arrivals: list[tuple[int, float, float]]  # (seq, send time, kernel receive time), wall clock, in order
    start: float  # wall time the stream started / stopped
    stop: float
    rate: float
    max_send_gap_ms: float  # the sender's own longest pause: a gap this long is not the network's doing

    @property
    def received(self) -> int:
        return len({s for s, _, _ in self.arrivals})

    @property
    def lost(self) -> int:
        return max(0, self.sent - self.received)

    def gaps(self) -> list[tuple[float, float]]:
        """(from, to) between consecutive arrivals and from the last one to the stop of the stream
        (a stream that never resumed counts until then); no arrival at all: the whole stream."""
        if not self.arrivals:
            return [(self.start, self.stop)]
        times = [t for _, _, t in self.arrivals] + [max(self.stop, self.arrivals[-1][2])]
        return list(zip(times, times[1:])) or [(times[0], times[0])]

    def longest_gap(self) -> tuple[float, float]:
        return max(self.gaps(), key=lambda g: g[1] - g[0])

    @property
    def interruption_ms(self) -> float:
        a, b = self.longest_gap()
        return round((b - a) * 1000, 1)

    def first_after(self, t: float) -> float | None:
        """Receive time of the first packet that arrived after wall time `t`."""
        return next((r for _, _, r in self.arrivals if r > t), None)

    def to_dict(self) -> dict:
        a, b = self.longest_gap()
        return {"sent": self.sent, "received": self.received, "lost": self.lost, "rate": self.rate,
                "interruption_ms": self.interruption_ms, "gap_from": a, "gap_to": b,
                "max_send_gap_ms": self.max_send_gap_ms, "start": self.start, "stop": self.stop}


@dataclass
class Probe:
    """One stream: `start()` before the handover, `stop()` after it."""
    sender_ns: str | None
    receiver_ns: str | None
    dst: str
    port: int = 50000
    rate: float = 200.0
    size: int = 64
    via: list[str] = field(default_factory=list)  # bicast through these interfaces of the sender
    _token: int = 0
    _sock: socket.socket | None = None
    _thread: threading.Thread | None = None
    _proc: mp.Process | None = None
    _stop_rx: threading.Event = field(default_factory=threading.Event)
    _arrivals: list[tuple[int, float, float]] = field(default_factory=list)
    _t0: float = 0.0

    def start(self) -> None:
        self._token = secrets.randbits(63)
        self._arrivals = []
        self._stop_rx.clear()
        with in_netns(self.receiver_ns):
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._sock.bind(("0.0.0.0", self.port))
        self._thread = threading.Thread(target=self._recv_loop, name="probe-rx", daemon=True)
        self._thread.start()
        ctx = mp.get_context("fork")
        self._stop_tx = ctx.Event()
        self._sent = ctx.Value("q", 0)
        self._max_gap = ctx.Value("q", 0)
        self._t0 = time.time()
        self._proc = ctx.Process(target=_send_loop, name="probe-tx", daemon=True,
                                 args=(self.sender_ns, self.dst, self.port, self.rate, self.size, self._token,
                                       self._stop_tx, self._sent, self._max_gap, self.via))
        self._proc.start()

    def _recv_loop(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stop_rx.is_set():
            if not select.select([sock], [], [], 0.05)[0]:
                continue
            try:
                data, anc, _, _ = sock.recvmsg(2048, 64, socket.MSG_DONTWAIT)
            except (BlockingIOError, OSError):
                continue
            if len(data) < _HDR.size:
                continue
            token, seq, t_send = _HDR.unpack_from(data)
            if token != self._token:
                continue  # a straggler of an earlier stream
            t_recv = time.time()
            for level, kind, raw in anc:
                if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(raw) >= 16:
                    sec, nsec = struct.unpack("qq", raw[:16])
                    t_recv = sec + nsec / 1e9
            self._arrivals.append((seq, t_send, t_recv))

    def arrived_after(self, t: float) -> bool:
        """Has a packet arrived after wall time `t` (the stream resumed)?"""
        return any(a[2] > t for a in self._arrivals[-50:])

    def stop(self, drain: float = 0.1) -> ProbeResult:
        t_stop = time.time()
        if self._proc is not None:
            self._stop_tx.set()
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join()
        time.sleep(drain)  # packets already on their way
        self._stop_rx.set()
        if self._thread is not None:
            self._thread.join(2)
        if self._sock is not None:
            self._sock.close()
        result = ProbeResult(int(self._sent.value), sorted(self._arrivals, key=lambda a: a[2]), self._t0, t_stop,
                             self.rate, round(self._max_gap.value / 1000, 1))
        self._proc = self._thread = self._sock = None
        return result

    def __enter__(self) -> "Probe":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self.stop(drain=0)
