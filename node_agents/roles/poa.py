"""PoA agent: carries RSN pre-authentication frames across domains in MIH LL_Auth (mode 2), and
installs pushed keys into hostapd (mode 1, Push_Key)."""
from __future__ import annotations

import asyncio
import logging
import time
import zlib

from node_agents.l2 import ETH_P_PREAUTH, RawPort, mac_bytes, mac_str
from node_agents.mih import Incoming, Message, MihError, MihPeerDeadError, MihTransactionTimeout
from node_agents.mih import mihtypes as T
from node_agents.mih.compound import Alt
from node_agents.roles.base import Role
from node_agents.roles.poa_keys import KeyPushHandler

log = logging.getLogger("mihsec.agent.poa")


def link_tuple(sta: str, poa: str) -> tuple:
    return T.LINK_TUPLE_ID.cls(T.LINK_ID.cls("IEEE802_11", Alt("mac", sta)), Alt("mac", poa))


class PoaRole(Role):
    async def start(self) -> None:
        self.bssid: str = self.extra.get("bssid", "")
        # foreign BSSID -> (PoA MIHF ID, IP) from the information-service database
        self.poa_of: dict[str, str] = {}
        for net in self.extra.get("is_db", []):
            for p in net["poas"]:
                if p.get("mihf_id") and p.get("ip") and p["bssid"] != self.bssid:
                    self.poa_of[p["bssid"]] = p["mihf_id"]
                    self.mihf.add_peer(p["mihf_id"], p["ip"])
        self.remote_mn: dict[str, str] = {}  # MN MAC -> MIHF ID of the serving PoA that forwards its frames
        self.port = RawPort(self.extra["llauth_port"], ETH_P_PREAUTH, self._frame) \
            if self.extra.get("llauth_port") else None
        self.keys = KeyPushHandler(self.extra.get("push_keys", {}), self.extra.get("hostapd_ctrl"), self.bssid)
        self.stats = {"ll_auth_out": 0, "ll_auth_in": 0}
        self.hops: dict[str, list[dict]] = {}  # station -> stamps of the pre-auth frames we carried (hops.py)

    def _stamp(self, sta: str, frame: bytes, up: bool, **stamps: float) -> dict:
        recs = self.hops.setdefault(sta, [])
        if len(recs) >= 512:  # nobody asked for the old ones
            del recs[:256]
        rec = {"crc": zlib.crc32(frame), "up": up, **stamps}
        recs.append(rec)
        return rec

    async def stop(self) -> None:
        if self.port:
            self.port.close()

    def _frame(self, frame: bytes) -> None:
        """A pre-auth frame the bridge handed to our port: forward it if it crosses domains."""
        now = time.monotonic()
        dst, src = mac_str(frame[0:6]), mac_str(frame[6:12])
        if dst in self.poa_of:  # serving side: a station pre-authenticating with a foreign AP
            peer_id = self.poa_of[dst]
            sta, poa = src, dst
        elif src == self.bssid and dst in self.remote_mn:  # target side: our hostapd answering
            peer_id = self.remote_mn[dst]
            sta, poa = dst, src
        else:
            return
        msg = Message.of("LL_Auth.request", link_id=link_tuple(sta, poa), ll_info=frame)
        self.stats["ll_auth_out"] += 1
        rec = self._stamp(sta, frame, sta == src, l2_rx=now)
        asyncio.get_running_loop().create_task(self._send(peer_id, msg, rec))

    async def _send(self, peer_id: str, msg: Message, rec: dict) -> None:
        rec["mih_tx"] = time.monotonic()
        try:
            await self.net.ensure(peer_id)
            await self.mihf.request(peer_id, msg)
        except MihError as e:
            log.warning("LL_Auth to %s failed: %s", peer_id, e)
            if isinstance(e, (MihPeerDeadError, MihTransactionTimeout)):
                self.net.forget(peer_id)  # it may have restarted without our SA

    async def on_mih(self, inc: Incoming) -> Message | None | bool:
        name = inc.msg.name
        if name == "LL_Auth.request" and self.port:
            frame: bytes = inc.msg.fields["ll_info"]
            src = mac_str(frame[6:12])
            if mac_bytes(self.bssid) == frame[0:6]:  # to our AP: remember where the station's frames come from
                self.remote_mn[src] = inc.msg.src
                self.mihf.add_peer(inc.msg.src, inc.peer[0])
            self.stats["ll_auth_in"] += 1
            self.port.send(frame)
            up = mac_bytes(self.bssid) == frame[0:6]
            self._stamp(src if up else mac_str(frame[0:6]), frame, up, mih_rx=inc.state.seen, l2_tx=time.monotonic())
            return Message.of("LL_Auth.response", dst=inc.msg.src, status="success",
                              link_id=inc.msg.fields["link_id"])
        if name == "Push_Key.request":
            return await self.keys.handle(inc)
        return False

    async def command(self, req: dict) -> dict | None:
        if req.get("cmd") == "stats":
            return {"ok": True, **self.stats, **self.keys.stats}
        if req.get("cmd") == "hops":  # stamps of a station's frames since `since` (time.monotonic())
            return {"ok": True, "frames": [r for r in self.hops.get(req.get("sta", ""), [])
                                           if min(v for k, v in r.items() if k not in ("crc", "up")) >= req.get("since", 0)]}
        return None


ROLE = PoaRole
