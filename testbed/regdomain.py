"""The kernel's regulatory domain: the topology's country put in force before any AP starts, and every AP's
channel checked against it, so a forbidden channel is an error naming the channel and the cause instead of
a hostapd that logs AP-DISABLED ("Frequency 5180 (primary) not allowed for AP mode, flags: NO-IR").

The domain is global to the kernel (not per network namespace). cfg80211 reads the country rules from
wireless-regdb's /lib/firmware/regulatory.db: without that file a country request never applies and every
5 GHz channel stays no-IR. Setting the country before hostapd starts also spares hostapd its wait for a
channel-list update (up to 5 s per AP) when its own `country_code` is already in force.
"""
from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from testbed.errors import SetupError

REGDB = Path("/lib/firmware/regulatory.db")
_COUNTRY = re.compile(r"^country (\w\w):", re.M)
# iw phy info: "* 5180 MHz [36] (20.0 dBm) (no IR)", "* 2484 MHz [14] (disabled)"; iw 6 writes "5180.0 MHz"
_FREQ = re.compile(r"^\s*\* (\d+)(?:\.\d+)? MHz \[(\d+)\](.*)$", re.M)
# flags that stop hostapd from starting a plain AP on the channel, with what they mean
_BLOCKING = {"disabled": "disabled", "no IR": "no initiating radiation (no IR)",
             "radar detection": "radar detection (DFS; mihsec does not emulate radar or the 60 s CAC)"}


@dataclass(frozen=True)
class ApChannel:
    node: str
    netns: str
    phy: str
    channel: int
    freq: int


def _iw(argv: list[str], netns: str | None = None) -> str:
    cmd = (["ip", "netns", "exec", netns] if netns else []) + ["iw", *argv]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except FileNotFoundError:
        raise SetupError("`iw` is not installed (Debian package iw; run `make setup`)") from None
    if r.returncode != 0:
        raise SetupError(f"`{' '.join(cmd)}` failed: {r.stderr.strip() or r.returncode}")
    return r.stdout


def current() -> str:
    """The country of the global regulatory domain ("00" is the world domain)."""
    out = _iw(["reg", "get"])
    glob = out.split("global", 1)[1] if "global" in out else out
    m = _COUNTRY.search(glob)
    return m.group(1) if m else "00"


def set_country(country: str, timeout: float = 5.0) -> None:
    """Request `country` and wait until the kernel has applied it (a workqueue does it asynchronously)."""
    if current() == country:
        return
    _iw(["reg", "set", country])
    deadline = time.monotonic() + timeout
    while (now := current()) != country:
        if time.monotonic() > deadline:
            cause = (f"{REGDB} is missing (Debian package wireless-regdb; run `make setup`)" if not REGDB.exists()
                     else "the kernel did not accept it (see dmesg for cfg80211)")
            raise SetupError(f"regulatory domain {country} requested by the topology is not in force (the kernel "
                             f"stays at {now}): {cause}")
        time.sleep(0.05)


def channel_flags(netns: str | None, phy: str) -> dict[int, str]:
    """Frequency (MHz) -> its flags as `iw phy info` prints them. By frequency, not channel number: hwsim
    radios also have a 6 GHz band, whose channel 1 (5955 MHz, disabled) would hide 2.4 GHz channel 1."""
    return {int(freq): rest.strip() for freq, _, rest in _FREQ.findall(_iw(["phy", phy, "info"], netns))}


def check_aps(aps: list[ApChannel], country: str | None) -> None:
    """Raise SetupError naming each AP whose channel the regulatory domain in force forbids for an AP."""
    if problems := _problems(aps, country):
        raise SetupError("; ".join(problems))


def _problems(aps: list[ApChannel], country: str | None) -> list[str]:
    problems = []
    domain = current()
    for ap in aps:
        flags = channel_flags(ap.netns, ap.phy)
        if ap.freq not in flags:
            problems.append(f"{ap.node}: channel {ap.channel} ({ap.freq} MHz) is not supported by its radio")
            continue
        blocking = [why for flag, why in _BLOCKING.items() if flag in flags[ap.freq]]
        if blocking:
            hint = "" if country else "; the topology sets no `country`"
            problems.append(f"{ap.node}: channel {ap.channel} ({ap.freq} MHz) is not allowed for an AP in regulatory "
                            f"domain {domain}: {', '.join(blocking)}{hint}")
    return problems
