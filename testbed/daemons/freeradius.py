"""FreeRADIUS 3.2 as the AAA server: EAP-TLS and PEAP/MSCHAPv2, configured only from our own conf dir."""
from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

from testbed.daemons.base import Daemon
from testbed.errors import DaemonError
from testbed.pki import Pki
from testbed.render import render_to
from testbed.state import RunState

Method = Literal["TLS", "PEAP"]

# wpa_supplicant 2.10 offers EAP with TLS 1.3 only with phase1="tls_disable_tlsv1_3=0" and FreeRADIUS 3.2.1
# warns that most supplicants lack it; both ends do 1.2 by default, so pin it (1.3 works when asked for).
TLS_VERSION = "1.2"
# Without -X, the only line FreeRADIUS logs once every listener is bound.
READY_LINE = "Ready to process requests"

_DECISION = re.compile(r"^(Access-Accept|Access-Reject) user=(.*) client=(\S*) station=(\S*)$")
# Non-debug log lines: "<date> : Error: <cause>"; the first error of a run is the root cause,
# the later ones only say which section or module gave up because of it.
_ERROR = re.compile(r"^\w{3} \w{3} +\d+ [\d:]+ \d{4} : Error: (.*)$")
_DEBUG_CAUSE = re.compile(r"\[\d+\]: |error|fail|unable|cannot|invalid|unknown|no such", re.I)
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_IDENTITY = re.compile(r"^[A-Za-z0-9_.@+-]+$")


@dataclass(frozen=True)
class Decision:
    """One line of the decisions log."""

    result: str  # "Access-Accept" or "Access-Reject"
    user: str
    client: str  # the RADIUS client (AP) address the request came from
    station: str  # Calling-Station-Id, the supplicant's MAC

    @property
    def accepted(self) -> bool:
        return self.result == "Access-Accept"


def _quote(value: str, *, conf: bool = False) -> str:
    """A single-quoted FreeRADIUS literal (never ${...}/%{...} expanded). The users file unescapes \\ and \',
    but the config parser keeps a backslash literally, so a secret cannot carry one safely."""
    if any(ord(c) < 0x20 or c == "\x7f" for c in value) or (conf and "\\" in value):
        raise ValueError("control characters (and, in secrets, backslashes) are not allowed in FreeRADIUS strings")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _tail(log: Path, offset: int) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def cause_from_log(log: Path, offset: int = 0) -> str | None:
    """Why FreeRADIUS stopped, from the part of its log after `offset`: the first "Error:" line without
    its timestamp (base.log_cause would return the timestamped line, or an error from an earlier run)."""
    lines = _tail(log, offset).splitlines()
    for line in lines:
        if m := _ERROR.match(line):
            return m.group(1).strip()[:200]
    # -X output: no prefix, but it stops at the first error, so the cause opens the unindented tail
    # (indented lines are the config dump, e.g. "softfail = no").
    hits = [ln for ln in lines[-10:] if not ln[:1].isspace() and _DEBUG_CAUSE.search(ln)] or lines[-1:]
    return hits[0].strip()[:200] if hits else None


class FreeRadius(Daemon):
    exe = "freeradius"

    def __init__(self, name: str, conf_dir: Path, *, netns: str | None = None, verbose: bool = False,
                 state: RunState | None = None):
        self.conf_dir = Path(conf_dir).resolve()
        self.run_dir = self.conf_dir / "run"
        self.pid_file = self.run_dir / "freeradius.pid"
        # -X is debug mode: it logs attribute values (keys, MSCHAP data) to stdout, i.e. to our 0600 log.
        # Otherwise "-l stdout" too: errors in radiusd.conf itself come before the log section is read
        # and would go nowhere with a log file configured there.
        argv = ["freeradius", "-X", "-P"] if verbose else ["freeradius", "-f", "-P", "-l", "stdout"]
        super().__init__(name, netns, argv + ["-d", str(self.conf_dir)], self.conf_dir / "radius.log", state)
        self._log_start = 0
        self.verbose = verbose
        self.address, self.auth_port = "0.0.0.0", 1812  # as rendered
        self.acct_port: int | None = None

    @property
    def accept_log(self) -> Path:
        return self.conf_dir / "decisions.log"

    def render(self, clients: Iterable[tuple[str, str, str]], users: Iterable[tuple[str, Method, str | None]],
               pki: Pki, address: str = "0.0.0.0", auth_port: int = 1812, acct_port: int | None = None,
               tls_version: str = TLS_VERSION) -> list[Path]:
        """Write the whole configuration into conf_dir; clients are (name, cidr, secret),
        users are (identity, "TLS"|"PEAP", password or None)."""
        cl = []
        for cname, cidr, secret in clients:
            if not _NAME.match(cname):
                raise ValueError(f"RADIUS client name {cname!r}: use letters, digits, . _ -")
            net = ipaddress.ip_network(cidr, strict=False)
            cl.append({"name": cname, "cidr": str(net), "key": "ipaddr" if net.version == 4 else "ipv6addr",
                       "secret_q": _quote(secret, conf=True)})
        us = []
        for identity, method, password in users:
            if method not in ("TLS", "PEAP") or not _IDENTITY.match(identity):
                raise ValueError(f"user {identity!r}: bad identity or method {method!r}")
            if method == "PEAP" and not password:
                raise ValueError(f"PEAP user {identity!r} needs a password")
            us.append({"identity_q": f'"{identity}"', "method": method, "password_q": _quote(password or "")})
        addr = ipaddress.ip_address(address)
        self.address, self.auth_port, self.acct_port = str(addr), auth_port, acct_port
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.conf_dir.chmod(0o700)
        ctx = dict(conf_dir=self.conf_dir, run_dir=self.run_dir, pid_file=self.pid_file, log=self.log,
                   accept_log=self.accept_log, clients=cl, users=us, pki=pki, tls_version=tls_version,
                   addr_key="ipaddr" if addr.version == 4 else "ipv6addr", address=str(addr),
                   auth_port=auth_port, acct_port=acct_port)
        out = [render_to(f"freeradius/{t}.j2", self.conf_dir / t, **ctx)
               for t in ("radiusd.conf", "clients.conf", "eap.conf", "site-default.conf", "site-inner-tunnel.conf")]
        out.append(render_to("freeradius/users.j2", self.conf_dir / "users", inner=False, **ctx))
        out.append(render_to("freeradius/users.j2", self.conf_dir / "inner_users", inner=True, **ctx))
        return out

    def start(self, timeout: float = 20.0) -> None:  # type: ignore[override]
        if not (self.conf_dir / "radiusd.conf").exists():
            raise DaemonError(self.name, f"no configuration in {self.conf_dir}: call render() first")
        # The log is appended to across restarts: only look for the ready line written after this start.
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        try:
            super().start(lambda: READY_LINE in _tail(self.log, self._log_start), timeout)
        except DaemonError as e:
            if self.proc is not None and self.proc.poll() is not None:
                cause = cause_from_log(self.log, self._log_start) or "no output"
                raise DaemonError(self.name, f"exited with status {self.proc.returncode}: {cause}", self.log) from e
            raise

    def check_alive(self) -> None:
        if self.proc is not None and (code := self.proc.poll()) is not None:
            cause = cause_from_log(self.log, self._log_start) or "no output"
            raise DaemonError(self.name, f"died with status {code}: {cause}", self.log)

    def accepts(self) -> list[Decision]:
        """Every Access-Accept/Access-Reject the server sent, oldest first."""
        try:
            text = self.accept_log.read_text(errors="replace")
        except FileNotFoundError:
            return []
        return [Decision(*m.groups()) for line in text.splitlines() if (m := _DECISION.match(line))]

    def wait_decision(self, user: str, count: int = 1, timeout: float = 10.0) -> Decision:
        """The `count`-th decision about `user`, for callers that do not see the reply (e.g. behind an AP)."""
        deadline = time.monotonic() + timeout
        while True:
            mine = [d for d in self.accepts() if d.user == user]
            if len(mine) >= count:
                return mine[count - 1]
            self.check_alive()
            if time.monotonic() > deadline:
                raise DaemonError(self.name, f"no decision #{count} for {user!r} within {timeout:g} s",
                                  self.accept_log)
            time.sleep(0.05)
