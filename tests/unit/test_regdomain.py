"""Regulatory checks read `iw` output: parsing and verdicts against real iw 5.19 output shapes."""
from __future__ import annotations

import pytest

from testbed import regdomain
from testbed.capture import CaptureStats, completeness
from testbed.errors import SetupError

REG_GET = """global
country DE: DFS-ETSI
	(2400 - 2483 @ 40), (N/A, 20), (N/A)
	(5150 - 5250 @ 80), (N/A, 23), (N/A), NO-OUTDOOR, AUTO-BW

phy#0 (self-managed)
country 00: DFS-UNSET
"""
PHY_INFO = """Wiphy mh1a2b-ap1-wlan0
	Band 1:
		Frequencies:
			* 2412 MHz [1] (20.0 dBm)
			* 2467 MHz [12] (20.0 dBm) (no IR)
			* 2484 MHz [14] (disabled)
	Band 2:
		Frequencies:
			* 5180.0 MHz [36] (20.0 dBm)
			* 5260 MHz [52] (20.0 dBm) (no IR, radar detection)
	Band 4:
		Frequencies:
			* 5955 MHz [1] (disabled)
"""


@pytest.fixture
def iw(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regdomain, "_iw", lambda argv, netns=None: REG_GET if argv[0] == "reg" else PHY_INFO)


def ap(ch: int, freq: int) -> regdomain.ApChannel:
    return regdomain.ApChannel("ap1", "ns", "phy", ch, freq)


def test_global_country_not_a_self_managed_phy(iw: None) -> None:
    assert regdomain.current() == "DE"


def test_channel_flags(iw: None) -> None:
    flags = regdomain.channel_flags("ns", "phy")
    assert flags[2412] == "(20.0 dBm)" and "no IR" in flags[2467] and "disabled" in flags[2484] and 5180 in flags
    assert "disabled" in flags[5955]  # 6 GHz channel 1: hwsim radios have that band too


@pytest.mark.parametrize("ch,freq,why", [(12, 2467, "no IR"), (14, 2484, "disabled"), (52, 5260, "radar detection"),
                                         (149, 5745, "not supported by its radio")])
def test_forbidden_channel_named_with_cause(iw: None, ch: int, freq: int, why: str) -> None:
    with pytest.raises(SetupError, match=rf"ap1: channel {ch} \({freq} MHz\).*{why}"):
        regdomain.check_aps([ap(ch, freq)], "DE")


def test_allowed_channels_pass(iw: None) -> None:
    regdomain.check_aps([ap(1, 2412), ap(36, 5180)], "DE")


def test_country_that_never_applies_names_the_regdb(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(regdomain, "_iw", lambda argv, netns=None: "global\ncountry 00: DFS-UNSET\n")
    monkeypatch.setattr(regdomain, "REGDB", tmp_path / "regulatory.db")
    with pytest.raises(SetupError, match=r"regulatory domain DE .* stays at 00\): .*regulatory\.db is missing "
                                         r"\(Debian package wireless-regdb"):
        regdomain.set_country("DE", timeout=0.2)


def test_capture_completeness() -> None:
    a, b = CaptureStats(10, 10, 0), CaptureStats(20, 25, 5)
    assert completeness(a, CaptureStats(20, 20, 0), True) == "complete"
    assert completeness(a, b, True) == "incomplete: 5 frames dropped by the kernel during the handover"
    assert completeness(a, a, False).startswith("incomplete: the capture had not caught up")
    assert completeness(None, a, True).startswith("incomplete: tcpdump's counters")
