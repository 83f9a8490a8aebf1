"""A node's MIH agent process: an MIHF on UDP 4551 plus a local control socket for the orchestrator.

    python -m node_agents.agent --config /run/mihsec/<run>/agents/<node>.json

The config (written 0600 by the orchestrator) names the node, its MIH role (mn, poa, pos, is),
its MIHF ID and its peers. Over MIH the agent answers Capability_Discover; over the control
socket (JSON lines) it answers `health`, which also discovers every peer over MIH, so a healthy
answer proves the MIH path through the topology.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import time
from pathlib import Path

from node_agents.config import AgentConfig
from node_agents.mih import Incoming, Message, MihError, MihfEndpoint, TransportConfig
from node_agents.mih.pcap import PcapSink
from node_agents.mihsa import MihSecurity
from node_agents.roles import make_role
from node_agents.roles.base import EVENTS
from node_agents.secure import NetworkSas, SaProtection

__all__ = ["Agent", "AgentConfig", "main"]

log = logging.getLogger("mihsec.agent")


class Agent:
    def __init__(self, cfg: AgentConfig):
        self.cfg = cfg
        self.started = time.monotonic()
        transport = TransportConfig(port=cfg.port, retransmit_interval=cfg.retransmit_interval,
                                    max_retransmissions=cfg.max_retransmissions,
                                    transaction_lifetime=cfg.transaction_lifetime, ack_responses=True,
                                    response_ack_delay=0.02)  # off the EAP round trip's path (issue 16)
        self.pcap = PcapSink(Path(cfg.pcap)) if cfg.pcap else None
        # MIH protection (802.21a-style) is on unless the configuration says "mih_protection": false
        self.sec = MihSecurity(cfg.mihf_id, enabled=bool(cfg.extra.get("mih_protection", True)))
        self.mihf = MihfEndpoint(cfg.mihf_id, cfg.listen, transport, handler=self.on_mih, pcap=self.pcap,
                                 protection=SaProtection(self.sec))
        for mihf_id, ip in cfg.peers.items():
            self.mihf.add_peer(mihf_id, ip)
        self.net = NetworkSas(self.mihf, self.sec, cfg.extra.get("sa_keys", {}))  # SAs with network peers
        self.role = make_role(cfg, self.mihf, self.sec, self.net)

    async def on_mih(self, inc: Incoming) -> Message | None:
        if inc.msg.name == "Auth.request" and self.net.knows(inc.msg.src):  # a network peer's SA setup
            return self.net.handle(inc.msg)
        handled = await self.role.on_mih(inc)
        if handled is not False:
            return handled  # type: ignore[return-value]
        if inc.msg.name == "Capability_Discover.request":
            return Message.of("Capability_Discover.response", dst=inc.msg.src, status="success",
                              event_list=EVENTS, transport_list=frozenset({"UDP"}))
        log.info("unhandled %s from %s", inc.msg.name, inc.msg.src)
        return None

    async def discover(self, mihf_id: str) -> dict:
        t0 = time.monotonic()
        try:
            rsp = await self.mihf.request(mihf_id, Message.of("Capability_Discover.request"))
        except MihError as e:
            return {"ok": False, "error": str(e)}
        return {"ok": rsp.fields.get("status") == "success", "rtt_ms": round((time.monotonic() - t0) * 1000, 2)}

    def security(self) -> dict:
        """Protection counters (drops by reason, PDUs sealed and opened) and the SAs, without keys."""
        now = self.sec.clock()
        return {"enabled": self.sec.enabled, **dict(self.sec.stats),
                "sas": [{"peer": sa.peer_id, "said": sa.said, "suite": sa.suite.name, "confirmed": sa.confirmed,
                         "seq": sa.seq, "expires_in_s": round(sa.expires - now, 1)}
                        for sas in self.sec.by_peer.values() for sa in sas if sa.dead(now) is None]}

    async def command(self, req: dict) -> dict:
        if (reply := await self.role.command(req)) is not None:
            if req.get("cmd") == "stats":
                reply["security"] = self.security()
            return reply
        if req.get("cmd") == "health":
            peers = {}
            if req.get("peers", True):
                results = await asyncio.gather(*(self.discover(m) for m in self.cfg.peers))
                peers = dict(zip(self.cfg.peers, results))
                # A peer busy for longer than the retransmission budget (8 s: seen with many agents on a
                # loaded TCG guest, where all answers arrived 12-20 s late) gets a second transaction.
                again = [m for m, r in peers.items() if not r["ok"]]
                for m, r in zip(again, await asyncio.gather(*(self.discover(m) for m in again))):
                    peers[m] = {**r, "retried": True}
            return {"ok": True, "node": self.cfg.node, "role": self.cfg.role, "mihf_id": self.cfg.mihf_id,
                    "pid": os.getpid(), "uptime_s": round(time.monotonic() - self.started, 2), "peers": peers,
                    "security": self.security()}
        return {"ok": False, "error": f"unknown command {req.get('cmd')!r}"}

    async def _serve_control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    reply = await self.command(json.loads(line))
                except (ValueError, TypeError, KeyError) as e:
                    reply = {"ok": False, "error": f"bad request: {e}"}
                except Exception as e:  # a failed command must not kill the agent
                    log.exception("command %s failed", line[:80])
                    reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()

    async def run(self) -> None:
        await self.mihf.start()
        await self.role.start()
        Path(self.cfg.control).unlink(missing_ok=True)
        server = await asyncio.start_unix_server(self._serve_control, self.cfg.control)
        os.chmod(self.cfg.control, 0o600)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("agent %s (%s) ready: MIH on %s:%d", self.cfg.mihf_id, self.cfg.role, self.cfg.listen,
                 self.cfg.port)
        await stop.wait()
        server.close()
        await self.role.stop()
        await self.mihf.close()
        if self.pcap:
            self.pcap.close()
        Path(self.cfg.control).unlink(missing_ok=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    asyncio.run(Agent(AgentConfig.load(args.config)).run())


if __name__ == "__main__":
    main()
