"""Topology files: YAML validated into pydantic models, errors naming file:line, field and problem.

Vocabulary follows Mininet-WiFi: stations, access points, hosts, switches, links, positions.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from testbed import TOPOLOGIES_DIR, channels
from testbed.errors import TopologyError
from testbed.medium.schema import MediumSpec, check_mobility
from testbed.medium.schema import semantic_errors as medium_errors

NAME = r"^[a-z][a-z0-9]{0,7}$"  # short: it becomes part of namespace and interface names
IFNAME = r"^[a-z][a-z0-9]{0,7}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo in a key is an error, not a silent default


class SecurityProfile(_Model):
    akm: Literal["WPA-EAP", "FT-EAP"] = "WPA-EAP"
    eap: Literal["TLS", "PEAP"] = "TLS"
    aaa: str = Field(description="name of the AAA node that authenticates this profile")
    rsn_preauth: bool = False
    # IEEE 802.11r: APs offer FT-EAP (besides `akm`) in one mobility domain per ESS; stations may use it.
    ft: bool = False
    ft_over_ds: bool = Field(False, description="FT also over the DS (FT Action frames via the serving AP)")
    okc: bool = Field(False, description="opportunistic key caching (hostapd okc=1, proactive_key_caching=1)")
    # RFC 6696 / IEEE 802.11ai: the APs send EAP-Initiate/Re-auth-Start and offer FILS-SHA256, stations keep
    # ERP keys (the wpa_supplicant built by `make setup`); the AAA node must be a hostapd-erp ER server.
    erp_domain: str | None = Field(None, pattern=r"^[A-Za-z0-9.-]+$",
                                   description="ERP realm: identities must end in @<erp_domain>")


class ApWireless(_Model):
    name: str = Field("wlan0", pattern=IFNAME)
    ssid: str = Field(min_length=1, max_length=32)
    channel: int
    security: str

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, v: int) -> int:
        channels.channel_freq(v)  # raises ValueError naming the valid channels
        return v


class StaWireless(_Model):
    name: str = Field("wlan0", pattern=IFNAME)
    security: str
    identity: str = Field(min_length=1)
    ip: ipaddress.IPv4Interface | None = None


class MihAgent(_Model):
    """The MIH agent a node runs (deployed by the orchestrator); its role defaults from the node's role."""
    role: Literal["mn", "poa", "pos", "is"] | None = None
    mihf_id: str | None = None


class _Node(_Model):
    position: tuple[float, float, float] | None = None
    domain: str | None = Field(None, description="the mobility domain this node belongs to")
    mih: MihAgent | None = None


class Station(_Node):
    role: Literal["station"]
    wireless: list[StaWireless] = []
    serving: str | None = Field(None, description="AP the station associates with at bring-up")
    mobility: dict[str, Any] | None = Field(None, description="{model: <name>, <parameters>} (testbed/medium/mobility.py)")

    @field_validator("mobility")
    @classmethod
    def _mobility(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_mobility(v)


class AccessPoint(_Node):
    role: Literal["ap"]
    wireless: list[ApWireless] = Field(min_length=1, max_length=1)


class AaaServer(_Node):
    role: Literal["aaa"]
    # hostapd-erp: Debian's hostapd as EAP/RADIUS and ERP server (FreeRADIUS has no ERP)
    server: Literal["freeradius", "hostapd-erp"] = "freeradius"


class Router(_Node):
    role: Literal["router"]


class Nas(_Node):
    """An IEEE 802.1X wired access port (hostapd driver=wired) bridging stations to its uplink."""
    role: Literal["nas"]
    security: str


class PointOfService(_Node):
    """A domain's point of service / target authenticator: runs the PoS agent (and the information service)."""
    role: Literal["pos"]


class Host(_Node):
    role: Literal["host"]


Node = Annotated[Union[Station, AccessPoint, AaaServer, Router, Host, Nas, PointOfService],
                 Field(discriminator="role")]


class Domain(_Model):
    """A mobility domain / ESS: its own DS switch and point of service."""
    switch: str
    pos: str = Field(description="the node of role pos that authenticates for this domain")
    description: str = ""


class Switch(_Model):
    """An L2 segment (Linux bridge), e.g. a distribution system."""
    stp: bool = False


class Link(_Model):
    """A wired link from a node to a switch or to another node."""
    node: str
    switch: str | None = None
    peer: str | None = None
    name: str | None = Field(None, pattern=IFNAME, description="interface name on `node`")
    ip: ipaddress.IPv4Interface | None = None
    peer_ip: ipaddress.IPv4Interface | None = None
    # Impairments (tc netem/tbf), applied in both directions: an RTT across the link adds 2 x delay_ms.
    delay_ms: float = Field(0, ge=0, le=10000)
    jitter_ms: float = Field(0, ge=0, le=10000)
    loss_pct: float = Field(0, ge=0, le=100)
    rate_mbit: float | None = Field(None, gt=0)
    dot1x_identity: str | None = Field(None, description="the station authenticates this link with IEEE 802.1X")

    @model_validator(mode="after")
    def _one_end(self) -> "Link":
        if (self.switch is None) == (self.peer is None):
            raise ValueError("a link needs exactly one of `switch` or `peer`")
        if self.peer_ip is not None and self.peer is None:
            raise ValueError("`peer_ip` only makes sense with `peer`")
        return self


class Topology(_Model):
    version: Literal[1, 2] = 1
    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    description: str = ""
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="regulatory domain (needed for 5 GHz)")
    security: dict[str, SecurityProfile] = {}
    switches: dict[Annotated[str, Field(pattern=NAME)], Switch] = {}
    domains: dict[Annotated[str, Field(pattern=NAME)], Domain] = {}
    nodes: dict[Annotated[str, Field(pattern=NAME)], Node]
    links: list[Link] = []
    medium: MediumSpec | None = Field(None, description="a wireless medium: signal from positions (testbed/medium)")
    mih_protection: bool = Field(True, description="MIH security (802.21a-style SAs, protected PDUs) in the "
                                 "agents; false: MIH travels in the clear, as plain 802.21")

    @field_validator("nodes")
    @classmethod
    def _not_empty(cls, v: dict[str, object]) -> dict[str, object]:
        if not v:
            raise ValueError("a topology needs at least one node")
        return v

    def of_role(self, cls: type) -> dict[str, object]:
        return {n: node for n, node in self.nodes.items() if isinstance(node, cls)}


# --- cross-reference checks: each yields (path, problem) ---------------------------------

def _semantic_errors(t: Topology) -> list[tuple[tuple[object, ...], str]]:
    errs: list[tuple[tuple[object, ...], str]] = []
    for name in set(t.nodes) & set(t.switches):
        errs.append((("switches", name), f"name {name!r} is used by a node and a switch"))
    for pname, prof in t.security.items():
        if not isinstance(t.nodes.get(prof.aaa), AaaServer):
            errs.append((("security", pname, "aaa"), f"{prof.aaa!r} is not an AAA node of this topology"))
    for nname, node in t.nodes.items():
        for i, w in enumerate(getattr(node, "wireless", [])):
            if w.security not in t.security:
                errs.append((("nodes", nname, "wireless", i, "security"), f"unknown security profile {w.security!r}"))
            if isinstance(node, AccessPoint) and channels.is_5ghz(w.channel) and t.country is None:
                errs.append((("nodes", nname, "wireless", i, "channel"),
                             f"channel {w.channel} is 5 GHz: set the topology's `country` (in the world regulatory "
                             "domain no AP may start there)"))
    seen_ips: dict[ipaddress.IPv4Address, str] = {}
    ifnames: dict[str, set[str]] = {}

    def claim_ip(ip: ipaddress.IPv4Interface | None, path: tuple[object, ...], owner: str) -> None:
        if ip is None:
            return
        if ip.ip in seen_ips:
            errs.append((path, f"address {ip.ip} is already used by {seen_ips[ip.ip]}"))
        seen_ips[ip.ip] = owner

    for nname, node in t.nodes.items():
        for i, w in enumerate(getattr(node, "wireless", [])):
            ifnames.setdefault(nname, set()).add(w.name)
            claim_ip(getattr(w, "ip", None), ("nodes", nname, "wireless", i, "ip"), f"{nname}/{w.name}")
    for i, link in enumerate(t.links):
        if link.node not in t.nodes:
            errs.append((("links", i, "node"), f"unknown node {link.node!r}"))
        if link.switch is not None and link.switch not in t.switches:
            errs.append((("links", i, "switch"), f"unknown switch {link.switch!r}"))
        if link.peer is not None and link.peer not in t.nodes:
            errs.append((("links", i, "peer"), f"unknown node {link.peer!r}"))
        claim_ip(link.ip, ("links", i, "ip"), f"link {i} ({link.node})")
        claim_ip(link.peer_ip, ("links", i, "peer_ip"), f"link {i} ({link.peer})")
    wired = {l.node for l in t.links} | {l.peer for l in t.links if l.peer}
    for nname, node in t.nodes.items():
        if isinstance(node, (AccessPoint, AaaServer, Nas, PointOfService)) and nname not in wired:
            errs.append((("nodes", nname), f"{node.role} {nname!r} has no wired link (it needs a backhaul)"))
        if isinstance(node, Station) and not node.wireless and nname not in wired:
            errs.append((("nodes", nname), f"station {nname!r} has no serving link (no wireless, no wired link)"))
        if node.domain is not None and node.domain not in t.domains:
            errs.append((("nodes", nname, "domain"), f"unknown domain {node.domain!r}"))
        if isinstance(node, Station) and node.serving is not None and \
                not isinstance(t.nodes.get(node.serving), AccessPoint):
            errs.append((("nodes", nname, "serving"), f"{node.serving!r} is not an access point"))
        if isinstance(node, Nas) and node.security not in t.security:
            errs.append((("nodes", nname, "security"), f"unknown security profile {node.security!r}"))
    for dname, dom in t.domains.items():
        if dom.switch not in t.switches:
            errs.append((("domains", dname, "switch"), f"unknown switch {dom.switch!r}"))
        if not isinstance(t.nodes.get(dom.pos), PointOfService):
            errs.append((("domains", dname, "pos"),
                         f"domain {dname!r} has no authenticator: {dom.pos!r} is not a node of role pos"))
    for i, link in enumerate(t.links):
        if link.dot1x_identity is not None:
            ends = {type(t.nodes.get(link.node)), type(t.nodes.get(link.peer))}
            if ends != {Station, Nas}:
                errs.append((("links", i, "dot1x_identity"), "802.1X needs a link between a station and a nas"))
    errs += _erp_errors(t)
    errs += medium_errors(t.medium, t.nodes)
    ssids = {w.ssid for ap in t.of_role(AccessPoint).values() for w in ap.wireless}
    if any(getattr(n, "wireless", None) for n in t.of_role(Station).values()) and not ssids:
        errs.append((("nodes",), "wireless stations but no access point to connect to"))
    return errs


def _erp_errors(t: Topology) -> list[tuple[tuple[object, ...], str]]:
    """ERP needs a hostapd-erp AAA node with one realm, and identities in that realm."""
    errs: list[tuple[tuple[object, ...], str]] = []
    realms: dict[str, set[str]] = {}
    for pname, prof in t.security.items():
        aaa = t.nodes.get(prof.aaa)
        if prof.erp_domain and isinstance(aaa, AaaServer):
            if aaa.server != "hostapd-erp":
                errs.append((("security", pname, "erp_domain"),
                             f"ERP needs an ER server: AAA node {prof.aaa!r} runs {aaa.server}, not hostapd-erp"))
            realms.setdefault(prof.aaa, set()).add(prof.erp_domain)
    for aname, domains in realms.items():
        if len(domains) > 1:
            errs.append((("nodes", aname), f"one ER server, one ERP realm: profiles give {sorted(domains)}"))
    for nname, node in t.nodes.items():
        for i, w in enumerate(getattr(node, "wireless", [])):
            prof = t.security.get(getattr(w, "security", ""))
            if isinstance(node, Station) and prof and prof.erp_domain and \
                    not w.identity.endswith("@" + prof.erp_domain):
                errs.append((("nodes", nname, "wireless", i, "identity"),
                             f"ERP takes its realm from the identity: {w.identity!r} must end in @{prof.erp_domain}"))
    for aname, node in t.of_role(AaaServer).items():
        if node.server == "hostapd-erp" and aname not in realms:
            errs.append((("nodes", aname, "server"), "a hostapd-erp server needs a security profile with "
                                                     "erp_domain that uses it"))
    return errs


# --- YAML with line numbers ------------------------------------------------------------------

def _line_index(node: yaml.Node, path: tuple[object, ...] = (), out: dict | None = None) -> dict:
    """Map every path (keys and list indices) to the 1-based line where it starts."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)  # a key's own line wins over its value's
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            out[path + (key,)] = k.start_mark.line + 1
            _line_index(v, path + (key,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _line_index(v, path + (i,), out)
    return out


# every node role (pydantic puts the union's tag into error paths), read from the Node union itself
_ROLES = tuple(get_args(m.model_fields["role"].annotation)[0] for m in get_args(get_args(Node)[0]))


def _untag(loc: tuple[object, ...]) -> tuple[object, ...]:
    """Drop pydantic's union tag from nodes.<name>.<role>.<field> paths."""
    if len(loc) > 2 and loc[0] == "nodes" and loc[2] in _ROLES:
        return loc[:2] + loc[3:]
    return loc


def _locate(lines: dict, path: tuple[object, ...]) -> int | None:
    path = _untag(path)
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def resolve(name_or_path: str | Path) -> Path:
    """A path to a file, or the name of a shipped topology (with or without .yaml)."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    for cand in (TOPOLOGIES_DIR / p.name, TOPOLOGIES_DIR / f"{p.name}.yaml"):
        if cand.is_file():
            return cand
    shipped = ", ".join(sorted(x.stem for x in TOPOLOGIES_DIR.glob("*.yaml")))
    raise TopologyError(f"unknown topology {str(name_or_path)!r}: no such file, and no shipped topology of that "
                        f"name (shipped: {shipped})")


def validate_yaml(path: Path, model: type[BaseModel], error: type[Exception], what: str) -> tuple[BaseModel, dict]:
    """Parse and validate a YAML file into `model`; errors as `error("file:line: field: problem")`.
    Returns the model and the path -> line index (for later cross-reference errors)."""
    text = path.read_text()
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{where}: not valid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: a {what} file must be a YAML mapping")
    lines = _line_index(root) if root is not None else {}
    try:
        return model.model_validate(data), lines
    except ValidationError as e:
        raise error(_format(path, lines, [(err["loc"], err["msg"]) for err in e.errors()])) from None


def load(name_or_path: str | Path) -> Topology:
    path = resolve(name_or_path)
    topo, lines = validate_yaml(path, Topology, TopologyError, "topology")
    if errs := _semantic_errors(topo):
        raise TopologyError(_format(path, lines, errs))
    return topo


def validate(data: dict, source: str) -> Topology:
    """A topology given as data (the Python API, mihsec.Network): the same model and checks as a file,
    errors as `source: field: problem`."""
    try:
        topo = Topology.model_validate(data)
    except ValidationError as e:
        raise TopologyError(_format(source, {}, [(err["loc"], err["msg"]) for err in e.errors()])) from None
    if errs := _semantic_errors(topo):
        raise TopologyError(_format(source, {}, errs))
    return topo


def _format(path: Path | str, lines: dict, errs: list[tuple[tuple[object, ...], str]]) -> str:
    parts = []
    for loc, msg in errs:
        line = _locate(lines, tuple(loc))
        field = ".".join(str(p) for p in _untag(tuple(loc))) or "(top)"
        parts.append(f"{path}:{line or '?'}: {field}: {msg}" if lines else f"{path}: {field}: {msg}")
    more = f" (and {len(parts) - 1} more: " + "; ".join(parts[1:]) + ")" if len(parts) > 1 else ""
    return parts[0] + more
