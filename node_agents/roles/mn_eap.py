"""Mode "eap_over_mih": the MN agent carries EAP between a real EAP peer and the target's PoS in MIH
Pro_Auth messages.

The EAP peer is a second wpa_supplicant of the MN (driver wired, on veth mpa1 with the radio's MAC
address): asked to PREAUTH the target BSSID, it sends EAPOL (0x88C7) to the agent's end of the veth,
where an EAPOL relay unwraps the EAP packets. On success that wpa_supplicant derives the PMK from its
MSK and caches a PMKSA; the agent copies it into the radio's wpa_supplicant (PMKSA_ADD): the local
command that turns the media-independent key into the media-specific one.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from node_agents.eapol import ETH_P_PREAUTH, EapolRelay, EapolSession
from node_agents.errors import DaemonError
from node_agents.hostap import Refused, WpaCtrl
from node_agents.info import Candidate
from node_agents.mih import Message, MihError, MihfEndpoint
from node_agents.mih.compound import Alt
from node_agents.secure import SaError


@dataclass
class EapOverMih:
    """What the procedure works with, handed over by the MN role."""
    mihf: MihfEndpoint
    radio_mac: str
    peer_port: str  # the agent's end of the EAP peer's veth
    peer_ctrl: str  # the EAP peer's control socket
    discover: Callable[[str], Awaitable[list[Candidate]]]  # the information service, for one ESS
    install: Callable[[list[str], str], dict]  # PMKSA_GET entry, SSID -> result (the radio's PMKSA_ADD)
    secure: Callable[[str], Awaitable[None]]  # sets up the MIH SA with a PoS (Pro_Auth travels only under one)
    peer_lock: asyncio.Lock  # one EAP run at a time through the EAP peer

    async def preauth(self, req: dict) -> dict:
        target, ssid = req["target"], req["ssid"]
        if req.get("pos"):  # named by the caller (tests of faults)
            pos_id, pos_ip, found_by = req["pos"], req["pos_ip"], "caller"
        else:  # the information service names the target's authenticator
            try:
                cands = await self.discover(ssid)
            except (RuntimeError, MihError) as e:
                return {"ok": False, "error": f"information service: {e}"}
            c = next((c for c in cands if c.bssid == target), None)
            if c is None or not c.pos_ip:
                return {"ok": False, "error": f"the information service names no authenticator for {target}"}
            pos_id, pos_ip, found_by = c.pos_mihf_id, c.pos_ip, "information service"
        self.mihf.add_peer(pos_id, pos_ip)
        try:
            await self.secure(pos_id)
        except (SaError, MihError) as e:
            return {"ok": False, "error": f"no MIH SA with the authenticator: {e}"}
        timeout = float(req.get("timeout", 60))
        stats = {"pro_auth": 0}
        result: dict = {}
        hops: list[dict] = []  # one record per EAP round trip (node_agents/hops.py)

        async def handler(sess: EapolSession, eap: bytes) -> bytes | None:
            stats["pro_auth"] += 1
            if hops:
                hops[-1].setdefault("eapol_tx", sess.tx_at)
            rec = {"id": eap[1], "eapol_rx": sess.rx_at}
            hops.append(rec)
            msg = Message.of("Pro_Auth.request", mn_mihf_id=self.mihf.mihf_id, mn_link_addr=Alt("mac", self.radio_mac),
                             poa=Alt("mac", target), eap_payload=eap)
            rec["mn_tx"] = time.monotonic()
            rsp = await self.mihf.request(pos_id, msg)  # MihError -> relay sends Failure
            rec["mn_rx"] = time.monotonic()
            if "key_name" in rsp.fields:
                result["poa_pmkid"] = rsp.fields["key_name"].hex()
            return rsp.fields.get("eap_payload")

        done = asyncio.Event()

        def on_done(sess: EapolSession) -> None:
            result["outcome"], result["error"] = sess.outcome, repr(sess.error) if sess.error else ""
            if hops:
                hops[-1].setdefault("eapol_tx", sess.tx_at)
            done.set()

        async with self.peer_lock:  # one EAP run at a time through the EAP peer (MIH SA setup uses it too)
            relay = EapolRelay(self.peer_port, handler, ethertypes=(ETH_P_PREAUTH,), targets=[target],
                               on_done=on_done)
            return await self._run(relay, target, ssid, timeout, done, result, stats, hops, pos_id, found_by)

    async def _run(self, relay: EapolRelay, target: str, ssid: str, timeout: float, done: asyncio.Event,
                   result: dict, stats: dict, hops: list[dict], pos_id: str, found_by: str) -> dict:
        relay.start()
        peer = WpaCtrl(self.peer_ctrl, "wpa_supplicant (EAP peer)")
        try:
            peer.open()
            t0 = time.monotonic()  # from the PREAUTH command, as mode ll_auth: opening the socket is set-up
            try:
                ev = await asyncio.to_thread(peer.preauth, target, timeout)
            except Refused:
                return {"ok": False, "error": "PREAUTH refused by the EAP peer"}
            took = round((time.monotonic() - t0) * 1000, 1)
            await asyncio.wait_for(done.wait(), 5)
            if "completed successfully" not in ev.text:
                return {"ok": False, "error": result.get("error") or ev.text, "duration_ms": took,
                        "pro_auth": stats["pro_auth"], "hops": hops}
            entry = next((e for e in peer.pmksa_get(0) if e and e[0] == target), None)
        except (MihError, DaemonError, TimeoutError, asyncio.TimeoutError) as e:
            return {"ok": False, "error": f"{type(e).__name__}: {e}", "pro_auth": stats["pro_auth"], "hops": hops}
        finally:
            peer.close()
            relay.close()
        if entry is None:
            return {"ok": False, "error": "EAP succeeded but the peer cached no PMKSA"}
        if result.get("poa_pmkid") != entry[1]:  # both sides check the PMKID before the handover is committed
            return {"ok": False, "error": f"PMKID mismatch: target PoA holds {result.get('poa_pmkid')}, MN derived "
                    f"{entry[1]}; nothing installed", "duration_ms": took, "pro_auth": stats["pro_auth"]}
        out = await asyncio.to_thread(self.install, entry, ssid)
        out.update(duration_ms=took, via="eap over mih", pro_auth=stats["pro_auth"], authenticator=pos_id,
                   authenticator_from=found_by, hops=hops, window=[t0, ev.mono])
        return out
