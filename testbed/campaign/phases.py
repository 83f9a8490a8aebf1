"""Per-phase durations of one handover from two independent clocks.

- the daemon clock: wpa_supplicant's own `-t` timestamps in its log (the control-interface messages it
  also sends to monitors: "SME: Trying to authenticate", "Associated with", CTRL-EVENT-EAP-*, "WPA: Key
  negotiation completed", CTRL-EVENT-CONNECTED), plus the harness's own command time;
- the packet clock: kernel timestamps of the frames on the simulated medium (tcpdump on hwsim0: 802.11
  authentication, (re)association, FT Action, EAP and EAPOL-Key frames, the first protected data frame).

Both are CLOCK_REALTIME of the machine that runs the radios, but they stamp different events (a daemon's
log line vs a frame handed to the medium), so each phase measured on both says how far they agree.

The pcap reader is a small radiotap/802.11 parser of our own: no tshark process per trial (slow under
TCG), and the unit tests check it against tshark on a committed capture.
"""
from __future__ import annotations

import re
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from testbed.campaign.record import PHASES

DISAGREE_REL = 0.05  # a phase whose two clocks differ by more than 5 % ...
DISAGREE_ABS_MS = 1.0  # ... and by more than 1 ms (below that, scheduling noise dominates) is flagged
COMPARED = ("auth_assoc", "eap", "key", "first_data")  # phases both clocks can see


# --- the daemon clock -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LogLine:
    t: float
    text: str  # without the timestamp and the "wlan0: " interface prefix


_LOG = re.compile(r"^(\d+\.\d+): (.*)$")


def parse_log(text: str, ifname: str = "wlan0") -> list[LogLine]:
    out = []
    prefix = f"{ifname}: "
    for line in text.splitlines():
        m = _LOG.match(line)
        if not m:
            continue
        msg = m.group(2)
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
        out.append(LogLine(float(m.group(1)), msg))
    return out


class LogTail:
    """The lines a daemon appended to its log since the last call (complete lines only)."""

    def __init__(self, path: Path, ifname: str = "wlan0"):
        self.path, self.ifname = path, ifname
        self.offset = 0
        if path.exists():  # from the end of the last complete line on
            with open(path, "rb") as f:
                size = f.seek(0, 2)
                f.seek(max(0, size - 65536))
                tail = f.read()
            self.offset = size - len(tail) + tail.rfind(b"\n") + 1

    def read_new(self) -> list[LogLine]:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        return parse_log(data[:end].decode(errors="replace"), self.ifname)


# --- the packet clock ------------------------------------------------------------------------------

BROADCAST = "ff:ff:ff:ff:ff:ff"


@dataclass(frozen=True)
class Frame:
    t: float
    type: int  # 0 management, 1 control, 2 data
    subtype: int
    ta: str  # transmitter (addr2); "" for frames without one (ACK, CTS)
    ra: str  # receiver (addr1)
    protected: bool = False
    auth_alg: int | None = None  # authentication frames: 0 open system, 2 FT
    auth_seq: int | None = None
    status: int | None = None  # authentication and (re)association responses
    category: int | None = None  # action frames (6 = FT)
    action: int | None = None
    eapol_type: int | None = None  # 0 EAP packet, 1 EAPOL-Start, 3 EAPOL-Key
    eap_code: int | None = None  # 1 request, 2 response, 3 success, 4 failure
    eap_type: int | None = None
    key_msg: int | None = None  # 1..4 of the 4-way handshake (pairwise EAPOL-Key frames only)
    ethertype: int | None = None  # unprotected data frames with an LLC/SNAP header

    @property
    def is_auth(self) -> bool:
        return self.type == 0 and self.subtype == 11

    @property
    def is_assoc_req(self) -> bool:
        return self.type == 0 and self.subtype in (0, 2)

    @property
    def is_assoc_resp(self) -> bool:
        return self.type == 0 and self.subtype in (1, 3)

    @property
    def is_ft_action(self) -> bool:
        return self.type == 0 and self.subtype == 13 and self.category == 6

    @property
    def is_data(self) -> bool:
        return self.type == 2


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def parse_80211(t: float, pkt: bytes) -> Frame | None:
    """One radiotap + 802.11 frame as captured on hwsim0."""
    if len(pkt) < 4:
        return None
    rt_len = struct.unpack_from("<H", pkt, 2)[0]
    w = pkt[rt_len:]
    if len(w) < 10:
        return None
    fc = struct.unpack_from("<H", w, 0)[0]
    ftype, subtype, flags = (fc >> 2) & 3, (fc >> 4) & 0xF, fc >> 8
    ra = _mac(w[4:10])
    ta = _mac(w[10:16]) if len(w) >= 16 and not (ftype == 1 and subtype in (12, 13)) else ""  # CTS/ACK: no TA
    protected = bool(flags & 0x40)
    kw: dict = {}
    if ftype == 0 and len(w) >= 24:
        body = w[24:]
        if subtype == 11 and len(body) >= 6:
            kw["auth_alg"], kw["auth_seq"], kw["status"] = struct.unpack_from("<HHH", body)
        elif subtype in (1, 3) and len(body) >= 4:
            kw["status"] = struct.unpack_from("<H", body, 2)[0]
        elif subtype == 13 and len(body) >= 2 and not protected:
            kw["category"], kw["action"] = body[0], body[1]
    elif ftype == 2 and not protected:
        hdr = 24 + (6 if flags & 0x03 == 0x03 else 0)
        if subtype & 0x8:  # QoS data
            hdr += 2 + (4 if flags & 0x80 else 0)
        body = w[hdr:]
        if len(body) >= 8 and body[:6] == b"\xaa\xaa\x03\x00\x00\x00":
            kw["ethertype"] = struct.unpack_from(">H", body, 6)[0]
        if len(body) >= 12 and kw.get("ethertype") == 0x888E:
            eapol = body[8:]
            kw["eapol_type"] = eapol[1]
            if eapol[1] == 0 and len(eapol) >= 8:
                kw["eap_code"] = eapol[4]
                if eapol[4] in (1, 2) and len(eapol) >= 9:
                    kw["eap_type"] = eapol[8]
            elif eapol[1] == 3 and len(eapol) >= 7:
                info = struct.unpack_from(">H", eapol, 5)[0]
                if info & 0x0008:  # pairwise: the 4-way handshake
                    ack, mic, secure = bool(info & 0x0080), bool(info & 0x0100), bool(info & 0x0200)
                    kw["key_msg"] = 1 if ack and not mic else 3 if ack else 4 if secure else 2
    return Frame(t, ftype, subtype, ta, ra, protected, **kw)


class PcapTail:
    """Frames appended to a growing pcap (tcpdump -U) since the last call; complete records only."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.endian = "<"
        self.nano = False

    def _header(self, f) -> bool:
        hdr = f.read(24)
        if len(hdr) < 24:
            return False
        magic = hdr[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            self.endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            self.endian = ">"
        else:
            raise ValueError(f"{self.path}: not a pcap file")
        self.nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        linktype = struct.unpack_from(self.endian + "I", hdr, 20)[0]
        if linktype != 127:
            raise ValueError(f"{self.path}: link type {linktype}, expected 127 (802.11 + radiotap)")
        self.offset = 24
        return True

    def skip_to_end(self) -> None:
        """Start reading from the frames that come next."""
        self.read_new()

    def read_new(self) -> list[Frame]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as f:
            if self.offset == 0 and not self._header(f):
                return []
            f.seek(self.offset)
            data = f.read()
        rec = struct.Struct(self.endian + "IIII")
        out, pos = [], 0
        while pos + 16 <= len(data):
            sec, frac, incl, _ = rec.unpack_from(data, pos)
            if pos + 16 + incl > len(data):
                break  # a record still being written
            t = sec + frac / (1e9 if self.nano else 1e6)
            fr = parse_80211(t, data[pos + 16:pos + 16 + incl])
            if fr is not None:
                out.append(fr)
            pos += 16 + incl
        self.offset += pos
        return out


def read_pcap(path: Path) -> list[Frame]:
    return PcapTail(path).read_new()


# --- one handover, both clocks ---------------------------------------------------------------------

@dataclass
class Extraction:
    events: dict[str, float | None]  # ms per phase, daemon clock
    pcap: dict[str, float | None]  # ms per phase, packet clock
    total_ms: float | None  # command -> CTRL-EVENT-CONNECTED (daemon clock)
    marks: dict[str, float | None] = field(default_factory=dict)  # the timestamps behind the phases
    eap_on_air: int = 0  # EAP frames between the station and the target after the (re)association
    eap_codes: list[int] = field(default_factory=list)  # their EAP codes (5/6: ERP Initiate/Finish)
    key_msgs: list[int] = field(default_factory=list)  # 4-way handshake messages seen, in order
    auth_alg: int | None = None  # of the station's authentication frame (0 open system, 2 FT)
    ft_over_ds: bool = False  # started with an FT Action request to the serving AP
    assoc_attempts: int = 0  # (re)association requests (retransmissions under load show here)
    cleartext_data: int = 0  # unprotected non-EAPOL data frames to/from the station (should be 0)
    disagreements: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _ms(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b - a) * 1000, 3)


def _first(lines: list[LogLine], prefix: str, after: float | None, before: float | None = None) -> LogLine | None:
    if after is None:
        return None
    return next((l for l in lines if l.t >= after and (before is None or l.t <= before)
                 and l.text.startswith(prefix)), None)


def _t(x: LogLine | Frame | None) -> float | None:
    return None if x is None else x.t


def events_phases(lines: list[LogLine], target: str, t_cmd: float, t_end: float, arrivals: Sequence[float],
                  ft: bool) -> tuple[dict[str, float | None], float | None, dict[str, float | None]]:
    """Phases from wpa_supplicant's log lines in [t_cmd, t_end]; `arrivals` are the receive times of the
    probe packets at the station (first data = the first one after the connection)."""
    window = [l for l in lines if t_cmd <= l.t <= t_end]
    conn = _first(window, f"CTRL-EVENT-CONNECTED - Connection to {target}", t_cmd)
    end = _t(conn)
    upto = end if end is not None else t_end
    auth = _first(window, f"SME: Trying to authenticate with {target}", t_cmd, upto)
    assoc = _first(window, f"Associated with {target}", t_cmd, upto)
    eap_start = _first(window, "CTRL-EVENT-EAP-STARTED", _t(assoc), upto)
    eap_ok = None
    if eap_start is not None:
        oks = [l for l in window if eap_start.t <= l.t <= upto and l.text.startswith("CTRL-EVENT-EAP-SUCCESS")]
        eap_ok = oks[-1] if oks else None
    keys = _first(window, f"WPA: Key negotiation completed with {target}", _t(assoc), upto)
    # The first probe packet through the target: the first one after the station associated with it (it has
    # left the old channel by then). It may beat the daemon's CTRL-EVENT-CONNECTED line: negative first_data.
    t_data = next((a for a in sorted(arrivals) if a >= _t(assoc)), None) if end is not None and assoc else None
    marks = {"cmd": t_cmd, "auth": _t(auth), "assoc": _t(assoc), "eap_start": _t(eap_start), "eap_ok": _t(eap_ok),
             "keys": _t(keys), "connected": end, "first_data": t_data}
    ph: dict[str, float | None] = dict.fromkeys(PHASES)
    ph["trigger"] = _ms(t_cmd, _t(auth))
    ph["auth_assoc"] = _ms(_t(auth) or t_cmd, _t(assoc))
    ph["eap"] = _ms(_t(eap_start), _t(eap_ok))
    ph["key"] = None if ft else _ms(_t(eap_ok) or _t(assoc), _t(keys))
    ph["first_data"] = _ms(end, t_data)
    return ph, _ms(t_cmd, end), marks


def pcap_phases(frames: list[Frame], sta: str, source: str, target: str, t_cmd: float,
                t_end: float) -> tuple[dict[str, float | None], dict, dict[str, float | None]]:
    """Phases from the frames on the medium (kernel timestamps) in [t_cmd, t_end]."""
    fr = [f for f in frames if t_cmd <= f.t <= t_end]
    start = next((f for f in fr if (f.is_auth and f.ta == sta and f.ra == target)
                  or (f.is_ft_action and f.action == 1 and f.ta == sta and f.ra == source)), None)
    info: dict = {"eap_on_air": 0, "eap_codes": [], "key_msgs": [], "auth_alg": None, "ft_over_ds": False,
                  "assoc_attempts": 0,
                  "cleartext_data": sum(1 for f in fr if f.is_data and not f.protected and sta in (f.ta, f.ra)
                                        and f.ethertype is not None and f.ethertype != 0x888E)}
    ph: dict[str, float | None] = dict.fromkeys(PHASES)
    marks: dict[str, float | None] = {}
    if start is None:
        return ph, info, marks
    info["ft_over_ds"] = start.is_ft_action
    info["auth_alg"] = start.auth_alg
    after = [f for f in fr if f.t >= start.t]
    resp = next((f for f in after if f.is_assoc_resp and f.ta == target and f.ra == sta and f.status == 0), None)
    info["assoc_attempts"] = sum(1 for f in after if f.is_assoc_req and f.ta == sta and f.ra == target
                                 and (resp is None or f.t <= resp.t))
    # A frame tcpdump missed under load (it happens): without the response, auth+assoc is unknown, but the
    # rest still counts from the last (re)association request.
    reqs = [f for f in after if f.is_assoc_req and f.ta == sta and f.ra == target]
    anchor = resp or (reqs[-1] if reqs else None)
    if anchor is None:
        return ph, info, {"start": start.t}
    post = [f for f in after if f.t >= anchor.t]
    pair = [f for f in post if {f.ta, f.ra} == {sta, target}]
    eaps = [f for f in pair if f.eap_code is not None]
    e1 = eaps[0] if eaps else None
    # EAP-Success, or for ERP (RFC 6696) EAP-Finish/Re-auth (code 6)
    e2 = next((f for f in eaps if f.eap_code in (3, 6) and f.ta == target), None)
    keys = [f for f in pair if f.key_msg is not None]
    k4 = next((f for f in keys if f.key_msg == 4 and f.ta == sta and (e2 is None or f.t >= e2.t)), None)
    base = k4 or resp
    data = None if base is None else next(
        (f for f in post if f.is_data and f.protected and f.ta == target and f.ra == sta and f.t > base.t), None)
    end = k4.t if k4 else None
    info["eap_on_air"] = sum(1 for f in eaps if end is None or f.t <= end)
    info["eap_codes"] = [f.eap_code for f in eaps if end is None or f.t <= end]
    info["key_msgs"] = [f.key_msg for f in keys if end is None or f.t <= end]
    ph["auth_assoc"] = _ms(start.t, _t(resp))
    ph["eap"] = _ms(_t(e1), _t(e2))
    ph["key"] = _ms(_t(e2) or _t(resp), _t(k4))
    ph["first_data"] = _ms(_t(base), _t(data))
    marks = {"start": start.t, "assoc_resp": _t(resp), "eap_first": _t(e1), "eap_success": _t(e2), "m4": _t(k4),
             "first_data": _t(data)}
    return ph, info, marks


def disagreements(events: dict[str, float | None], pcap: dict[str, float | None]) -> list[str]:
    out = []
    for p in COMPARED:
        a, b = events.get(p), pcap.get(p)
        if a is None and b is None:
            continue
        if a is None or b is None:
            out.append(f"{p}: only {'pcap' if a is None else 'events'}")
            continue
        diff = abs(a - b)
        if diff > DISAGREE_ABS_MS and diff > DISAGREE_REL * max(abs(a), abs(b)):
            out.append(f"{p}: {a:.1f} vs {b:.1f} ms")
    return out


def extract(lines: list[LogLine], frames: list[Frame], sta: str, source: str, target: str, t_cmd: float,
            t_end: float, arrivals: Sequence[float], ft: bool) -> Extraction:
    """Everything about one handover from `source` to `target`, commanded at wall time `t_cmd` and over
    by `t_end` (the end of its probe stream); `ft`: the AKM is FT (no 4-way handshake)."""
    ev, total, ev_marks = events_phases(lines, target, t_cmd, t_end, arrivals, ft)
    pc, info, pc_marks = pcap_phases(frames, sta, source, target, t_cmd, t_end)
    marks = {f"ev_{k}": v for k, v in ev_marks.items()} | {f"pcap_{k}": v for k, v in pc_marks.items()}
    return Extraction(ev, pc, total, marks, disagreements=disagreements(ev, pc), **info)
