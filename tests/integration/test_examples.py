"""The examples/ scripts, run as a user runs them (a Python process of their own, real radios), judged
by what they print: which handovers happened, whether EAP ran at the target, whether data flows."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testbed import REPO_ROOT

from .conftest import assert_nothing_left


def run_example(name: str, results: Path) -> str:
    r = subprocess.run([sys.executable, str(REPO_ROOT / "examples" / name)], capture_output=True, text=True,
                       timeout=900, env={**os.environ, "MIHSEC_RESULTS": str(results), "PYTHONUNBUFFERED": "1"})
    print(r.stdout, r.stderr, sep="\n")
    assert r.returncode == 0, r.stderr[-2000:]
    assert_nothing_left()
    return r.stdout


def rows(out: str) -> list[dict[str, str]]:
    """The handover table mihsec.table() prints."""
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("station  "))
    cols = re.split(r"\s{2,}", lines[head])
    out_rows = []
    for line in lines[head + 1:]:
        cells = re.split(r"\s{2,}", line)
        if len(cells) != len(cols):
            break
        out_rows.append(dict(zip(cols, cells)))
    return out_rows


def ran_where(results: Path) -> Path:
    """The run's own directory under the results root, with the logs and the capture copied out."""
    (d,) = [p for p in results.iterdir() if p.is_dir()]
    assert (d / "hwsim0.pcap").stat().st_size > 1000 and list((d / "logs").glob("*.hostapd.log")), d
    assert not (d / "conf").exists() or not os.environ.get("MIHSEC_IN_VM")  # keys stay on the guest's tmpfs
    return d


def test_handover_between_two_aps(results_dir: Path) -> None:
    out = run_example("handover_two_aps.py", results_dir)
    assert re.search(r"sta1: COMPLETED with (\S+) .*ap1 is \1", out), "sta1 must start on ap1"
    assert "sta1 -> aaa: 1 packets transmitted, 1 received" in out
    full, back = rows(out)
    assert (full["handover"], full["scheme"], full["EAP at target"], full["check"]) == \
        ("ap1 -> ap2", "full_eap_tls", "yes", "ok"), full
    assert (back["handover"], back["scheme"], back["EAP at target"], back["check"]) == \
        ("ap2 -> ap1", "pmksa_cache", "no", "ok"), back
    assert float(full["ms"]) > 0 and float(back["ms"]) > 0
    assert re.search(r"after: (\S+) \(ap1 is \1\)", out), "sta1 must end on ap1"
    ran_where(results_dir)


def test_preauthenticated_handover_across_domains(results_dir: Path) -> None:
    out = run_example("preauth_two_domains.py", results_dir)
    assert re.search(r"agent mn: mn ", out) and re.search(r"agent posb: pos ", out)
    control, home, pre = rows(out)
    assert (control["handover"], control["scheme"], control["EAP at target"]) == ("apa -> apb", "mih", "yes"), control
    assert home["handover"] == "apb -> apa", home
    assert (pre["handover"], pre["scheme"], pre["EAP at target"], pre["check"]) == \
        ("apa -> apb", "mih_eap", "no", "ok"), pre
    assert float(pre["pre-auth ms"]) > 0
    assert "mn reaches cn: True" in out
    ran_where(results_dir)


def test_wired_to_wlan_handover(results_dir: Path) -> None:
    out = run_example("wired_to_wlan.py", results_dir)
    assert "mn's 802.1X port: 10.1.0.100/24" in out and "cn over the wire: True" in out
    (r,) = rows(out)
    assert (r["handover"], r["scheme"], r["EAP at target"], r["check"]) == ("nasa -> apb", "mih_eap", "no", "ok"), r
    assert re.search(r"mn on the WLAN: COMPLETED with (\S+) \(apb is \1\)", out)
    assert "cn over the WLAN: True" in out
    ran_where(results_dir)
