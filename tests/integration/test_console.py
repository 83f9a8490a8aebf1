"""`mihsec up TOPOLOGY` without --then: the console, fed commands on stdin as a user would type them."""
from __future__ import annotations

import re
from pathlib import Path

from .conftest import assert_nothing_left, mihsec

COMMANDS = """\
nodes
links
dump
mn ping -c 1 -W 3 cn
py mn.wpa("STATUS").split("wpa_state=")[1].split()[0]
py [a.name for a in net.aps], apb.channel, mn.position
handover mn apb --scheme mih_eap
py mn.status()["bssid"] == apb.bssid
agents
nosuchnode ls
handover mn nowhere
exit
"""


def test_console_drives_a_running_network(results_dir: Path) -> None:
    r = mihsec("up", "two-domain-wlan", "--runtime", "native", "--results", str(results_dir / "up"),
               input=COMMANDS, timeout=900)
    out = r.stdout
    print(out, r.stderr, sep="\n")
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r"two-domain-wlan is up in [\d.]+ s", out)
    assert re.search(r"^mn\s+station$", out, re.M) and re.search(r"^posb\s+pos$", out, re.M)  # nodes
    assert "core:- 10.0.0.1/30 <-> aaa 10.0.0.2/30  (delay_ms 10)" in out  # links
    assert re.search(r"<Station mn: ns=mh\S+-mn .*wlan0:10.1.0.100/24 mac=\S+ COMPLETED bssid=", out)  # dump
    assert "1 packets transmitted, 1 received" in out  # `mn ping cn`: the name became cn's address
    assert re.search(r"^COMPLETED$", out, re.M)  # py, with the node objects in scope
    assert "(['apa', 'apb'], 6, (25.0, 5.0, 0.0))" in out
    row = next(l for l in out.splitlines() if "apa -> apb" in l)  # handover
    assert re.split(r"\s{2,}", row)[2:5][0] == "mih_eap" and re.split(r"\s{2,}", row)[4] == "no", row
    assert re.search(r"^True$", out, re.M)
    assert re.search(r"^posb\s+pos\s+\S+.*ok [\d.]+ ms", out, re.M)  # agents
    assert "unknown command or node 'nosuchnode'" in out
    assert "error: 'nowhere' is not an access point of this network" in out
    assert "stopped: nothing left running" in out
    assert_nothing_left()
