"""Packet captures (tcpdump on hwsim0, the radio medium) and their reading with tshark."""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from testbed.daemons.base import Daemon
from testbed.errors import MihsecError
from testbed.state import RunState


class Tcpdump(Daemon):
    exe = "tcpdump"

    def __init__(self, name: str, netns: str | None, iface: str, pcap: Path, log: Path, state: RunState | None,
                 bpf: str = ""):
        # --immediate-mode: no 1 s kernel buffer timeout, so the last frames of a run are not lost;
        # -U: write each packet at once, so a killed run still leaves a readable pcap.
        argv = ["tcpdump", "-i", iface, "-s", "0", "--immediate-mode", "-U", "-n", "-w", str(pcap)]
        argv += bpf.split() if bpf else []
        super().__init__(name, netns, argv, log, state)
        self.pcap = pcap

    def stop(self, timeout: float = 5.0) -> None:
        """Let tcpdump drain what the kernel still holds (it lags under TCG) before stopping it."""
        deadline, last = time.monotonic() + timeout, -1
        while self.running and time.monotonic() < deadline:
            size = self.pcap.stat().st_size if self.pcap.exists() else 0
            if size == last:
                break
            last = size
            time.sleep(0.3)
        super().stop(timeout)

    def start(self, timeout: float = 15.0) -> None:  # type: ignore[override]
        super().start(lambda: "listening on" in self.log.read_text(errors="replace"), timeout)


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
