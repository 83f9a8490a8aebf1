"""Campaign files: what to measure, how often, in which order, over which parameters.

    name: quick
    topology: measure-same-ds          # shipped name or path (relative paths: to this file)
    schemes: [full_eap_tls, pmksa_cache, ft_eap_air]
    trials: 5                          # per scheme and parameter point
    warmup: 1                          # unrecorded-in-statistics handovers per scheme first
    seed: 1                            # the random, interleaved order of trials
    sweep: {aaa_rtt_ms: [0, 100], serving_loss: [0]}

Errors name file:line: field: problem, like topology files.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from testbed import REPO_ROOT
from testbed.errors import MihsecError
from testbed.topology import validate_yaml

CAMPAIGNS_DIR = REPO_ROOT / "campaigns"


class CampaignError(MihsecError):
    pass


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _unique(v: list) -> list:
    if len(set(v)) != len(v):
        raise ValueError("values must not repeat")
    return v


class Sweep(_Model):
    aaa_rtt_ms: list[float] = Field([0], min_length=1, description="RTT added between the APs and the AAA server")
    serving_loss: list[float] = Field([0], min_length=1, description="% loss on the serving link's data path")

    @field_validator("aaa_rtt_ms")
    @classmethod
    def _rtt(cls, v: list[float]) -> list[float]:
        if any(x < 0 or x > 5000 for x in v):
            raise ValueError("an RTT must be between 0 and 5000 ms")
        return _unique(v)

    @field_validator("serving_loss")
    @classmethod
    def _loss(cls, v: list[float]) -> list[float]:
        if any(x < 0 or x >= 100 for x in v):
            raise ValueError("a loss must be a percentage in [0, 100)")
        return _unique(v)

    def points(self) -> list[dict[str, float]]:
        return [{"aaa_rtt_ms": r, "serving_loss": l} for r, l in itertools.product(self.aaa_rtt_ms, self.serving_loss)]


class ProbeSettings(_Model):
    rate: float = Field(200, gt=0, le=2000, description="UDP packets per second, correspondent -> station")
    lead_ms: float = Field(200, ge=0, le=5000, description="stream time before the handover command")
    tail_ms: float = Field(200, ge=0, le=5000, description="stream time after the first packet that got through")
    resume_timeout_ms: float = Field(3000, ge=0, le=60000, description="longest wait for the stream to resume")


class Campaign(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    description: str = ""
    topology: str = "measure-same-ds"
    station: str | None = Field(None, description="the mobile node (default: the first station)")
    correspondent: str | None = Field(None, description="probe source (default: the first node of role host)")
    schemes: list[str] = Field(min_length=1)
    trials: int = Field(ge=1, le=10000, description="per scheme and parameter point")
    warmup: int = Field(1, ge=0, le=100, description="handovers per scheme before the measured ones")
    seed: int = 1
    order: Literal["interleaved", "sequential"] = "interleaved"
    sweep: Sweep = Sweep()
    probe: ProbeSettings = ProbeSettings()
    daemon_log: Literal["info", "debug"] = Field(
        "info", description="daemon log level while measuring: debug logging slows hostapd enough under TCG "
                            "that stations retransmit (re)association requests")
    handover_timeout_s: float = Field(30, gt=0, le=600)
    forget_station: bool = Field(
        True, description="the AP a station left drops it at once (hostapd DEAUTHENTICATE tx=0), as after its "
                          "inactivity timeout; false: it keeps it as associated for ap_max_inactivity (300 s)")

    @field_validator("schemes")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        from testbed.campaign.schemes import available

        known = available()
        unknown = [s for s in v if s not in known]
        if unknown:
            raise ValueError(f"unknown scheme(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")
        return _unique(v)

    @model_validator(mode="after")
    def _budget(self) -> "Campaign":
        n = len(self.schemes) * self.trials * len(self.sweep.points())
        if n > 100000:
            raise ValueError(f"{n} handovers is more than any run should try (100000)")
        return self


@dataclass(frozen=True)
class TrialSpec:
    scheme: str
    params: dict[str, float]
    trial: int  # 1-based within (scheme, params); 0 for warm-up handovers
    warmup: bool = False


def schedule(c: Campaign, trials: int | None = None) -> list[TrialSpec]:
    """Every measured handover of the campaign, in run order (warm-ups are added per network)."""
    n = trials if trials is not None else c.trials
    specs = [TrialSpec(s, p, i + 1) for s in c.schemes for p in c.sweep.points() for i in range(n)]
    if c.order == "interleaved":
        random.Random(c.seed).shuffle(specs)
    return specs


def resolve(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.is_file():
        return p
    for cand in (CAMPAIGNS_DIR / p.name, CAMPAIGNS_DIR / f"{p.name}.yaml"):
        if cand.is_file():
            return cand
    shipped = ", ".join(sorted(x.stem for x in CAMPAIGNS_DIR.glob("*.yaml")))
    raise CampaignError(f"unknown campaign {str(name_or_path)!r}: no such file, and no shipped campaign of that "
                        f"name (shipped: {shipped})")


def load(name_or_path: str | Path) -> tuple[Campaign, Path]:
    """The validated campaign and the path of its file."""
    path = resolve(name_or_path)
    c, _ = validate_yaml(path, Campaign, CampaignError, "campaign")
    return c, path


def topology_path(c: Campaign, campaign_file: Path) -> str | Path:
    """A topology named relative to the campaign file, else a shipped one."""
    rel = (campaign_file.parent / c.topology)
    return rel if rel.is_file() else c.topology
