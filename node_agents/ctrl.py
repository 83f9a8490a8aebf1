"""Control-interface client for hostapd and wpa_supplicant (their UNIX datagram sockets).

Modelled on hostap's own test harness (wpaspy): one socket for requests, a separate
attached socket for events, and explicit waits for named events.
"""
from __future__ import annotations

import itertools
import os
import select
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from node_agents.errors import DaemonError

_counter = itertools.count()


@dataclass(frozen=True)
class Event:
    """One unsolicited control-interface message, stamped when it arrived."""

    mono: float  # time.monotonic() at receipt: for durations
    wall: float  # time.time() at receipt: to line up with pcap timestamps
    text: str  # without the "<N>" priority prefix

    @property
    def name(self) -> str:
        return self.text.split(" ", 1)[0]


class CtrlSocket:
    """A connected control socket; `request()` sends a command and returns the reply."""

    def __init__(self, path: Path, daemon: str, local_dir: Path | None = None):
        self.path, self.daemon = Path(path), daemon
        local_dir = Path(local_dir or tempfile.gettempdir())
        self.local = local_dir / f"mihsec_ctrl_{os.getpid()}_{next(_counter)}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self.sock.bind(str(self.local))
            self.sock.connect(str(self.path))
        except OSError as e:
            self.close()
            raise DaemonError(daemon, f"control socket {self.path} unreachable: {e.strerror}") from e

    def request(self, cmd: str, timeout: float = 10.0) -> str:
        self.sock.send(cmd.encode())
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise DaemonError(self.daemon, f"no reply to {cmd.split(' ', 1)[0]} within {timeout:g} s")
            try:  # non-blocking: another reader may have taken the datagram select() announced
                reply = self.sock.recv(65536, socket.MSG_DONTWAIT).decode(errors="replace")
            except BlockingIOError:
                continue
            if not reply.startswith("<"):  # skip events if this socket happens to be attached
                return reply

    def close(self) -> None:
        self.sock.close()
        self.local.unlink(missing_ok=True)

    def __enter__(self) -> "CtrlSocket":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventMonitor:
    """An attached control socket whose events a thread records with their arrival time."""

    def __init__(self, path: Path, daemon: str, local_dir: Path | None = None):
        self.daemon = daemon
        self.ctrl = CtrlSocket(path, daemon, local_dir)
        self.events: list[Event] = []
        self._cursor = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        # close() wakes the reader through this pipe at once: a select() timeout would make every
        # close cost up to that timeout (it cost each key push 200 ms, issue 16)
        self._wake_r, self._wake_w = os.pipe()
        if self.ctrl.request("ATTACH").strip() != "OK":
            self.ctrl.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            raise DaemonError(daemon, "ATTACH to control interface refused")
        self._thread = threading.Thread(target=self._reader, name=f"events-{daemon}", daemon=True)
        self._thread.start()

    def _reader(self) -> None:
        sock = self.ctrl.sock
        while not self._stop.is_set():
            try:
                ready = select.select([sock, self._wake_r], [], [])[0]
                if self._wake_r in ready or not ready:
                    continue
                raw = sock.recv(65536).decode(errors="replace")
            except OSError:
                return
            mono, wall = time.monotonic(), time.time()
            text = raw.split(">", 1)[1] if raw.startswith("<") and ">" in raw else raw
            with self._cond:
                self.events.append(Event(mono, wall, text.strip()))
                self._cond.notify_all()

    def mark(self) -> int:
        """Start later waits from now: events that already arrived are not matched."""
        with self._cond:
            self._cursor = len(self.events)
            return self._cursor

    def wait_event(self, names: list[str] | tuple[str, ...], timeout: float = 10.0) -> Event:
        """Return the first event since the cursor whose text starts with one of `names`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(self._cursor, len(self.events)):
                    ev = self.events[i]
                    if any(ev.text.startswith(n) for n in names):
                        self._cursor = i + 1
                        return ev
                self._cursor = len(self.events)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DaemonError(self.daemon, f"timed out after {timeout:g} s waiting for {' or '.join(names)}")
                self._cond.wait(left)

    def since(self, index: int) -> list[Event]:
        with self._cond:
            return list(self.events[index:])

    def close(self) -> None:
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=1)  # first, so the reader cannot swallow the DETACH reply
        os.close(self._wake_r)
        os.close(self._wake_w)
        try:
            self.ctrl.request("DETACH", timeout=1)
        except Exception:  # the daemon may already be gone
            pass
        self.ctrl.close()
