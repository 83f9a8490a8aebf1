"""Splitting a capture into handovers (pure logic on frames as tshark reports them)."""
from __future__ import annotations

from testbed.capture import Frame, handovers

STA, AP1, AP2 = "02:00:00:00:02:00", "02:00:00:00:00:00", "02:00:00:00:01:00"


def f(n: int, subtype: int | None = None, sa: str = STA, da: str = AP1, bssid: str = AP1, eap: int | None = None,
      eap_type: int | None = None, key: int | None = None) -> Frame:
    return Frame(n, float(n), subtype, sa, da, bssid, None, eap, eap_type, key)


def test_handovers_fold_retries_and_count_per_ap() -> None:
    frames = [
        f(1, 0x00),  # association request to ap1
        f(2, eap=1, sa=AP1, da=STA), f(3, eap=2, eap_type=13), f(4, eap=3, sa=AP1, da=STA),
        f(5, key=1, sa=AP1, da=STA), f(6, key=2), f(7, key=3, sa=AP1, da=STA), f(8, key=4),
        f(9, 0x02, da=AP2, bssid=AP2),  # reassociation to ap2, retried once
        f(10, 0x02, da=AP2, bssid=AP2),
        f(11, key=1, sa=AP2, da=STA, bssid=AP2), f(12, key=2, da=AP2, bssid=AP2),
        f(13, eap=1, sa="02:00:00:00:09:00", da="02:00:00:00:08:00"),  # someone else's EAP: not counted
        f(14, 0x02),  # back to ap1
        f(15, key=1, sa=AP1, da=STA), f(16, key=2), f(17, key=3, sa=AP1, da=STA), f(18, key=4),
    ]
    h = handovers(frames, STA)
    assert [(a.bssid, a.assoc_frame, a.eap_frames, a.eap_tls_frames, a.key_msgs) for a in h] == [
        (AP1, 1, 3, 1, [1, 2, 3, 4]),
        (AP2, 10, 0, 0, [1, 2]),
        (AP1, 14, 0, 0, [1, 2, 3, 4]),
    ]
