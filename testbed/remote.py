"""Agent deployment on real machines over SSH (paramiko): copy, start, stream the log, stop, fetch.

Host keys are always verified against a known_hosts file (never auto-accepted); credentials come
only from a key file or the SSH agent. Everything put in a remote shell command is shlex-quoted.
"""
from __future__ import annotations

import json
import posixpath
import shlex
import stat
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import paramiko

from testbed.errors import MihsecError

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PACKAGES = (REPO / "node_agents", REPO / "testbed")
# "{config}" and "{dir}" in an argv item are replaced by the remote config path and deploy dir.
DEFAULT_AGENT_CMD = ("python3", "-m", "node_agents.agent", "--config", "{config}")
SKIP = {"__pycache__"}


class RemoteError(MihsecError):
    """A remote host could not be reached, authenticated to, or driven."""


class HostKeyError(RemoteError):
    """The host key the server showed is unknown or differs from known_hosts."""


def fingerprint(key: paramiko.PKey) -> str:
    """SHA256 fingerprint as `ssh-keygen -l` prints it."""
    return key.fingerprint


def _known_name(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


class _Reject(paramiko.MissingHostKeyPolicy):
    """RejectPolicy with a message that says what was seen and how to fix it."""

    def __init__(self, known_hosts: Path, port: int):
        self.known_hosts, self.port = known_hosts, port

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        host = hostname.split("]")[0].lstrip("[")
        raise HostKeyError(
            f"{host} port {self.port}: host key {key.get_name()} {fingerprint(key)} is not in "
            f"{self.known_hosts}; check that fingerprint out of band, then add it with "
            f"`ssh-keyscan -p {self.port} -t {key.get_name()} {host} >> {self.known_hosts}`")


class RemoteHost:
    """One SSH connection to a machine that runs an agent; use as a context manager."""

    def __init__(self, host: str, port: int = 22, user: str = "root", key_file: Path | None = None,
                 known_hosts: Path | None = None, connect_timeout: float = 10.0):
        self.host, self.port, self.user = host, port, user
        self.key_file = Path(key_file).expanduser() if key_file else None
        self.known_hosts = Path(known_hosts or "~/.ssh/known_hosts").expanduser()
        self.connect_timeout = connect_timeout
        self.remote_dir: str | None = None
        self.config_path: str | None = None
        self.log_path: str | None = None
        self.pid: int | None = None
        self._ssh: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def __repr__(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    # -- connection --------------------------------------------------------------------------

    def _credentials(self) -> dict:
        if self.key_file is None:
            if not paramiko.Agent().get_keys():
                raise RemoteError(f"{self}: no key_file given and no key in the SSH agent "
                                  "(SSH_AUTH_SOCK unset or `ssh-add -l` empty)")
            return {"allow_agent": True}
        if not self.key_file.is_file():
            raise RemoteError(f"{self}: key file {self.key_file} does not exist")
        try:
            return {"pkey": paramiko.PKey.from_path(self.key_file), "allow_agent": False}
        except paramiko.PasswordRequiredException:
            raise RemoteError(f"{self}: key file {self.key_file} is passphrase-protected; "
                              f"load it into the SSH agent (`ssh-add {self.key_file}`)") from None
        except (paramiko.SSHException, OSError, ValueError) as e:
            raise RemoteError(f"{self}: cannot read key file {self.key_file}: {e}") from None

    def connect(self) -> RemoteHost:
        creds = self._credentials()
        ssh = paramiko.SSHClient()
        if self.known_hosts.is_file():
            ssh.load_host_keys(str(self.known_hosts))  # only this file: never written back
        ssh.set_missing_host_key_policy(_Reject(self.known_hosts, self.port))
        try:
            ssh.connect(self.host, self.port, username=self.user, look_for_keys=False,
                        timeout=self.connect_timeout, banner_timeout=self.connect_timeout,
                        auth_timeout=self.connect_timeout, **creds)
        except paramiko.BadHostKeyException as e:
            ssh.close()
            name = _known_name(self.host, self.port)
            raise HostKeyError(
                f"{self.host} port {self.port}: HOST KEY MISMATCH: the server showed "
                f"{e.key.get_name()} {fingerprint(e.key)} but {self.known_hosts} has "
                f"{fingerprint(e.expected_key)}; if the host was really reinstalled, remove the old "
                f"entry (`ssh-keygen -R '{name}' -f {self.known_hosts}`) and add the new one with "
                f"`ssh-keyscan -p {self.port} {self.host}` after checking its fingerprint") from None
        except HostKeyError:
            ssh.close()
            raise
        except paramiko.AuthenticationException as e:
            ssh.close()
            how = f"key {self.key_file}" if self.key_file else "SSH agent keys"
            raise RemoteError(f"{self}: authentication failed with {how}: {e}") from None
        except (paramiko.SSHException, OSError) as e:
            ssh.close()
            raise RemoteError(f"{self}: cannot connect: {e}") from None
        self._ssh = ssh
        return self

    def close(self) -> None:
        for c in (self._sftp, self._ssh):
            if c is not None:
                c.close()
        self._sftp = self._ssh = None

    def __enter__(self) -> RemoteHost:
        return self.connect()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def ssh(self) -> paramiko.SSHClient:
        if self._ssh is None:
            raise RemoteError(f"{self}: not connected")
        return self._ssh

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._sftp = self.ssh.open_sftp()
        return self._sftp

    # -- commands ------------------------------------------------------------------------------

    def run(self, cmd: str | Sequence[str], timeout: float = 30.0, check: bool = True) -> tuple[int, str, str]:
        """Run a command (an argv is quoted; a string is passed to the remote shell as is)."""
        line = cmd if isinstance(cmd, str) else shlex.join(cmd)
        try:
            _, out, err = self.ssh.exec_command(line, timeout=timeout)
            o, e = out.read().decode(errors="replace"), err.read().decode(errors="replace")
            rc = out.channel.recv_exit_status()
        except (paramiko.SSHException, OSError) as ex:
            raise RemoteError(f"{self}: `{line[:80]}` failed: {ex}") from None
        if check and rc != 0:
            raise RemoteError(f"{self}: `{line[:80]}` exited {rc}: {e.strip()[-300:]}")
        return rc, o, e

    def _dir(self) -> str:
        if not self.remote_dir:
            raise RemoteError(f"{self}: nothing deployed yet")
        return self.remote_dir

    def _abs(self, path: str) -> str:
        return path if posixpath.isabs(path) else posixpath.join(self._dir(), path)

    # -- deploy --------------------------------------------------------------------------------

    def deploy(self, config: Mapping | str | bytes, remote_dir: str | None = None,
               local_paths: Sequence[Path] = DEFAULT_PACKAGES, config_name: str = "agent.json") -> str:
        """Copy the packages and the config (0600) into remote_dir (a fresh mktemp dir if None).

        Returns the remote config path."""
        if remote_dir is None:
            remote_dir = self.run("mktemp -d /tmp/mihsec-agent.XXXXXX")[1].strip()
        elif not posixpath.isabs(remote_dir):
            raise RemoteError(f"{self}: remote_dir must be absolute, not {remote_dir!r}")
        else:
            self.run(f"mkdir -p -m 700 {shlex.quote(remote_dir)}")
        self.remote_dir = remote_dir
        for p in map(Path, local_paths):
            self._put_tree(p, posixpath.join(remote_dir, p.name))
        data = json.dumps(config, indent=2).encode() if isinstance(config, Mapping) else \
            config.encode() if isinstance(config, str) else config
        self.config_path = posixpath.join(remote_dir, config_name)
        with self.sftp.open(self.config_path, "wb") as f:
            f.chmod(0o600)  # before any byte is written
            f.write(data)
        return self.config_path

    def _put_tree(self, local: Path, remote: str) -> None:
        if local.is_file():
            self.sftp.put(str(local), remote)
            self.sftp.chmod(remote, stat.S_IMODE(local.stat().st_mode))
            return
        if not local.is_dir():
            raise RemoteError(f"{self}: nothing to deploy at {local}")
        try:
            self.sftp.mkdir(remote, 0o755)
        except OSError:  # already there (re-deploy)
            pass
        for child in sorted(local.iterdir()):
            if child.name not in SKIP and child.suffix != ".pyc":
                self._put_tree(child, posixpath.join(remote, child.name))

    # -- run -----------------------------------------------------------------------------------

    def start(self, cmd: Sequence[str] = DEFAULT_AGENT_CMD, log_path: str = "agent.log") -> int:
        """Start cmd in the background in the deploy dir (own session, immune to hangup); returns its PID."""
        d = self._dir()
        argv = [a.replace("{config}", self.config_path or "").replace("{dir}", d) for a in cmd]
        self.log_path, pidfile = self._abs(log_path), posixpath.join(d, "agent.pid")
        q = shlex.quote
        # No job control here, so the background child is no group leader: setsid does not fork
        # and $! is the agent itself (nohup and setsid exec it).
        out = self.run(f"cd {q(d)} && {{ setsid nohup {shlex.join(argv)} >{q(self.log_path)} 2>&1 "
                       f"</dev/null & echo $! >{q(pidfile)}; }} && cat {q(pidfile)}")[1]
        self.pid = int(out.strip())
        return self.pid

    def running(self, pid: int | None = None) -> bool:
        """Whether the process lives (a zombie waiting for its reaper counts as gone)."""
        pid = pid or self.pid
        if pid is None:
            return False
        rc = self.run(f"s=$(cat /proc/{int(pid)}/stat 2>/dev/null) || exit 1; "
                      f'case "${{s##*) }}" in Z*) exit 1;; esac', check=False)[0]
        return rc == 0

    def stream_log(self, log_path: str | None = None, stop: threading.Event | None = None,
                   poll: float = 0.2) -> Iterator[str]:
        """Yield log lines as they are written (tail -F) until `stop` is set or the generator is closed."""
        path = self._abs(log_path) if log_path else self.log_path
        if not path:
            raise RemoteError(f"{self}: no log to stream (start an agent first)")
        chan = self.ssh.get_transport().open_session()
        try:
            chan.get_pty()  # closing the channel hangs up the pty: the remote tail exits
            chan.exec_command(f"exec tail -n +1 -F {shlex.quote(path)}")
            chan.settimeout(poll)
            buf = b""
            while not (stop and stop.is_set()):
                try:
                    chunk = chan.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    yield line.rstrip(b"\r").decode(errors="replace")
        finally:
            chan.close()

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the agent's process group, SIGKILL after timeout; raise if it is still there."""
        if self.pid is None:
            return
        pid = int(self.pid)
        self.run(f"kill -TERM -- -{pid} 2>/dev/null || kill -TERM {pid} 2>/dev/null", check=False)
        deadline = time.monotonic() + timeout
        while self.running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.running(pid):
            self.run(f"kill -KILL -- -{pid} 2>/dev/null || kill -KILL {pid} 2>/dev/null", check=False)
            time.sleep(0.5)
            if self.running(pid):
                raise RemoteError(f"{self}: agent PID {pid} survived SIGKILL")
        self.run(f"rm -f {shlex.quote(posixpath.join(self._dir(), 'agent.pid'))}", check=False)
        self.pid = None

    # -- results -------------------------------------------------------------------------------

    def fetch(self, remote_path: str, local_dir: Path) -> Path:
        """Copy a remote file or directory (relative to the deploy dir) into local_dir."""
        src, local_dir = self._abs(remote_path), Path(local_dir)
        local_dir.mkdir(parents=True, exist_ok=True)
        dst = local_dir / posixpath.basename(src.rstrip("/"))
        try:
            self._get_tree(src, dst)
        except OSError as e:
            raise RemoteError(f"{self}: cannot fetch {src}: {e}") from None
        return dst

    def _get_tree(self, src: str, dst: Path) -> None:
        if stat.S_ISDIR(self.sftp.stat(src).st_mode or 0):
            dst.mkdir(exist_ok=True)
            for name in self.sftp.listdir(src):
                self._get_tree(posixpath.join(src, name), dst / name)
        else:
            self.sftp.get(src, str(dst))

    def cleanup(self) -> None:
        """Stop the agent if it runs and remove the deploy dir."""
        if not self.remote_dir:
            return
        if self.pid is not None:
            self.stop()
        d = posixpath.normpath(self.remote_dir)
        if d.count("/") < 2:  # never "/", "/tmp", "/root"...
            raise RemoteError(f"{self}: refusing to remove {d}")
        self.run(["rm", "-rf", "--", d])
        self.remote_dir = self.config_path = self.log_path = None
