"""Node objects of the Python API, as Mininet-WiFi hands them out: described before start, usable after
(`sta.cmd(...)`, `sta.wpa(...)`, `ap.hostapd(...)`)."""
from __future__ import annotations

import subprocess

from pydantic import BaseModel

from mihsec.live import Live
from mihsec.model import Position, Spec, position
from testbed.errors import MihsecError


class Node:
    role = ""

    def __init__(self, name: str, spec: Spec, live: Live):
        self.name, self._spec, self._live = name, spec, live

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def __str__(self) -> str:
        return self.name

    @property
    def model(self) -> BaseModel:
        """This node's entry of the topology (testbed.topology)."""
        return self._spec.nodes[self.name]

    @property
    def position(self) -> tuple[float, float, float] | None:
        return self.model.position

    def setPosition(self, pos: Position) -> None:
        """Before start only: without a wireless medium model, positions do not change what the radios hear."""
        if self._live.running:
            raise MihsecError(f"{self.name}: positions cannot change on a running network yet (no medium model)")
        self._spec.nodes[self.name] = self.model.model_copy(update={"position": position(pos)})

    # --- running network -----------------------------------------------------------------------

    @property
    def netns(self) -> str:
        return self._live.ns(self.name)

    def cmd(self, *args: str, timeout: float | None = 60) -> str:
        """Run a shell command in the node's network namespace; returns its output (stdout and stderr)."""
        return self._live.cmd(self.name, " ".join(args), timeout)

    def popen(self, *args: str, **kw) -> subprocess.Popen:
        """A process in the node's namespace (argv as given, no shell); keywords go to subprocess.Popen."""
        return self._live.popen(self.name, list(args), **kw)

    def IP(self) -> str | None:
        """The node's first address (Mininet's Node.IP())."""
        ip = self._live.require().plan.node_ip(self.name)
        return str(ip.ip) if ip else None


class Station(Node):
    role = "station"

    def wpa(self, command: str, timeout: float = 10.0) -> str:
        """A wpa_supplicant control-interface command (as `wpa_cli raw`), e.g. "STATUS"; returns the reply."""
        return self._sta().wpas.request(command, timeout)

    def status(self) -> dict[str, str]:
        return self._sta().wpas.status()

    @property
    def mac(self) -> str:
        return self._sta().mac

    def _sta(self):
        net = self._live.require()
        if self.name not in net.stations:
            raise MihsecError(f"station {self.name} has no radio")
        return net.stations[self.name]


class AccessPoint(Node):
    role = "ap"

    def hostapd(self, command: str, timeout: float = 10.0) -> str:
        """A hostapd control-interface command (as `hostapd_cli raw`), e.g. "STA-FIRST"; returns the reply."""
        return self._ap().hostapd.request(command, timeout)

    @property
    def bssid(self) -> str:
        return self._ap().bssid

    @property
    def ssid(self) -> str:
        return self.model.wireless[0].ssid

    @property
    def channel(self) -> int:
        return self.model.wireless[0].channel

    def _ap(self):
        return self._live.require().aps[self.name]


class AAA(Node):
    role = "aaa"


class Router(Node):
    role = "router"


class Host(Node):
    role = "host"


class PoS(Node):
    role = "pos"


class NAS(Node):
    role = "nas"


KINDS: dict[str, type[Node]] = {k.role: k for k in (Station, AccessPoint, AAA, Router, Host, PoS, NAS)}
