"""Remote deployment over SSH against a real OpenSSH server in a network namespace (no mocks)."""
from __future__ import annotations

import os
import shutil
import socket
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from testbed.remote import HostKeyError, RemoteError, RemoteHost

SSHD = "/usr/sbin/sshd"
# PR_SET_CHILD_SUBREAPER (36), kept across exec: orphaned agents are reaped by sshd, not PID 1.
SUBREAPER = "import ctypes, os, sys; ctypes.CDLL(None).prctl(36, 1, 0, 0, 0); os.execv(sys.argv[1], sys.argv[1:])"
pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(os.geteuid() != 0 or not Path(SSHD).exists() or not shutil.which("ssh-keygen"),
                                 reason="needs root, openssh-server and ssh-keygen")]

# The "agent": writes a log line and a results line every 0.2 s, from the deployed dir.
AGENT = """
import json, sys, time
node = json.load(open(sys.argv[1]))["node"]
with open("results.txt", "w") as r:
    for i in range(100000):
        print(f"tick {i} node={node}", flush=True)
        r.write(f"{i}\\n"); r.flush()
        time.sleep(0.2)
"""


@dataclass
class Server:
    addr: str
    port: int
    key: Path          # client private key
    known_hosts: Path  # holds the real host key
    host_fp: str       # SHA256:... of the host key as ssh-keygen prints it
    tmp: Path
    netns: str


def sh(*argv: str, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def keygen(path: Path) -> None:
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mihsec-test", "-f", str(path))


def ns_pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def gone(pid: int) -> bool:
    """Not in /proc, or a zombie waiting for its reaper."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def children(pid: int) -> list[int]:
    """Child processes of pid, zombies included."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return kids


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def tails(ns: str) -> list[int]:
    """The remote `tail -F` processes of stream_log."""
    def cmdline(pid: int) -> bytes:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            return b""
    return [p for p in ns_pids(ns) if not gone(p) and cmdline(p).startswith(b"tail")]


@pytest.fixture
def sshd():
    tag = os.getpid() % 100000
    ns, veth = f"mhssh{tag}", f"mhs{tag}"
    host_addr, addr = f"10.250.{tag % 250}.1", f"10.250.{tag % 250}.2"  # a /30 of our own
    tmp = Path(tempfile.mkdtemp(prefix="mihsec-sshtest-"))
    proc: subprocess.Popen | None = None
    try:
        keygen(tmp / "host_ed25519")
        keygen(tmp / "client_ed25519")
        shutil.copy(tmp / "client_ed25519.pub", tmp / "authorized_keys")
        host_pub = (tmp / "host_ed25519.pub").read_text().split()
        (tmp / "known_hosts").write_text(f"{addr} {host_pub[0]} {host_pub[1]}\n")
        fp = sh("ssh-keygen", "-lf", str(tmp / "host_ed25519.pub")).stdout.split()[1]
        (tmp / "sshd_config").write_text(f"""\
ListenAddress {addr}
Port 22
HostKey {tmp}/host_ed25519
PidFile {tmp}/sshd.pid
AuthorizedKeysFile {tmp}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# the key files live under /tmp (world-writable), which StrictModes would refuse
StrictModes no
Subsystem sftp internal-sftp
""")
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", f"{veth}r", "type", "veth", "peer", "name", f"{veth}n")
        sh("ip", "link", "set", f"{veth}n", "netns", ns)
        sh("ip", "addr", "add", f"{host_addr}/30", "dev", f"{veth}r")
        sh("ip", "link", "set", f"{veth}r", "up")
        for cmd in (["addr", "add", f"{addr}/30", "dev", f"{veth}n"], ["link", "set", f"{veth}n", "up"],
                    ["link", "set", "lo", "up"]):
            sh("ip", "-n", ns, *cmd)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        with open(tmp / "sshd.log", "w") as log:  # sshd as child subreaper: it reaps the agents
            proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SUBREAPER,
                                     SSHD, "-D", "-e", "-f", str(tmp / "sshd_config")],
                                    stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((addr, 22), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"sshd did not come up: {(tmp / 'sshd.log').read_text()}")
                time.sleep(0.1)
        yield Server(addr, 22, tmp / "client_ed25519", tmp / "known_hosts", fp, tmp, ns)
    finally:
        for pid in ns_pids(ns):  # agents and tails the tests left behind
            if proc is None or pid != proc.pid:
                kill(pid)
        deadline = time.monotonic() + 3
        while proc and children(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)  # let sshd reap its children (zombies too): the container's PID 1 may not
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for pid in ns_pids(ns):
            kill(pid)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)  # its veth end takes the pair
        subprocess.run(["ip", "link", "del", f"{veth}r"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def remote(s: Server, **kw) -> RemoteHost:
    args = {"key_file": s.key, "known_hosts": s.known_hosts, "connect_timeout": 5.0, **kw}
    return RemoteHost(s.addr, s.port, **args)


def test_deploy_run_stream_fetch_stop_cleanup(sshd: Server, tmp_path: Path) -> None:
    rdir = sshd.tmp / "remote"
    with remote(sshd) as r:
        cfg = r.deploy({"node": "mn1"}, remote_dir=str(rdir))
        assert cfg == str(rdir / "agent.json")
        assert (rdir / "node_agents" / "__init__.py").is_file() and (rdir / "testbed" / "remote.py").is_file()
        assert not list(rdir.rglob("__pycache__"))
        assert (rdir / "agent.json").stat().st_mode & 0o777 == 0o600

        pid = r.start(["python3", "-c", AGENT, "{config}"], log_path="agent.log")
        assert int((rdir / "agent.pid").read_text()) == pid and r.running()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")  # $! is the agent itself
        assert argv[0].endswith(b"python3") and argv[1] == b"-c"

        stop = threading.Event()
        timer = threading.Timer(15, stop.set)  # a hung stream fails the test instead of hanging it
        timer.start()
        lines = []
        for line in r.stream_log(stop=stop):
            lines.append(line)
            assert tails(sshd.netns)
            if len(lines) == 5:
                break
        timer.cancel()
        assert lines == [f"tick {i} node=mn1" for i in range(5)]

        r.stop()
        assert not r.running(pid) and gone(pid)
        time.sleep(0.5)  # the pty hangup has reached the remote tail
        assert tails(sshd.netns) == []

        got = r.fetch("results.txt", tmp_path / "out")
        results = got.read_text().split()
        assert got == tmp_path / "out" / "results.txt" and results[:5] == ["0", "1", "2", "3", "4"]
        r.cleanup()
        assert not rdir.exists()


def test_default_remote_dir_is_fresh_and_private(sshd: Server) -> None:
    with remote(sshd) as r:
        r.deploy("{}", local_paths=[])
        d = Path(r.remote_dir)
        assert d.is_dir() and d.stat().st_mode & 0o777 == 0o700
        r.cleanup()
        assert not d.exists()


def test_wrong_host_key_is_refused(sshd: Server) -> None:
    keygen(sshd.tmp / "other")
    other = (sshd.tmp / "other.pub").read_text().split()
    sshd.known_hosts.write_text(f"{sshd.addr} {other[0]} {other[1]}\n")
    rdir = sshd.tmp / "remote-wrong"
    with pytest.raises(HostKeyError) as e:
        with remote(sshd) as r:
            r.deploy({"node": "x"}, remote_dir=str(rdir))
    msg = str(e.value)
    assert sshd.addr in msg and "port 22" in msg and sshd.host_fp in msg and "MISMATCH" in msg
    assert "ssh-keygen -R" in msg and "ssh-keyscan" in msg
    assert not rdir.exists()


def test_unknown_host_is_refused(sshd: Server) -> None:
    sshd.known_hosts.write_text("")
    with pytest.raises(HostKeyError) as e:
        remote(sshd).connect()
    msg = str(e.value)
    assert sshd.addr in msg and "port 22" in msg and sshd.host_fp in msg and "ssh-keyscan" in msg
    assert str(sshd.known_hosts) in msg


def test_missing_key_file(sshd: Server) -> None:
    with pytest.raises(RemoteError, match="key file .*nope.* does not exist"):
        remote(sshd, key_file=sshd.tmp / "nope").connect()


def test_key_not_authorized(sshd: Server) -> None:
    keygen(sshd.tmp / "stranger")
    with pytest.raises(RemoteError, match="authentication failed"):
        remote(sshd, key_file=sshd.tmp / "stranger").connect()
