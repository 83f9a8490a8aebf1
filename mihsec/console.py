"""`mihsec up TOPOLOGY` without --then: a console on the running network, as Mininet-WiFi's CLI.

    mihsec> nodes                       mihsec> sta1 ping -c 2 aaa      (node names become their addresses)
    mihsec> handover sta1 ap2 --scheme pmksa
    mihsec> py sta1.wpa("STATUS")       mihsec> exit                    (or Ctrl-D, or Ctrl-C at the prompt)

In VM mode the console runs inside the VM on the user's terminal: the host puts its terminal in raw mode
and hands it to qemu; the guest gives the console a pseudo-terminal of its own, so that readline (history,
completion, line editing) and Ctrl-C work as on a native terminal.
"""
from __future__ import annotations

import argparse
import cmd
import fcntl
import os
import pty
import re
import readline
import shlex
import struct
import sys
import termios
import time
import tty
from pathlib import Path

from mihsec import handover as ho
from mihsec.live import needs_vm
from mihsec.network import Network
from mihsec.nodes import AccessPoint, Station
from testbed import topology as topo
from testbed import vm
from testbed.errors import MihsecError

PTY_ENV, SIZE_ENV = "MIHSEC_CONSOLE_PTY", "MIHSEC_TTY_SIZE"
HISTORY = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "mihsec" / "console_history"


class Console(cmd.Cmd):
    prompt = "mihsec> "
    doc_header = "commands (NODE CMD... runs CMD in NODE's network namespace; `help CMD` for more):"

    def __init__(self, net: Network, stdin=None):
        super().__init__(stdin=stdin)
        self.use_rawinput = stdin is None
        self.net = net
        self.scope = {"net": net, **net.nodes}

    # --- the loop --------------------------------------------------------------------------------

    def precmd(self, line: str) -> str:
        if not self.use_rawinput and line:  # commands read from a pipe: show them, as a terminal would
            print(line.rstrip("\n"))
        return line

    def emptyline(self) -> bool:
        return False  # not cmd.Cmd's "repeat the last command"

    def onecmd(self, line: str) -> bool:
        try:
            return super().onecmd(line)
        except KeyboardInterrupt:
            print("\ninterrupted")
        except MihsecError as e:
            print(f"error: {e}")
        return False

    def default(self, line: str) -> None:
        name, _, rest = line.partition(" ")
        if name not in self.net:
            print(f"unknown command or node {name!r} (try `help` or `nodes`)")
            return
        if not rest.strip():
            print(f"usage: {name} COMMAND... (runs in {name}'s network namespace)")
            return
        ips = {n: node.IP() for n, node in self.net.nodes.items()}
        proc = self.net[name].popen("sh", "-c", with_addresses(rest, ips))
        while True:  # Ctrl-C reaches the command too (same process group): wait for it to end
            try:
                proc.wait()
                return
            except KeyboardInterrupt:
                continue

    # --- commands --------------------------------------------------------------------------------

    def do_nodes(self, arg: str) -> None:
        """nodes: every node with its role."""
        for name, node in self.net.nodes.items():
            print(f"{name:8} {node.role}")

    def do_links(self, arg: str) -> None:
        """links: the wired links (radios are listed by `dump`)."""
        for lk in self.net.topology().links:
            other = lk.switch or lk.peer
            ends = f"{lk.node}:{lk.name or '-'} {lk.ip or ''} <-> {other} {lk.peer_ip or ''}"
            impair = ", ".join(f"{k} {getattr(lk, k):g}" for k in ("delay_ms", "jitter_ms", "loss_pct")
                               if getattr(lk, k))
            print(" ".join(ends.split()) + (f"  ({impair})" if impair else "") + ("  802.1X" if lk.dot1x_identity else ""))

    def do_dump(self, arg: str) -> None:
        """dump: every node with its namespace, addresses, radio state."""
        tb = self.net.testbed
        for name, node in self.net.nodes.items():
            addrs = " ".join(f"{w.ifname}:{w.ip}" for w in tb.plan.wired_of(name) if w.ip)
            extra = ""
            if isinstance(node, Station) and name in tb.stations:
                st = node.status()
                addrs += f" {tb.stations[name].plan.ifname}:{tb.stations[name].plan.ip or '-'}"
                extra = f" mac={node.mac} {st.get('wpa_state')}" + (f" bssid={st['bssid']}" if st.get("bssid") else "")
            elif isinstance(node, AccessPoint):
                stas = [l for l in node.hostapd("STA-FIRST").splitlines()[:1] if l]
                extra = f" bssid={node.bssid} ssid={node.ssid} channel={node.channel}" + \
                    (f" station={stas[0]}" if stas else "")
            print(f"<{type(node).__name__} {name}: ns={node.netns} {addrs.strip()}{extra}>")

    def do_py(self, arg: str) -> None:
        """py EXPR: evaluate Python with net and every node by name in scope, e.g. py sta1.wpa("STATUS")."""
        try:
            code = compile(arg, "<console>", "eval")
        except SyntaxError:
            exec(compile(arg, "<console>", "exec"), self.scope)
            return
        result = eval(code, self.scope)
        if result is not None:
            print(result if isinstance(result, str) else repr(result))

    def do_handover(self, arg: str) -> None:
        """handover STA TARGET [--scheme S]: hand STA over to the AP TARGET (schemes: see `help schemes`)."""
        p = argparse.ArgumentParser(prog="handover", add_help=False, exit_on_error=False)
        p.add_argument("station")
        p.add_argument("target")
        p.add_argument("--scheme", default="full")
        try:
            a = p.parse_args(shlex.split(arg))
        except (argparse.ArgumentError, SystemExit):
            print("usage: handover STA TARGET [--scheme S]")
            return
        print(ho.table([self.net.handover(a.station, a.target, a.scheme)]))

    def help_schemes(self) -> None:
        print("handover schemes:", ", ".join(ho.scheme_names()))

    def do_agents(self, arg: str) -> None:
        """agents: each MIH agent's role, MIHF ID and its peers' reachability."""
        agents = self.net.agents()
        if not agents:
            print("no MIH agents in this network (it has no point of service)")
        for node, h in agents.items():
            peers = ", ".join(f"{p} {'ok %.1f ms' % r['rtt_ms'] if r['ok'] else 'FAILED'}" for p, r in h["peers"].items())
            print(f"{node:8} {h['role']:4} {h['mihf_id']:28} {peers or '(no peers)'}")

    def do_exit(self, arg: str) -> bool:
        """exit: tear the network down and leave (Ctrl-D too)."""
        return True

    do_quit = do_exit

    def do_EOF(self, arg: str) -> bool:
        print()
        return True

    # --- completion ------------------------------------------------------------------------------

    def completenames(self, text: str, *ignored) -> list[str]:
        return super().completenames(text, *ignored) + [n for n in self.net.nodes if n.startswith(text)]

    def completedefault(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        return [n for n in self.net.nodes if n.startswith(text)]

    def complete_handover(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        if line[:begidx].rstrip().endswith("--scheme"):
            return [s for s in ho.scheme_names() if s.startswith(text)]
        return [n for n in self.net.nodes if n.startswith(text)] + (["--scheme"] if "--scheme".startswith(text) else [])


def with_addresses(command: str, ips: dict[str, str | None]) -> str:
    """Node names as words of a command stand for their addresses, as in Mininet's CLI: `sta1 ping aaa`."""
    return re.sub(r"(?<![\w./-])[a-z][a-z0-9]{0,7}(?![\w./-])", lambda m: ips.get(m.group(0)) or m.group(0), command)


def _history(load: bool) -> None:
    try:
        if load:
            readline.read_history_file(HISTORY)
        else:
            HISTORY.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(HISTORY)
    except OSError:
        pass  # no history yet, or a read-only home (the VM's is discarded anyway)


def run_console(t: topo.Topology, results: Path, verbose: bool = False) -> int:
    """Bring `t` up here, run the console until exit, tear down."""
    if size := os.environ.pop(SIZE_ENV, ""):  # the host terminal's size, for the guest's pseudo-terminal
        rows, cols = (int(x) for x in size.split(","))
        fcntl.ioctl(sys.stdin.fileno(), termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    net = Network.from_topology(t, results=results, verbose=verbose)
    print(f"starting {t.name} ({len(net.nodes)} nodes) ...", flush=True)
    t0 = time.monotonic()
    interactive = sys.stdin.isatty()
    with net:
        print(f"{t.name} is up in {time.monotonic() - t0:.1f} s; results in {results}")
        print("commands: nodes, links, dump, NODE CMD..., py EXPR, handover STA AP [--scheme S], agents, exit")
        if interactive:
            _history(load=True)
        try:
            Console(net, stdin=None if interactive else sys.stdin).cmdloop()
        except KeyboardInterrupt:
            print()
        finally:
            if interactive:
                _history(load=False)
            print(f"stopping {t.name} ...", flush=True)
    print("stopped: nothing left running")
    return 0


def up(t: topo.Topology, results: Path, runtime: str, timeout: float, verbose: bool = False) -> int:
    """`mihsec up` without --then: here when this host has radios, else inside the VM on this terminal."""
    if needs_vm(runtime):
        return _in_vm(results, timeout)
    if os.environ.pop(PTY_ENV, "") and not sys.stdin.isatty():  # in the VM, reading the host's terminal
        status = pty.spawn([sys.executable, "-m", "testbed", *sys.argv[1:]])
        return os.waitstatus_to_exitcode(status)
    return run_console(t, results, verbose)


def _in_vm(results: Path, timeout: float) -> int:
    argv = [sys.executable, "-m", "testbed", *[a for a in sys.argv[1:] if not a.startswith("--runtime")],
            "--runtime", "native", "--results", str(results)]
    if not sys.stdin.isatty():  # commands piped in: the guest console reads them line by line
        return vm.run(argv, rwdirs=[results], timeout=timeout, stdin=None)
    size = os.get_terminal_size(sys.stdin.fileno())
    env = {PTY_ENV: "1", SIZE_ENV: f"{size.lines},{size.columns}", "TERM": os.environ.get("TERM", "xterm")}
    print(f"booting the VM for {results.name} (this takes a while under TCG) ...", flush=True)
    saved = termios.tcgetattr(sys.stdin)
    try:  # every key (Ctrl-C, Tab, arrows) goes to the guest's terminal; output keeps its line ends
        tty.setraw(sys.stdin)
        mode = termios.tcgetattr(sys.stdin)
        mode[1] |= termios.OPOST | termios.ONLCR
        termios.tcsetattr(sys.stdin, termios.TCSANOW, mode)
        return vm.run(argv, rwdirs=[results], timeout=timeout, env=env, stdin=None)
    finally:
        termios.tcsetattr(sys.stdin, termios.TCSAFLUSH, saved)
