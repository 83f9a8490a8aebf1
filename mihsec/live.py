"""A described network brought up for real: testbed.net.Network (namespaces, radios, daemons, MIH agents)
plus where its files go. Scripts run where the radios are (natively, or in the VM by `mihsec run`)."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from testbed import REPO_ROOT
from testbed.errors import MihsecError, SetupError
from testbed.hwsim import hwsim_usable
from testbed.net import Network as TestbedNetwork
from testbed.plan import Plan
from testbed.runtime import needs_vm  # noqa: F401  (re-exported for mihsec.cli and the console)

# `mihsec run` points this at the results directory it shares with the VM
RESULTS_ENV = "MIHSEC_RESULTS"


def results_root() -> Path:
    return Path(os.environ.get(RESULTS_ENV) or REPO_ROOT / "results")


def in_vm() -> bool:
    return os.environ.get("MIHSEC_IN_VM") == "1"


class Live:
    """The running side of one network; `net` is None until start()."""

    def __init__(self) -> None:
        self.net: TestbedNetwork | None = None
        self.results: Path | None = None
        self._work: Path | None = None

    @property
    def running(self) -> bool:
        return self.net is not None

    def require(self) -> TestbedNetwork:
        if self.net is None:
            raise MihsecError("the network is not running: call net.start() first (or use `with net:`)")
        return self.net

    def start(self, plan: Plan, results: Path | None, verbose: bool = False, agents: bool = True) -> TestbedNetwork:
        _unwind_on_sigterm()
        ok, why = hwsim_usable()
        if not ok:
            script = sys.argv[0] if sys.argv[0].endswith(".py") and Path(sys.argv[0]).name != "__main__.py" \
                else "SCRIPT"
            raise SetupError(f"this host has no mac80211_hwsim ({why}): run the script where the radios are, "
                             f"with `mihsec run {script}`")
        name = plan.topology.name
        self.results = results or results_root() / f"{name}-{dt.datetime.now():%Y%m%d-%H%M%S}"
        # In the VM the results directory is 9p: daemons logging there stall per line under TCG (see the
        # campaign runner). The run works on the guest's tmpfs; logs and captures are copied out at stop().
        self._work = Path(tempfile.mkdtemp(prefix=f"mihsec-{name}-")) if in_vm() else None
        self.net = TestbedNetwork(plan, self._work or self.results, verbose=verbose, with_agents=agents)
        try:
            self.net.start()
        except BaseException:
            self.stop()
            raise
        return self.net

    def stop(self) -> None:
        net, self.net = self.net, None
        if net is not None:
            net.stop()
        if self._work is not None and self.results is not None:
            self.results.mkdir(parents=True, exist_ok=True)
            for item in self._work.iterdir():  # not conf/ nor pki/: they hold keys and secrets
                if item.name == "logs" or item.name == "mih":
                    shutil.copytree(item, self.results / item.name, dirs_exist_ok=True)
                elif item.suffix in (".pcap", ".json"):
                    shutil.copy(item, self.results / item.name)
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None

    def ns(self, node: str) -> str:
        return self.require().ns(node)

    def popen(self, node: str, argv: list[str], **kw) -> subprocess.Popen:
        return subprocess.Popen(["ip", "netns", "exec", self.ns(node), *argv], **kw)

    def cmd(self, node: str, command: str, timeout: float | None = 60) -> str:
        """`command` through sh in the node's namespace; stdout and stderr together, as Mininet's cmd()."""
        r = subprocess.run(["ip", "netns", "exec", self.ns(node), "sh", "-c", command], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return r.stdout


def _unwind_on_sigterm() -> None:
    """A script killed with SIGTERM tears its network down as on Ctrl-C (unless it handles SIGTERM itself)."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    main = os.getpid()

    def stop(signum: int, frame: object) -> None:
        if os.getpid() != main:  # a forked helper (pyroute2) must not run the teardown
            os._exit(128 + signum)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
