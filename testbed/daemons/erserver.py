"""Debian's hostapd as the AAA server of ERP and FILS runs: integrated EAP/RADIUS server with ERP (RFC 6696).

FreeRADIUS 3.2 has no ER server, and ERP needs the full EAP that bootstraps it and the re-authentication
on the same EAP server (the rRK comes from that EAP's EMSK). hostapd with driver=none and
eap_server_erp=1 is both. Its ERP keys live in memory only: a restart or ERP_FLUSH loses them and
stations fall back to full EAP.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Iterable

from testbed.daemons.freeradius import TLS_VERSION, Decision
from testbed.daemons.wpa import _CtrlDaemon
from testbed.errors import DaemonError
from testbed.pki import Pki
from testbed.render import render_to
from testbed.state import RunState

IFNAME = "as-erp"  # no radio; it names the control socket
# The server's own EAP events carry no peer address (it only sees RADIUS)
SUCCESS, FAILURE = "CTRL-EVENT-EAP-SUCCESS", "CTRL-EVENT-EAP-FAILURE"


class ErServer(_CtrlDaemon):
    exe = "hostapd"

    def __init__(self, name: str, conf_dir: Path, log: Path, *, netns: str | None, local_dir: Path,
                 state: RunState | None = None, verbose: bool = False, ctrl_dir: Path | None = None):
        self.conf_dir = Path(conf_dir).resolve()
        # the control socket belongs in the run's state directory: in the VM the results are a 9p share, which
        # refuses UNIX sockets ("attempt to open special file")
        self.ctrl_dir = Path(ctrl_dir) if ctrl_dir else self.conf_dir / "ctrl"
        argv = ["hostapd", "-t", "-dd" if verbose else "-d", str(self.conf_dir / "hostapd-as.conf")]
        super().__init__(name, netns=netns, argv=argv, log=log, ctrl_path=self.ctrl_dir / IFNAME, local_dir=local_dir,
                         state=state)
        self.verbose = verbose
        self.address, self.auth_port = "0.0.0.0", 1812

    def render(self, clients: Iterable[tuple[str, str, str]], identities: Iterable[str], pki: Pki, erp_domain: str,
               auth_port: int = 1812, tls_version: str = TLS_VERSION) -> list[Path]:
        """Clients are (name, cidr, secret) as for FreeRadius.render; identities authenticate with EAP-TLS."""
        cl = []
        for _name, cidr, secret in clients:
            if any(c.isspace() for c in secret) or not secret:
                raise ValueError("a RADIUS secret for hostapd must be non-empty without white space")
            cl.append((str(ipaddress.ip_network(cidr, strict=False)), secret))
        ids = list(identities)
        if bad := [i for i in ids if '"' in i or not i.endswith("@" + erp_domain)]:
            raise ValueError(f"identities {bad} are not of the ERP realm @{erp_domain}: ERP derives the "
                             "realm from the identity")
        self.conf_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.conf_dir.chmod(0o700)
        self.auth_port = auth_port
        ctx = dict(node=self.name, ifname=IFNAME, ctrl_dir=self.ctrl_dir, verbose=self.verbose,
                   clients_file=self.conf_dir / "clients", users_file=self.conf_dir / "eap_user", auth_port=auth_port,
                   pki=pki, tls_version=tls_version, erp_domain=erp_domain, clients=cl, identities=ids)
        return [render_to("erserver/hostapd-as.conf.j2", self.conf_dir / "hostapd-as.conf", **ctx),
                render_to("erserver/clients.j2", self.conf_dir / "clients", **ctx),
                render_to("erserver/eap_user.j2", self.conf_dir / "eap_user", **ctx)]

    def start(self, timeout: float = 20.0) -> None:  # type: ignore[override]
        if not (self.conf_dir / "hostapd-as.conf").exists():
            raise DaemonError(self.name, f"no configuration in {self.conf_dir}: call render() first")
        super().start(timeout)

    def restart(self, timeout: float = 20.0) -> None:
        """Down and up again: RADIUS clients and users as before, every ERP key lost."""
        self.stop()
        self.start(timeout)

    def erp_flush(self) -> None:
        """Forget every ERP key: the next ERP of any peer fails and it falls back to full EAP."""
        self.ok("ERP_FLUSH")

    def accepts(self) -> list[Decision]:
        """Every EAP success (full EAP or ERP; an Access-Accept) and failure since start, oldest first;
        the same shape as FreeRadius.accepts, without the user (hostapd's events do not name it)."""
        if self.mon is None:
            return []
        return [Decision("Access-Accept" if e.name == SUCCESS else "Access-Reject", "", "", "")
                for e in self.mon.since(0) if e.name in (SUCCESS, FAILURE)]
