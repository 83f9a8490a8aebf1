"""ERP and FILS in a running network: which wpa_supplicant a station runs, and the ER server of an AAA node.

Stations whose security profile sets `erp_domain` run the wpa_supplicant `make setup` built with CONFIG_ERP
(testbed/wpabuild.py); every other station runs Debian's. An AAA node with `server: hostapd-erp` runs
Debian's hostapd as EAP/RADIUS and ER server (testbed/daemons/erserver.py) in its namespace, so the AAA-RTT
impairment on its link applies to it exactly as to FreeRADIUS.
"""
from __future__ import annotations

from pathlib import Path

from testbed import wpabuild
from testbed.daemons.erserver import ErServer
from testbed.errors import SetupError
from testbed.pki import Pki
from testbed.plan import AaaPlan, Plan, StaPlan
from testbed.state import RunState

DEBIAN_SUPPLICANT = "wpa_supplicant"


def needs_erp(sta: StaPlan) -> bool:
    return any(n.profile.erp_domain for n in sta.networks) or bool(sta.profile.erp_domain)


def supplicant_exe(sta: StaPlan) -> str:
    """The wpa_supplicant binary for this station: the ERP build if one of its networks uses ERP."""
    if not needs_erp(sta):
        return DEBIAN_SUPPLICANT
    exe = wpabuild.installed()
    if exe is None:
        raise SetupError(f"station {sta.node} uses ERP/FILS but no wpa_supplicant with CONFIG_ERP is built for "
                         f"this Debian version under {wpabuild.PREFIX_ROOT} (run `make setup`)")
    return str(exe)


def server_kind(plan: Plan, aaa: AaaPlan) -> str:
    return getattr(plan.topology.nodes[aaa.node], "server", "freeradius")


def erp_domain(plan: Plan, aaa: AaaPlan) -> str:
    domains = {p.erp_domain for p in plan.topology.security.values() if p.aaa == aaa.node and p.erp_domain}
    if len(domains) != 1:  # topology.load() already refuses this
        raise SetupError(f"ER server {aaa.node} needs exactly one ERP realm, its profiles give {sorted(domains)}")
    return domains.pop()


def er_server(plan: Plan, aaa: AaaPlan, conf: Path, logs: Path, pki: Pki, netns: str, state: RunState,
              verbose: bool = False) -> ErServer:
    """The ER server of one AAA node, configured (RADIUS clients and users as FreeRADIUS would get them)."""
    srv = ErServer(f"hostapd-erp {aaa.node}", conf / aaa.node, logs / f"{aaa.node}.hostapd-erp.log", netns=netns,
                   local_dir=state.dir, state=state, verbose=verbose, ctrl_dir=state.dir / "ctrl" / aaa.node)
    srv.render(clients=[(name, f"{ip}/32", plan.radius_secret) for name, ip in aaa.clients],
               identities=[u.identity for u in aaa.users], pki=pki, erp_domain=erp_domain(plan, aaa))
    return srv
