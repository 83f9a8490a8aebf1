"""EAP Re-authentication Protocol (RFC 6696): where the daemons support it. They do not on Debian 12, and
this scheme says so instead of measuring something else under its name."""
from __future__ import annotations

import glob
import subprocess

from testbed.campaign.schemes.base import Bench, Scheme, SchemeError
from testbed.net import ApNode


def _version(exe: str) -> str:
    try:
        r = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return exe
    text = (r.stdout + r.stderr).strip().splitlines()
    return text[0] if text else exe


class Erp(Scheme):
    name = "erp"
    title = "ERP"
    description = "EAP re-authentication (RFC 6696) with keys from an earlier full EAP, via the AAA server"
    expect_eap = True
    expect_4way = True

    def unsupported(self, bench: Bench) -> str | None:
        reasons = []
        cap = bench.wpas.request("GET_CAPABILITY erp").strip()
        if cap != "ERP":
            reasons.append(f"{_version('wpa_supplicant')} answers {cap!r} to GET_CAPABILITY erp: built without "
                           "CONFIG_ERP, it has no ERP peer")
        if bench.net.aaa and not glob.glob("/usr/lib/freeradius/*erp*"):
            reasons.append("FreeRADIUS 3.2 has no ERP (RFC 6696) server module")
        return "; ".join(reasons) or None

    def prepare(self, bench: Bench, src: ApNode, dst: ApNode) -> float | None:
        raise SchemeError("ERP is supported by these daemons, but this harness has no ERP set-up yet")


SCHEME = Erp()
