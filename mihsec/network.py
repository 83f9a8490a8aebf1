"""mihsec.Network: describe a testbed in Python with Mininet-WiFi's names, then run it.

    net = Network("demo")
    net.addSecurity("corp", akm="WPA-EAP", eap="TLS", aaa="aaa")
    ...
    with net:                                   # start(); stop() on the way out, whatever happens
        print(sta1.cmd("ping -c 1 10.0.0.10"))
        print(net.handover(sta1, ap2, scheme="full"))

The description is the same validated model as a topology file (testbed.topology.Topology); start()
brings it up as `mihsec up` does (testbed.net.Network with the MIH agents).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mihsec import handover as ho
from mihsec.live import Live
from mihsec.model import Position, Spec, checked, name_of, position
from mihsec.nodes import KINDS, AAA, NAS, AccessPoint, Host, Node, PoS, Router, Station
from testbed import topology as topo
from testbed.campaign.schemes.base import Bench
from testbed.errors import TopologyError
from testbed.plan import Plan, make_plan


class Network:
    def __init__(self, name: str, description: str = "", country: str | None = None, results: str | Path | None = None,
                 verbose: bool = False, agents: bool = True):
        """`results`: where logs and captures go (default results/<name>-<time>); `agents`: run the MIH agents."""
        checked(topo.Topology, "Network()", name=name, description=description, country=country, nodes={"x": {"role": "host"}})
        self._spec = Spec(name, description, country)
        self._live = Live()
        self._nodes: dict[str, Node] = {}
        self._plan: Plan | None = None
        self._benches: dict[str, Bench] = {}
        self.results = Path(results) if results else None
        self.verbose, self.with_agents = verbose, agents

    def __repr__(self) -> str:
        return f"<mihsec.Network {self.name}: {len(self._nodes)} nodes, {'running' if self.running else 'stopped'}>"

    @property
    def name(self) -> str:
        return self._spec.head["name"]

    # --- describing (Mininet-WiFi's add* calls) -------------------------------------------------------

    def addSecurity(self, name: str, aaa: str | Node, akm: str = "WPA-EAP", eap: str = "TLS", rsn_preauth: bool = False,
                    ft: bool = False, ft_over_ds: bool = False, okc: bool = False) -> str:
        """A security profile (WPA2-Enterprise): APs offer it, stations authenticate with it at `aaa`."""
        if name in self._spec.security:
            raise TopologyError(f"addSecurity({name!r}): a profile of that name exists")
        self._spec.security[name] = checked(topo.SecurityProfile, f"addSecurity({name!r})", aaa=name_of(aaa), akm=akm,
                                            eap=eap, rsn_preauth=rsn_preauth, ft=ft, ft_over_ds=ft_over_ds, okc=okc)
        return name

    def addSwitch(self, name: str, stp: bool = False) -> str:
        """An L2 segment (a Linux bridge), e.g. a distribution system."""
        self._spec.claim(name, "addSwitch")
        checked(topo.Topology, f"addSwitch({name!r})", name="x", switches={name: {}}, nodes={"x": {"role": "host"}})
        self._spec.switches[name] = topo.Switch(stp=stp)
        return name

    def addDomain(self, name: str, switch: str, pos: str | Node, description: str = "") -> str:
        """A mobility domain / ESS: its DS switch and its point of service."""
        self._spec.domains[name] = checked(topo.Domain, f"addDomain({name!r})", switch=name_of(switch),
                                           pos=name_of(pos), description=description)
        return name

    def addStation(self, name: str, security: str | None = None, identity: str | None = None, ip: str | None = None,
                   position: Position = None, wlan: str = "wlan0", serving: str | Node | None = None,
                   domain: str | None = None, mih: dict | None = None) -> Station:
        """A wireless station: `security` profile and EAP `identity` for its radio `wlan`, address `ip` (CIDR).
        Without `security` it has no radio (a wired-only station)."""
        wireless = [{"name": wlan, "security": security, "identity": identity, "ip": ip}] if security else []
        return self._add(Station, name, wireless=wireless, position=position, domain=domain, mih=mih,
                         serving=name_of(serving) if serving else None)

    def addAccessPoint(self, name: str, ssid: str, channel: int | str, security: str, position: Position = None,
                       wlan: str = "wlan0", domain: str | None = None, mih: dict | None = None) -> AccessPoint:
        return self._add(AccessPoint, name, position=position, domain=domain, mih=mih,
                         wireless=[{"name": wlan, "ssid": ssid, "channel": channel, "security": security}])

    def addAAA(self, name: str, server: str = "freeradius", position: Position = None, domain: str | None = None) -> AAA:
        """An AAA server (FreeRADIUS) that the security profiles name."""
        return self._add(AAA, name, server=server, position=position, domain=domain)

    def addHost(self, name: str, position: Position = None, domain: str | None = None) -> Host:
        return self._add(Host, name, position=position, domain=domain)

    def addRouter(self, name: str, position: Position = None, domain: str | None = None) -> Router:
        return self._add(Router, name, position=position, domain=domain)

    def addPoS(self, name: str, domain: str | None = None, position: Position = None, mih: dict | None = None) -> PoS:
        """A domain's point of service (IEEE 802.21): authenticator for MIH pre-authentication, information server."""
        return self._add(PoS, name, domain=domain, position=position, mih=mih)

    def addNAS(self, name: str, security: str, domain: str | None = None, position: Position = None) -> NAS:
        """An IEEE 802.1X wired access port: stations linked to it authenticate with `security`."""
        return self._add(NAS, name, security=security, domain=domain, position=position)

    def addLink(self, node: str | Node, other: str | Node, ip: str | None = None, peer_ip: str | None = None,
                intf: str | None = None, delay_ms: float = 0, jitter_ms: float = 0, loss_pct: float = 0,
                rate_mbit: float | None = None, dot1x_identity: str | None = None) -> None:
        """A wired link from `node` to a switch or to another node (`ip` on `node`'s end, `peer_ip` on the
        other node's), impaired by tc netem in both directions. addLink(station, ap) instead makes `ap`
        the station's serving AP, as Mininet-WiFi's addLink(sta, ap) associates it."""
        a, b = name_of(node), name_of(other)
        if isinstance(self._spec.nodes.get(a), topo.Station) and isinstance(self._spec.nodes.get(b), topo.AccessPoint):
            self._spec.nodes[a] = self._spec.nodes[a].model_copy(update={"serving": b})
            return
        end = {"switch": b} if b in self._spec.switches else {"peer": b}
        self._spec.links.append(checked(
            topo.Link, f"addLink({a!r}, {b!r})", node=a, **end, ip=ip, peer_ip=peer_ip, name=intf, delay_ms=delay_ms,
            jitter_ms=jitter_ms, loss_pct=loss_pct, rate_mbit=rate_mbit, dot1x_identity=dot1x_identity))

    def _add(self, kind: type[Node], name: str, **fields: Any) -> Any:
        self._spec.claim(name, f"add {kind.role}")
        fields["position"] = position(fields.get("position"))
        node = checked(topo.Topology, f"{kind.role} {name!r}", name="x", nodes={name: {"role": kind.role, **{
            k: v for k, v in fields.items() if v is not None}}})
        self._spec.nodes[name] = node.nodes[name]
        self._nodes[name] = kind(name, self._spec, self._live)
        return self._nodes[name]

    # --- the model, YAML ---------------------------------------------------------------------------

    def topology(self) -> topo.Topology:
        """The validated model (cross-references checked): what a topology file loads into."""
        return self._spec.topology()

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The topology file for this network (written to `path` when given)."""
        self.topology()
        text = self._spec.to_yaml()
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_yaml(cls, path_or_name: str | Path, **kw: Any) -> "Network":
        """A topology file, or the name of a shipped one (topologies/)."""
        return cls.from_topology(topo.load(path_or_name), **kw)

    @classmethod
    def from_topology(cls, t: topo.Topology, **kw: Any) -> "Network":
        net = cls(t.name, t.description, t.country, **kw)
        net._spec = Spec.of(t)
        net._nodes = {n: KINDS[m.role](n, net._spec, net._live) for n, m in t.nodes.items()}
        return net

    # --- nodes ---------------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Node:
        if name not in self._nodes:
            raise KeyError(f"no node {name!r} (nodes: {', '.join(self._nodes)})")
        return self._nodes[name]

    def __contains__(self, name: str) -> bool:
        return name in self._nodes

    def get(self, name: str) -> Node:
        return self[name]

    @property
    def nodes(self) -> dict[str, Node]:
        return dict(self._nodes)

    @property
    def stations(self) -> list[Station]:
        return [n for n in self._nodes.values() if isinstance(n, Station)]

    @property
    def aps(self) -> list[AccessPoint]:
        return [n for n in self._nodes.values() if isinstance(n, AccessPoint)]

    # --- running -----------------------------------------------------------------------------------

    def build(self) -> Plan:
        """Validate and plan (names, addresses, per-run secrets): nothing is created yet."""
        if self._plan is None:
            self._plan = make_plan(self.topology())
        return self._plan

    def start(self) -> "Network":
        """Bring the network up: namespaces, links, radios, FreeRADIUS, hostapd, wpa_supplicant, MIH agents."""
        if not self.running:
            self._live.start(self.build(), self.results, self.verbose, self.with_agents)
        return self

    def stop(self) -> None:
        """Tear everything down (idempotent)."""
        self._benches.clear()
        self._plan = None  # a new start draws new per-run secrets
        self._live.stop()

    @property
    def running(self) -> bool:
        return self._live.running

    @property
    def testbed(self):
        """The running testbed.net.Network (daemon wrappers, plan, agents), for what this API does not cover."""
        return self._live.require()

    @property
    def results_dir(self) -> Path | None:
        return self._live.results

    def __enter__(self) -> "Network":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def agents(self) -> dict[str, dict]:
        """Each MIH agent's health: role, MIHF ID, reachability of its peers."""
        return {node: a.health() for node, a in self._live.require().agents.items()}

    def handover(self, station: str | Station, target: str | AccessPoint, scheme: str = "full",
                 timeout: float = 60.0) -> ho.HandoverResult:
        """Hand `station` over to the AP `target` by `scheme`: a campaign scheme (full_eap_tls / "full",
        pmksa_cache / "pmksa", okc, rsn_preauth, ft_eap_air, ft_eap_ds, full_peap) or an MIH one done by the
        station's MIH agent (mih_eap, mih_ll_auth, mih: no pre-authentication). Returns its timings."""
        return ho.run(self._live.require(), self._benches, name_of(station), name_of(target), scheme, timeout)

