"""The medium process: registers with mac80211_hwsim, forwards every frame through the engine, answers a
control socket (JSON lines: move a node, start/stop mobility, counters), logs each frame.

    python -m testbed.medium --config medium.json --control medium.sock --log medium.frames

The control socket exists only once REGISTER succeeded: its answering means "daemons may start".
SIGTERM/SIGINT end it cleanly; closing the netlink socket unregisters (the kernel falls back to its
built-in medium, which is why the orchestrator treats an early exit as fatal).
"""
from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import select
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from testbed.medium import netlink as nl
from testbed.medium.engine import Engine, Outcome, Radio, TxFrame, mac_bytes, mac_str
from testbed.medium.framelog import GROUP, UNKNOWN, FrameLog
from testbed.medium.mobility import Area, Runner, make_mobility
from testbed.medium.propagation import make_model

log = logging.getLogger("medium")
_TXI = struct.Struct("=bBbBbBbB")
_TXF = struct.Struct("=bHbHbHbH")


def radios_from(cfg: dict) -> list[Radio]:
    return [Radio(i, r["node"], mac_bytes(r["mac"]), tuple(r["position"]), r.get("txpower", 14.0),
                  r.get("antennaGain", 5.0), r.get("antennaHeight", 1.0)) for i, r in enumerate(cfg["radios"])]


def engine_from(cfg: dict) -> Engine:
    prop = dict(cfg.get("propagation") or {"model": "logDistance"})
    model = make_model(prop.pop("model"), prop)
    return Engine(radios_from(cfg), model, cfg.get("noise_th", -91.0), cfg.get("seed", 0))


def tx_frame(m: nl.Message) -> TxFrame:
    a = m.attrs
    info = _TXI.unpack(a[nl.ATTR_TX_INFO][:8]) if nl.ATTR_TX_INFO in a else (-1, 0) * 4
    rflags = _TXF.unpack(a[nl.ATTR_TX_INFO_FLAGS][:12]) if len(a.get(nl.ATTR_TX_INFO_FLAGS, b"")) >= 12 else ()
    return TxFrame(a[nl.ATTR_ADDR_TRANSMITTER][:6], a.get(nl.ATTR_FRAME, b""), nl.u32_of(a[nl.ATTR_FLAGS]),
                   nl.u32_of(a[nl.ATTR_FREQ]) if nl.ATTR_FREQ in a else 2412,
                   tuple(zip(info[0::2], info[1::2])), tuple(rflags[1::2]), nl.u64_of(a[nl.ATTR_COOKIE]))


class Server:
    def __init__(self, cfg: dict, control: Path, frames: Path):
        self.cfg, self.control_path = cfg, control
        self.engine = engine_from(cfg)
        self.area = Area(**cfg["area"]) if cfg.get("area") else None
        self.counters: collections.Counter[str] = collections.Counter()
        self.backlog: collections.deque[nl.Message] = collections.deque()
        self.mobility = Runner()
        self.running = True
        self.flog = FrameLog(frames, [{"index": r.index, "node": r.node, "mac": mac_str(r.mac),
                                       "id": mac_str(r.rid)} for r in self.engine.radios])
        self.nl = nl.HwsimSocket()
        self.ctl: socket.socket | None = None
        self.started = (time.time(), time.monotonic())

    # --- netlink side --------------------------------------------------------------------------

    def start(self) -> None:
        self.nl.register()
        self.nl.sock.settimeout(1.0)  # never block forever waiting for the kernel's answer to a delivery
        self.control_path.unlink(missing_ok=True)
        self.ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ctl.bind(str(self.control_path))
        os.chmod(self.control_path, 0o600)
        self.ctl.listen(8)
        log.info("registered with mac80211_hwsim; %d radios, model %s", len(self.engine.radios),
                 type(self.engine.model).__name__)

    def handle(self, m: nl.Message) -> None:
        if m.type != self.nl.family:
            return  # acks and errors of deliveries nobody waits for
        if m.cmd == nl.CMD_FRAME:
            self.forward(tx_frame(m))
        elif m.cmd == nl.CMD_ADD_MAC_ADDR:
            self.engine.learn(m.attrs[nl.ATTR_ADDR_TRANSMITTER][:6], m.attrs[nl.ATTR_ADDR_RECEIVER][:6])

    def forward(self, f: TxFrame) -> None:
        t_real, t_mono = time.clock_gettime(time.CLOCK_REALTIME), time.clock_gettime(time.CLOCK_MONOTONIC)
        out = self.engine.transmit(f)
        c = self.counters
        c["frames"] += 1
        fam, msgs = self.nl.family, []
        for d in out.deliveries:
            msgs.append(nl.message(fam, nl.CMD_FRAME, self._rx_attrs(d.radio.rid, f, d.rate, d.signal)))
        seq = 0
        if out.addressee is not None:
            seq = self.nl.next_seq()
            d = out.addressee
            msgs.append(nl.message(fam, nl.CMD_FRAME, self._rx_attrs(d.radio.rid, f, d.rate, d.signal),
                                   nl.NLM_F_REQUEST | nl.NLM_F_ACK, seq))
        if msgs:
            self.nl.send(b"".join(msgs))
        acked, tries = out.acked, out.tries
        if seq and self._kernel_error(seq):  # addressee not on that channel (or gone): nothing was received
            c["rejected"] += 1
            acked, tries, out.addressee = False, out.tries_failed, None
        delivered = len(out.deliveries) + (out.addressee is not None)
        c["delivered"] += delivered
        if out.tx is None:
            c["unknown_tx"] += 1
        elif f.group:
            c["group"] += 1
        else:
            c["acked" if acked else "unacked"] += 1
        flags = f.flags | (nl.TX_STAT_ACK if acked else 0)
        txi = _TXI.pack(*[v for pair in tries for v in pair])
        self.nl.send(nl.message(fam, nl.CMD_TX_INFO_FRAME,
                                nl.attr(nl.ATTR_ADDR_TRANSMITTER, f.transmitter) + nl.u32(nl.ATTR_FLAGS, flags)
                                + nl.u64(nl.ATTR_COOKIE, f.cookie) + nl.u32(nl.ATTR_SIGNAL, out.ack_signal)
                                + nl.attr(nl.ATTR_TX_INFO, txi)))
        self._log(t_real, t_mono, f, out, acked, tries, delivered)
        c["busy_us"] += int((time.clock_gettime(time.CLOCK_MONOTONIC) - t_mono) * 1e6)

    def _rx_attrs(self, rid: bytes, f: TxFrame, rate: int, signal_dbm: int) -> bytes:
        return (nl.attr(nl.ATTR_ADDR_RECEIVER, rid) + nl.attr(nl.ATTR_FRAME, f.frame)
                + nl.u32(nl.ATTR_RX_RATE, max(rate, 0)) + nl.u32(nl.ATTR_SIGNAL, max(-128, min(127, signal_dbm)))
                + nl.u32(nl.ATTR_FREQ, f.freq))

    def _kernel_error(self, seq: int) -> bool:
        """Read until the kernel's answer to our delivery `seq` (queued before send() returned); frames that
        arrive meanwhile wait in the backlog."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                msgs = self.nl.recv()
            except TimeoutError:
                break
            for i, m in enumerate(msgs):
                if m.type == nl.NLMSG_ERROR and m.seq == seq:
                    self.backlog.extend(msgs[i + 1:])
                    return m.error != 0
                if m.type == self.nl.family:
                    self.backlog.append(m)
        self.counters["ack_timeouts"] += 1
        return True

    def _log(self, t_real: float, t_mono: float, f: TxFrame, out: Outcome, acked: bool,
             tries: tuple[tuple[int, int], ...], delivered: int) -> None:
        fr = f.frame
        fc = int.from_bytes(fr[0:2], "little") if len(fr) >= 2 else 0
        seqc = int.from_bytes(fr[22:24], "little") if len(fr) >= 24 else 0
        rx = GROUP if f.group else (self.engine.by_mac[f.addr1].index if f.addr1 in self.engine.by_mac else UNKNOWN)
        used = [(i, n) for i, n in tries if i >= 0 and n > 0]
        sig = -128 if out.signal is None else max(-128, min(127, round(out.signal)))
        self.flog.write(t_real, t_mono, out.tx.index if out.tx else UNKNOWN, rx, f.freq, fc, seqc,
                        min(len(fr), 65535), sig, used[-1][0] if used and (acked or delivered) else -1,
                        min(sum(n for _, n in used), 255), acked, min(delivered, 255))

    # --- control side --------------------------------------------------------------------------

    def control(self, req: dict) -> dict:
        cmd = req.get("cmd")
        if cmd == "health":
            return {"ok": True, "registered": True, "radios": len(self.engine.radios)}
        if cmd == "move":
            node, pos = req["node"], tuple(float(v) for v in req["position"])
            if node not in self.engine.by_node or len(pos) != 3:
                return {"ok": False, "error": f"unknown node {node!r} or bad position"}
            self.engine.move(node, pos)  # type: ignore[arg-type]
            return {"ok": True}
        if cmd == "positions":
            return {"ok": True, "positions": {r.node: list(r.position) for r in self.engine.radios}}
        if cmd == "signal":
            a, b = self.engine.by_node[req["tx"]], self.engine.by_node[req["rx"]]
            return {"ok": True, "signal": self.engine.signal(a, b, int(req.get("freq", 2412)))}
        if cmd == "stats":
            self.flog.flush()
            return {"ok": True, "counters": dict(self.counters), "since_realtime": self.started[0]}
        if cmd == "mobility":
            return self._mobility(req.get("action", "start"))
        return {"ok": False, "error": f"unknown command {cmd!r}"}

    def _mobility(self, action: str) -> dict:
        if action == "stop":
            self.mobility.stop()
            return {"ok": True}
        now = time.monotonic()
        for r, spec in zip(self.engine.radios, self.cfg["radios"]):
            if spec.get("mobility"):
                self.mobility.start(r.node, make_mobility(spec["mobility"]), r.position, self.area, now)
        return {"ok": True, "moving": sorted(self.mobility.moving)}

    def _serve(self) -> None:
        assert self.ctl is not None
        conn, _ = self.ctl.accept()
        with conn:
            conn.settimeout(2)
            buf = b""
            try:
                while not buf.endswith(b"\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                try:
                    reply = self.control(json.loads(buf))
                except (ValueError, KeyError, TypeError) as e:
                    reply = {"ok": False, "error": f"bad request: {e}"}
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError as e:
                log.warning("control client: %s", e)

    def run(self) -> None:
        assert self.ctl is not None
        last_flush = time.monotonic()
        while self.running:
            while self.backlog:
                self.handle(self.backlog.popleft())
            due = self.mobility.due()
            timeout = 0.5 if due is None else max(0.0, min(0.5, due - time.monotonic()))
            try:
                ready = select.select([self.nl, self.ctl], [], [], timeout)[0]
            except InterruptedError:
                continue
            if self.nl in ready:
                for m in self.nl.recv():
                    self.handle(m)
            if self.ctl in ready:
                self._serve()
            for node, pos in self.mobility.tick(time.monotonic()):
                self.engine.move(node, pos)
            if time.monotonic() - last_flush > 0.5:
                self.flog.flush()
                last_flush = time.monotonic()

    def close(self) -> None:
        self.nl.close()  # unregisters
        self.flog.close()
        if self.ctl is not None:
            self.ctl.close()
            self.control_path.unlink(missing_ok=True)
        log.info("stopped; counters %s", json.dumps(dict(self.counters)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m testbed.medium", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--control", type=Path, required=True)
    p.add_argument("--log", type=Path, required=True, help="per-frame log (binary records, header beside it)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s medium: %(message)s", stream=sys.stderr)
    try:
        srv = Server(json.loads(args.config.read_text()), args.control, args.log)
    except (OSError, ValueError, KeyError) as e:  # no hwsim, bad config: one line for the orchestrator to show
        log.error("error: %s", e)
        return 2

    def _stop(*_: object) -> None:
        srv.running = False

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        srv.start()
        srv.run()
    except nl.NetlinkError as e:
        log.error("error: %s", e)
        return 2
    finally:
        srv.close()
    return 0
