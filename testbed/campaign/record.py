"""One measured handover: the unit every campaign produces and every statistic consumes; the files records
go to (records.jsonl, handovers.csv, written as they come) and the environment they were measured in."""
from __future__ import annotations

import csv
import dataclasses
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

RECORDS = "records.jsonl"
CSV = "handovers.csv"
PARAMS = ["aaa_rtt_ms", "serving_loss"]

# Phases of a handover, in order. A phase a scheme skips (no EAP with PMKSA caching, no 4-way with FT)
# is recorded as None, not as 0.
PHASES = ("trigger", "scan", "auth_assoc", "eap", "key", "first_data")


@dataclass
class HandoverRecord:
    campaign: str
    scheme: str  # module name, e.g. "full_eap_tls", "pmksa_cache", "ft_eap_air", "mih_preauth"
    trial: int
    params: dict[str, float | int | str]  # e.g. {"aaa_rtt_ms": 50, "serving_loss": 0.0}
    source_ap: str
    target_ap: str
    # Phase durations in ms from the two independent clocks:
    phases_events: dict[str, float | None] = field(default_factory=dict)  # daemon events / -t log timestamps
    phases_pcap: dict[str, float | None] = field(default_factory=dict)  # packet timestamps (hwsim0, backhaul)
    total_ms: float | None = None  # handover command -> CTRL-EVENT-CONNECTED
    interruption_ms: float | None = None  # longest gap of the UDP probe stream at the MN
    lost_packets: int | None = None
    eap_on_air: int | None = None  # EAP frames the target association carried (0 for cached/pre-auth)
    ok: bool = True
    error: str = ""
    disagreements: list[str] = field(default_factory=list)  # phases whose two clocks differ by > 5 %
    # --- added by the campaign harness ---
    status: str = "measured"  # measured | failed | unsupported
    warmup: bool = False  # a warm-up handover: kept in the files, left out of the statistics
    network: str = ""  # the network variant (directory with its pcap and logs) the handover ran in
    station: str = ""
    key_mgmt: str = ""  # the station's AKM: WPA-EAP or FT-EAP
    t_cmd: float | None = None  # wall time of the handover command (to find it in the pcap and logs)
    key_msgs: list[int] = field(default_factory=list)  # 4-way handshake messages on the air, in order
    auth_alg: int | None = None  # 802.11 authentication algorithm used (0 open system, 2 FT)
    ft_over_ds: bool = False  # started with an FT Action frame to the serving AP
    assoc_attempts: int | None = None  # (re)association requests sent (retransmissions show here)
    cleartext_data: int | None = None  # unprotected non-EAPOL data frames to/from the station on the air
    aaa_accepts: int | None = None  # Access-Accepts FreeRADIUS sent during the handover
    prep_ms: float | None = None  # the scheme's own signalling before the trigger (e.g. RSN pre-auth)
    prep_hops: dict = field(default_factory=dict)  # MIH pre-auth: where prep_ms went (node_agents/hops.py breakdown)
    probe_sent: int | None = None
    probe_max_send_gap_ms: float | None = None  # the sender's longest pause (not the network's doing)
    notes: str = ""
    # "complete", or "incomplete: why" (frames dropped by the kernel, capture lagging): then the packet clock's
    # phases and counts are left empty rather than computed from a capture with holes
    capture: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict) -> "HandoverRecord":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_first_data_ms(self) -> float | None:
        """Command to the first probe packet after CTRL-EVENT-CONNECTED (daemon clock + receiver)."""
        fd = self.phases_events.get("first_data")
        return None if self.total_ms is None or fd is None else round(self.total_ms + fd, 3)


CSV_BASE = ["campaign", "network", "scheme", "trial", "warmup", "status", "error", "source_ap", "target_ap",
            "station", "key_mgmt", "total_ms", "interruption_ms", "lost_packets", "probe_sent", "eap_on_air",
            "key_msgs", "auth_alg", "ft_over_ds", "assoc_attempts", "cleartext_data", "aaa_accepts", "prep_ms",
            "probe_max_send_gap_ms", "disagreements", "t_cmd", "capture", "notes"]


def csv_columns(param_names: list[str]) -> list[str]:
    cols = CSV_BASE[:4] + param_names + CSV_BASE[4:]
    return cols + [f"ev_{p}_ms" for p in PHASES] + [f"pcap_{p}_ms" for p in PHASES]


def csv_row(r: HandoverRecord, param_names: list[str]) -> dict[str, object]:
    row: dict[str, object] = {k: getattr(r, k) for k in CSV_BASE}
    row.update({k: r.params.get(k, "") for k in param_names})
    row["key_msgs"] = " ".join(map(str, r.key_msgs))
    row["disagreements"] = "; ".join(r.disagreements)
    for p in PHASES:
        row[f"ev_{p}_ms"] = r.phases_events.get(p)
        row[f"pcap_{p}_ms"] = r.phases_pcap.get(p)
    return {k: ("" if v is None else v) for k, v in row.items()}


def environment() -> dict:
    """Where the radios ran: for report.md."""
    def cmd(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    pkgs = {}
    for p in ("hostapd", "wpasupplicant", "freeradius", "tcpdump", "iw"):
        pkgs[p] = cmd("dpkg-query", "-W", "-f", "${Version}", p) or "?"
    cpu = ""
    try:
        cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                    if l.startswith("model name")), "")
    except OSError:
        pass
    in_vm = os.environ.get("MIHSEC_IN_VM") == "1"
    accel = os.environ.get("MIHSEC_ACCEL", "TCG?" if in_vm else "")
    return {
        "kernel": platform.release(),
        "runtime": f"VM ({accel})" if in_vm else "native",
        "cpu": cpu, "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "packages": pkgs,
        "debian": cmd("cat", "/etc/debian_version"),
        "started": time.time(),
    }


@dataclass
class Writers:
    """Append-only record files, flushed after every record (a killed run keeps what it measured)."""
    results: Path
    _jsonl: object = None
    _csv: object = None
    _writer: csv.DictWriter | None = None

    def open(self) -> "Writers":
        new_csv = not (self.results / CSV).exists()
        self._jsonl = open(self.results / RECORDS, "a")
        self._csv = open(self.results / CSV, "a", newline="")
        self._writer = csv.DictWriter(self._csv, fieldnames=csv_columns(PARAMS))
        if new_csv:
            self._writer.writeheader()
        return self

    def write(self, r: HandoverRecord) -> None:
        self._jsonl.write(r.to_json() + "\n")
        self._writer.writerow(csv_row(r, PARAMS))
        for f in (self._jsonl, self._csv):
            f.flush()
            os.fsync(f.fileno())

    def close(self) -> None:
        for f in (self._jsonl, self._csv):
            if f is not None:
                f.close()


def load_records(results: Path) -> list[HandoverRecord]:
    path = results / RECORDS
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                out.append(HandoverRecord.from_dict(json.loads(line)))
            except (ValueError, TypeError):
                continue  # a line cut short by a kill
    return out
