"""What a handover scheme is to the harness, and the bench it works on.

The harness runs every trial the same way:

    src = scheme.source(bench)                  # untimed: connected (right AKM), the serving AP
    dst = bench.other(src)
    prep_ms = scheme.prepare(bench, src, dst)   # untimed: caches, pre-authentication, key pushes ...
    ... probe stream starts, impairments are on ...
    t_cmd = scheme.trigger(bench, src, dst)     # the handover decision: the measured interval starts here
    ... wait for CTRL-EVENT-CONNECTED to dst, for data to resume; extract the phases ...
    problem = scheme.check(extraction)          # did the handover do what the scheme claims?

A scheme says which network it needs (`profile`: SecurityProfile fields on every AP and station, as
deltas from BASE_PROFILE; `agents`: the MIH agents), which AKM the station uses, and what must (not)
be seen on the air. Schemes with the same needs share one running network, interleaved.
"""
from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ClassVar

from testbed.campaign.phases import Extraction
from testbed.errors import DaemonError, MihsecError
from testbed.net import ApNode, Network, StationNode

# Settings every measured network has unless a scheme needs otherwise: the APs offer FT-EAP (over the
# air and over the DS) and OKC besides WPA-EAP, so one running network serves most schemes; a station
# only uses FT or OKC when a scheme sets its AKM / proactive_key_caching. RSN pre-authentication stays off:
# with it, a station pre-authenticates on its own after every scan, which would turn "full EAP" trials
# into cached ones.
BASE_PROFILE: dict[str, object] = {"eap": "TLS", "ft": True, "ft_over_ds": True, "okc": True, "rsn_preauth": False}


class SchemeError(MihsecError):
    """A scheme could not set up or complete its handover: the trial is recorded as failed."""


class Scheme:
    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # for tables and plots
    description: ClassVar[str] = ""  # one sentence for report.md
    profile: ClassVar[dict[str, object]] = {}  # deltas from BASE_PROFILE this scheme's network needs
    agents: ClassVar[bool] = False  # the network must run the MIH agents
    key_mgmt: ClassVar[str] = "WPA-EAP"  # the station's AKM
    proactive_key_caching: ClassVar[bool] = False
    command: ClassVar[str] = "ROAM"  # the wpa_supplicant command that performs the handover
    expect_eap: ClassVar[bool | None] = None  # EAP must (True) / must not (False) run in the handover
    expect_4way: ClassVar[bool | None] = None  # the 4-way handshake must (True) / must not (False) run
    topology: ClassVar[str | None] = None  # a shipped topology this scheme needs instead of the campaign's

    @property
    def ft(self) -> bool:
        return self.key_mgmt.startswith("FT-")

    def network_key(self) -> tuple:
        key = tuple(sorted({**BASE_PROFILE, **self.profile}.items())) + (("agents", self.agents),)
        return key + ((("topology", self.topology),) if self.topology else ())

    def source(self, bench: "Bench") -> ApNode:
        """Untimed: the station connected with this scheme's AKM; returns the serving AP."""
        return bench.ensure(self.key_mgmt, self.proactive_key_caching)

    def unsupported(self, bench: "Bench") -> str | None:
        """Why this scheme cannot run on this bench (asked once per network), or None."""
        return None

    def prepare(self, bench: "Bench", src: ApNode, dst: ApNode) -> float | None:
        """Untimed set-up before the trigger; returns the duration (ms) of the scheme's own signalling
        done here, if any (e.g. a pre-authentication), for the record."""
        bench.scan(dst)
        return None

    def take_hops(self) -> dict:
        """The per-hop breakdown of the last prepare()'s pre-authentication, if it measured one."""
        return {}

    def trigger(self, bench: "Bench", src: ApNode, dst: ApNode) -> float:
        """Start the handover; return the wall time of the decision (the measured interval starts here)."""
        t = time.time()
        reply = bench.wpas.request(f"{self.command} {dst.bssid}").strip()
        if reply != "OK":
            raise SchemeError(f"{self.command} answered {reply!r}")
        return t

    def check(self, bench: "Bench", src: ApNode, dst: ApNode, ex: Extraction) -> str | None:
        """What the air and the daemons saw must be this scheme; returns the problem, or None."""
        eap_ran = bool(ex.eap_on_air) or ex.events.get("eap") is not None
        if self.expect_eap is True and not eap_ran:
            return "no EAP exchange: expected a full EAP authentication"
        if self.expect_eap is False and eap_ran:
            return f"EAP ran ({ex.eap_on_air} EAP frames on the air): the cached/pre-established key was not used"
        # tcpdump drops a frame now and then under load: the daemon's "Key negotiation completed" is a
        # second witness of a 4-way handshake (for FT it also follows the reassociation, so only non-FT)
        four_way = 4 in ex.key_msgs or (not self.ft and ex.events.get("key") is not None)
        if self.expect_4way is True and not four_way:
            return f"no complete 4-way handshake on the air (EAPOL-Key messages {ex.key_msgs})"
        if self.expect_4way is False and ex.key_msgs:
            return f"EAPOL-Key messages {ex.key_msgs} on the air: expected none"
        return None


@dataclass
class Bench:
    """One running network as the schemes see it: the mobile station, the two APs of its ESS."""
    net: Network
    station: str
    rng: random.Random = field(default_factory=random.Random)
    timeout: float = 30.0
    dirty: bool = True  # the station's state is unknown: the next ensure() reconnects from scratch
    forget_on_leave: bool = True  # an AP the station left drops it at once (see forget())
    _conf: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sta: StationNode = self.net.stations[self.station]
        ssid = self.sta.plan.ssid
        # The station's network block for its SSID: one ESS, or (a block without SSID) every ESS it holds
        # credentials for, e.g. two domains; the two APs of the bench are the first two it covers.
        nets = getattr(self.sta.plan, "networks", None) or []
        self.net_id, block = next(((i, n) for i, n in enumerate(nets) if ssid in n.ssids), (0, None))
        ssids = set(block.ssids) if block else {ssid}
        self.pin = block is not None and block.ssid is None  # a block without SSID roams to any ESS: pin
        self.aps: list[ApNode] = [a for a in self.net.aps.values() if a.plan.ssid in ssids]
        if len(self.aps) < 2:
            raise MihsecError(f"a handover campaign needs two APs the station {self.station!r} can use "
                              f"(SSID {' or '.join(sorted(ssids))}), the topology has {len(self.aps)}")
        self.aps = self.aps[:2]
        serving = getattr(self.sta.plan, "serving", None)
        self.home: ApNode = next((a for a in self.aps if a.plan.node == serving), self.aps[0])

    @property
    def wpas(self):
        assert self.sta.wpas is not None
        return self.sta.wpas

    def other(self, ap: ApNode) -> ApNode:
        return self.aps[1] if ap is self.aps[0] else self.aps[0]

    def by_bssid(self, bssid: str | None) -> ApNode | None:
        return next((a for a in self.aps if a.bssid == bssid), None)

    def serving(self) -> ApNode | None:
        st = self.wpas.status()
        return self.by_bssid(st.get("bssid")) if st.get("wpa_state") == "COMPLETED" else None

    # --- station configuration and (re)connection: all untimed -----------------------------------

    def _set(self, name: str, value: str) -> bool:
        if self._conf.get(name) == value:
            return False
        self.wpas.set_network(self.net_id, name, value)
        self._conf[name] = value
        return True

    def ensure(self, key_mgmt: str, proactive_key_caching: bool = False) -> ApNode:
        """Connected to one of the APs with this AKM; reconnects (full EAP, all caches flushed) when the
        AKM changes or the state is unknown. Returns the serving AP."""
        changed = self._set("key_mgmt", key_mgmt)
        self._set("proactive_key_caching", "1" if proactive_key_caching else "0")  # read at association
        cur = None if (changed or self.dirty) else self.serving()
        if cur is None:
            cur = self.reset()
        return cur

    def reset(self, to: ApNode | None = None) -> ApNode:
        """Disconnect, flush every PMKSA cache (station and APs), connect afresh with full EAP."""
        self.disconnect()
        self.wpas.ok("PMKSA_FLUSH")  # only while disconnected: flushing the current PMKSA deauthenticates
        for ap in self.aps:
            self.flush_ap(ap)
        ap = to or self.rng.choice(self.aps)
        self.connect(ap)
        self.dirty = False
        return ap

    def disconnect(self) -> None:
        state = self.wpas.status().get("wpa_state")
        self.wpas.mark()
        self.wpas.ok("DISCONNECT")
        if state not in ("DISCONNECTED", "INACTIVE", "INTERFACE_DISABLED", None):
            try:
                self.wpas.wait_event(["CTRL-EVENT-DISCONNECTED"], 5)
            except DaemonError:
                pass

    def connect(self, ap: ApNode) -> None:
        with self._failing("connect", ap):
            self.wpas.connect(net_id=self.net_id, bssid=ap.bssid, freq=ap.plan.freq, timeout=self.timeout,
                              keep_pin=self.pin)

    def flush_ap(self, ap: ApNode) -> None:
        assert ap.hostapd is not None
        ap.hostapd.ok("PMKSA_FLUSH")

    def scan(self, ap: ApNode) -> None:
        """Scan the target's channel only: ROAM needs a fresh BSS entry; a full scan takes seconds."""
        try:
            self.wpas.find(ap.bssid, ap.plan.freq, timeout=self.timeout)
        except DaemonError as e:
            raise SchemeError(f"{ap.plan.node} ({ap.bssid}) not found by a scan of {ap.plan.freq} MHz") from e

    def pin_scan(self, ap: ApNode) -> None:
        """Move a station whose network block spans several ESSs (see WpaCtrl.pin_scan)."""
        self.wpas.pin_scan(net_id=self.net_id, bssid=ap.bssid, freq=ap.plan.freq)

    def go(self, ap: ApNode) -> None:
        """An untimed pin_scan, waited for."""
        with self._failing("move", ap):
            self.wpas.mark()
            self.pin_scan(ap)
            self.wpas.wait_connected(ap.bssid, self.timeout)

    def roam(self, ap: ApNode, command: str = "ROAM") -> None:
        """An untimed handover (to set up caches)."""
        left = self.serving()
        with self._failing(command, ap):
            self.wpas.roam(bssid=ap.bssid, freq=ap.plan.freq, timeout=self.timeout, command=command)
        if left is not None and left is not ap and self.forget_on_leave:
            self.forget(left)

    def forget(self, ap: ApNode) -> None:
        """Make `ap` drop the station, without sending anything on the air (see HostapdCtrl.drop_sta). A real
        network may clear it sooner (a controller, IAPP) or not; left listed, hostapd sent some of our probe
        packets unencrypted when the station came back during a 4-way handshake or an FT reassociation."""
        assert ap.hostapd is not None
        ap.hostapd.drop_sta(self.sta.mac)

    def drop(self, ap: ApNode) -> None:
        """`ap` forgets the station and has removed its entry (see HostapdCtrl.wait_sta_gone)."""
        assert ap.hostapd is not None
        ap.hostapd.drop_sta(self.sta.mac, wait=True)

    @contextmanager
    def _failing(self, what: str, ap: ApNode) -> Iterator[None]:
        """A move that fails leaves the station in an unknown state: the next ensure() starts afresh."""
        try:
            yield
        except DaemonError as e:
            self.dirty = True
            raise SchemeError(f"{what} to {ap.plan.node}: {e.problem}") from e

    # --- PMKSA caches ------------------------------------------------------------------------------

    def sta_pmkid(self, ap: ApNode) -> str | None:
        """The PMKID the station holds for `ap` (None: no entry)."""
        for line in self.wpas.pmksa():
            f = line.split()
            if len(f) >= 3 and f[1] == ap.bssid:
                return f[2]
        return None

    def ap_pmkid(self, ap: ApNode) -> str | None:
        """The PMKID `ap` holds for the station."""
        assert ap.hostapd is not None
        for line in ap.hostapd.pmksa():
            f = line.split()
            if len(f) >= 3 and f[1] == self.sta.mac:
                return f[2]
        return None

    def cached_both_sides(self, ap: ApNode) -> bool:
        s = self.sta_pmkid(ap)
        return s is not None and s == self.ap_pmkid(ap)
