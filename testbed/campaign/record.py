"""One measured handover: the unit every campaign produces and every statistic consumes."""
from __future__ import annotations

from dataclasses import dataclass, field

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
