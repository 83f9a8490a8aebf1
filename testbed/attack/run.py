"""Run every attack against the lab's agents with protection on and then off; rows for a table and attacks.json.

accepted = how far the victim's counter moved (the message reached its role); served = the legitimate MN
still got its Get_Information answered right after the attack. Delivery of the attacker's datagrams is
awaited through the victim's drop counter (protection on) or its role counter (off), bounded by 5 s.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from testbed.attack.attacker import ATTACKS, Attack, Attacker
from testbed.attack.lab import Lab


@dataclass
class Row:
    attack: str
    protection: bool
    attempts: int
    accepted: int
    dropped: int
    served: bool


def _until(cond, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cond():
        time.sleep(0.1)


def run_one(lab: Lab, atk: Attacker, attack: Attack) -> Row:
    frames = attack.frames(atk, lab)
    s0 = lab.stats(attack.victim)
    before, drops0 = attack.counter(s0), s0["security"].get("rx_dropped", 0)
    for f in frames:
        atk.send(attack.victim, f)
    want = len(frames)

    def arrived() -> bool:
        s = lab.stats(attack.victim)
        return s["security"].get("rx_dropped", 0) - drops0 + attack.counter(s) - before >= min(want, 1)

    _until(arrived)
    time.sleep(0.5)  # stragglers of a flood
    s1 = lab.stats(attack.victim)
    served = bool(lab.call("mn", {"cmd": "discover"}).get("ok"))
    return Row(attack.name, bool(lab.protection), want, attack.counter(s1) - before,
               s1["security"].get("rx_dropped", 0) - drops0, served)


def run_all(lab: Lab, modes: tuple[bool, ...] = (True, False)) -> list[Row]:
    rows = []
    for protection in modes:
        lab.start_agents(protection)
        if not lab.call("mn", {"cmd": "discover"}).get("ok"):  # the MIH SA (protection on) is up first
            raise RuntimeError("the legitimate MN is not served before any attack")
        atk = Attacker(lab.ns["atk"])
        try:
            rows += [run_one(lab, atk, a) for a in ATTACKS]
        finally:
            atk.close()
            lab.stop_agents()
    return rows


def table(rows: list[Row]) -> str:
    out = ["| attack | protection | attempts | accepted | dropped | legitimate MN served |",
           "|---|---|---|---|---|---|"]
    out += [f"| {r.attack} | {'on' if r.protection else 'off'} | {r.attempts} | {r.accepted} | {r.dropped} | "
            f"{'yes' if r.served else 'NO'} |" for r in rows]
    return "\n".join(out)


def write(rows: list[Row], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "attacks.json").write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    (out / "attacks.md").write_text(table(rows) + "\n")
