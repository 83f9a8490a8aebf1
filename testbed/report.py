"""Results for people: what each step cost, what the air and the AAA server saw, where the files are."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from testbed import capture
from testbed.scenarios.roam import Step


def summarise(results: Path, steps: list[Step], bring_up: dict[str, float], sta_mac: str,
              accepts: list[object]) -> dict:
    """Join the daemon-event timings with what the hwsim0 capture shows for each association."""
    pcap = results / "hwsim0.pcap"
    air = capture.handovers(capture.read_frames(pcap), sta_mac) if pcap.exists() else []
    # Each step moved to another AP, so the capture holds one handover per step, in order.
    per_step = [asdict(a) if a.bssid == s.bssid else None for s, a in zip(steps, air)]
    per_step += [None] * (len(steps) - len(per_step))
    return {
        "results": str(results),
        "pcap": str(pcap),
        "logs": str(results / "logs"),
        "bring_up_s": {k: round(v, 2) for k, v in bring_up.items()},
        "steps": [dict(asdict(s), air=a) for s, a in zip(steps, per_step)],
        "aaa_decisions": [asdict(a) if hasattr(a, "__dataclass_fields__") else str(a) for a in accepts],
    }


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def print_roam(summary: dict) -> None:
    console = Console(width=max(Console().width, 110))
    t = Table(title="mihsec: connect and roam (durations in ms, from wpa_supplicant events)")
    for col in ("step", "AP", "total", "auth+assoc", "EAP", "4-way HS", "EAP frames on air", "EAPOL-Key msgs"):
        t.add_column(col, justify="right" if col not in ("step", "AP") else "left")
    for s in summary["steps"]:
        air = s["air"] or {}
        t.add_row(s["name"], s["target"], _fmt(s["total_ms"]), _fmt(s["auth_assoc_ms"]), _fmt(s["eap_ms"]),
                  _fmt(s["key_ms"]), str(air.get("eap_frames", "?")),
                  ",".join(map(str, air.get("key_msgs", []))) or "?")
    console.print(t)
    b = summary["bring_up_s"]
    accepts = sum(1 for d in summary["aaa_decisions"] if "Accept" in str(d))
    console.print(f"bring-up {b.get('bring_up', 0):.1f} s (network {b.get('network', 0):.1f} s, daemons "
                  f"{b.get('daemons', 0):.1f} s); FreeRADIUS Access-Accepts: {accepts}")
    console.print(f"logs: {summary['logs']}\npcap: {summary['pcap']}")
