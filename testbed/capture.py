"""Packet captures (tcpdump on hwsim0, the radio medium) and their reading with tshark."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from testbed.daemons.base import Daemon
from testbed.errors import MihsecError
from testbed.state import RunState


_STATS = re.compile(r"(\d+) packets captured, (\d+) packets received by filter, (\d+) packets dropped by kernel")
BUFFER_KIB = 32768  # the kernel ring tcpdump reads from; its 2 MiB default overflowed on a busy machine


@dataclass(frozen=True)
class CaptureStats:
    """tcpdump's own counters (libpcap's pcap_stats): frames the kernel dropped never reach the pcap."""
    captured: int
    received: int
    dropped: int


class Tcpdump(Daemon):
    exe = "tcpdump"

    def __init__(self, name: str, netns: str | None, iface: str, pcap: Path, log: Path, state: RunState | None,
                 bpf: str = ""):
        # --immediate-mode: no 1 s kernel buffer timeout, so the last frames of a run are not lost;
        # -U: write each packet at once, so a killed run still leaves a readable pcap.
        argv = ["tcpdump", "-i", iface, "-s", "0", "-B", str(BUFFER_KIB), "--immediate-mode", "-U", "-n",
                "-w", str(pcap)]
        argv += bpf.split() if bpf else []
        super().__init__(name, netns, argv, log, state)
        self.pcap = pcap
        self.final: CaptureStats | None = None

    def _last_stats(self) -> tuple[int, CaptureStats | None]:
        found = _STATS.findall(self.log.read_text(errors="replace")) if self.log.exists() else []
        return len(found), (CaptureStats(*map(int, found[-1])) if found else None)

    def stats(self, timeout: float = 2.0) -> CaptureStats | None:
        """The counters so far: SIGUSR1 makes tcpdump print them (Linux has no SIGINFO). None if it cannot."""
        if not self.running:
            return self.final
        n, _ = self._last_stats()
        os.kill(self.proc.pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m, st = self._last_stats()
            if m > n:
                return st
            time.sleep(0.02)
        return None

    def stop(self, timeout: float = 5.0) -> None:
        """Let tcpdump drain what the kernel still holds (it lags under TCG) before stopping it."""
        deadline, last = time.monotonic() + timeout, -1
        while self.running and time.monotonic() < deadline:
            size = self.pcap.stat().st_size if self.pcap.exists() else 0
            if size == last:
                break
            last = size
            time.sleep(0.3)
        was_running = self.running
        super().stop(timeout)
        if was_running:  # tcpdump prints its counters as it exits
            self.final = self._last_stats()[1]

    def start(self, timeout: float = 15.0) -> None:  # type: ignore[override]
        super().start(lambda: "listening on" in self.log.read_text(errors="replace"), timeout)
        try:  # a capture starved of CPU falls behind and the kernel drops what its ring cannot hold
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, -10)
        except OSError:
            pass


def completeness(before: CaptureStats | None, after: CaptureStats | None, caught_up: bool) -> str:
    """"complete", or "incomplete: <why>" for a stretch of capture between two readings of the counters."""
    if not caught_up:
        return "incomplete: the capture had not caught up with the end of the handover (tcpdump lagging)"
    if before is None or after is None:
        return "incomplete: tcpdump's counters could not be read"
    if after.dropped > before.dropped:
        return f"incomplete: {after.dropped - before.dropped} frames dropped by the kernel during the handover"
    return "complete"


# tshark fields of one 802.11 frame; subtype: 0x0000 assoc req, 0x0002 reassoc req, 0x000b auth, ...
_FIELDS = ["frame.number", "frame.time_epoch", "wlan.fc.type_subtype", "wlan.sa", "wlan.da", "wlan.bssid",
           "eapol.type", "eap.code", "eap.type", "wlan_rsna_eapol.keydes.msgnr"]


@dataclass(frozen=True)
class Frame:
    number: int
    time: float
    subtype: int | None
    sa: str
    da: str
    bssid: str
    eapol_type: int | None
    eap_code: int | None
    eap_type: int | None
    key_msg: int | None

    @property
    def is_eap(self) -> bool:
        return self.eap_code is not None

    @property
    def is_assoc_request(self) -> bool:
        return self.subtype in (0x00, 0x02)


def _int(v: str) -> int | None:
    v = v.split(",")[0].strip()
    if not v:
        return None
    return int(v, 16) if v.startswith("0x") else int(v)


def read_frames(pcap: Path, display_filter: str = "") -> list[Frame]:
    """Every 802.11 frame of a hwsim0 capture, with the EAP / EAPOL-Key details tests look at."""
    argv = ["tshark", "-n", "-r", str(pcap), "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
    for f in _FIELDS:
        argv += ["-e", f]
    if display_filter:
        argv += ["-Y", display_filter]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise MihsecError(f"tshark could not read {pcap}: {r.stderr.strip().splitlines()[-1] if r.stderr else r.returncode}")
    frames = []
    for line in r.stdout.splitlines():
        v = line.split("\t") + [""] * len(_FIELDS)
        frames.append(Frame(int(v[0]), float(v[1]), _int(v[2]), v[3], v[4], v[5], _int(v[6]), _int(v[7]),
                            _int(v[8]), _int(v[9])))
    return frames


@dataclass
class AssociationSummary:
    """What happened on the air from one (re)association request of a station to an AP onwards."""
    bssid: str
    assoc_frame: int
    eap_frames: int
    eap_tls_frames: int
    key_msgs: list[int]


def associations(frames: list[Frame], sta: str) -> list[AssociationSummary]:
    """Split a capture at each (re)association request of `sta`, counting EAP and EAPOL-Key frames after it."""
    out: list[AssociationSummary] = []
    for f in frames:
        if f.is_assoc_request and f.sa == sta:
            out.append(AssociationSummary(f.bssid, f.number, 0, 0, []))
        elif out and sta in (f.sa, f.da):
            cur = out[-1]
            if f.is_eap:
                cur.eap_frames += 1
                cur.eap_tls_frames += int(f.eap_type == 13)
            if f.key_msg is not None:
                cur.key_msgs.append(f.key_msg)
    return out


def handovers(frames: list[Frame], sta: str) -> list[AssociationSummary]:
    """One entry per change of AP: retried (re)association requests to the same AP fold into the last one."""
    out: list[AssociationSummary] = []
    for a in associations(frames, sta):
        if out and out[-1].bssid == a.bssid:
            out[-1] = a
        else:
            out.append(a)
    return out
