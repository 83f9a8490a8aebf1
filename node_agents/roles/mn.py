"""MN agent: pre-authenticates with a target AP through the serving link, installs the resulting key
into its own radio's wpa_supplicant (the media-specific key: PMKSA_ADD), and performs the handover.

Mode "ll_auth": the MN's own wpa_supplicant runs RSN pre-authentication (PREAUTH); its EAPOL
frames leave through the serving link and the PoA agents carry them to the target domain in
MIH LL_Auth. Mode "eap_over_mih": see roles/mn_eap.py; the target's authenticator (its domain's
PoS) comes from the information service (`discover`, node_agents/info.py).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from dataclasses import asdict

from pyroute2 import IPRoute

from node_agents.hostap import Refused, WpaCtrl
from node_agents.info import Candidate, candidates
from node_agents.link_sap import LinkSap, link_tuple
from node_agents.mih import Message, MihError, MihPeerDeadError, MihTransactionTimeout
from node_agents.mih import mihtypes as T
from node_agents.mih.compound import Alt
from node_agents.roles import pmksa
from node_agents.roles.base import Role
from node_agents.roles.mn_eap import EapOverMih
from node_agents.secure import SaError, SaSupplicant

log = logging.getLogger("mihsec.agent.mn")


class MnRole(Role):
    async def start(self) -> None:
        self.net_ids: dict[str, int] = self.extra.get("net_ids", {})
        self.radio_mac: str = self.extra.get("radio_mac", "")
        self.serving_pos: str | None = self._pos(self.extra.get("is_server"))  # where link events and commits go
        self.is_server = self.serving_pos
        self.sent: dict[str, int] = {}
        # service access authentication with each PoS it talks to (MIH SA), through the same EAP peer
        self.sa = SaSupplicant(self.mihf, self.sec, self.extra.get("eap_peer_port", "mpa0"),
                               self.extra.get("eap_peer_ctrl") or "")
        self.eap = EapOverMih(self.mihf, self.radio_mac, self.extra.get("eap_peer_port", "mpa0"),
                              self.extra.get("eap_peer_ctrl") or "", self.discover,
                              lambda entry, ssid: self._install(entry, ssid, copy=True), self.sa.ensure,
                              self.sa.peer_lock)
        loop = asyncio.get_running_loop()
        self.saps = [LinkSap(self.extra[key], link_type, self.radio_mac,
                             lambda m: loop.call_soon_threadsafe(self._indicate, m))
                     for key, link_type in (("wpas_ctrl", "IEEE802_11"), ("wired_ctrl", "Ethernet"))
                     if self.extra.get(key)]
        for sap in self.saps:
            sap.start()

    async def stop(self) -> None:
        for sap in self.saps:
            sap.stop()

    def _pos(self, where: dict | None) -> str | None:
        """A PoS named by MIHF ID and address: known to the MIHF from now on; its MIHF ID."""
        if not where:
            return None
        self.mihf.add_peer(where["mihf_id"], where["ip"])
        return where["mihf_id"]

    def _indicate(self, msg: Message) -> None:
        """Send a link SAP's indication to the serving PoS (in the background: the link may be down)."""
        pos = self.serving_pos
        if not pos:
            return
        name = msg.name.split(".")[0]
        self.sent[name] = self.sent.get(name, 0) + 1

        async def send() -> None:
            try:
                await self.sa.ensure(pos)
                await self.mihf.indicate(pos, msg)
            except (MihError, OSError, SaError) as e:
                log.debug("%s to %s not delivered: %s", msg.name, pos, e)

        asyncio.ensure_future(send())

    def _wpas(self, key: str = "wpas_ctrl") -> WpaCtrl:
        return WpaCtrl(self.extra[key], f"wpa_supplicant ({key})")

    def _serving_ctrl(self) -> tuple[str, int]:
        """The wpa_supplicant that holds the serving link: the radio when associated, else the wired port."""
        with self._wpas() as w:
            st = w.status()
        if st.get("wpa_state") == "COMPLETED":
            return "wpas_ctrl", int(st.get("id", 0))
        if self.extra.get("wired_ctrl"):
            return "wired_ctrl", 0
        raise RuntimeError("no serving link: the radio is not associated and there is no wired port")

    def _preauth_ll(self, target: str, ssid: str, timeout: float) -> dict:
        key, net_id = self._serving_ctrl()
        with self._wpas(key) as w:
            t0 = time.monotonic()
            try:
                ev = w.preauth(target, timeout)
            except Refused:
                return {"ok": False, "error": "PREAUTH refused"}
            took = round((time.monotonic() - t0) * 1000, 1)
            if "completed successfully" not in ev.text:
                return {"ok": False, "error": ev.text, "duration_ms": took}
            entry = next((e for e in w.pmksa_get(net_id) if e and e[0] == target), None)
        if entry is None:
            return {"ok": False, "error": "pre-authentication completed but no PMKSA cached"}
        # made on the wired port, or under another network block: copy it to the target ESS's block
        result = self._install(entry, ssid, copy=key != "wpas_ctrl" or self.net_ids[ssid] != net_id)
        result["duration_ms"] = took
        result["window"] = [t0, ev.mono]  # the PoA agents' stamps of this run are those in it (node_agents/hops.py)
        result["via"] = "radio" if key == "wpas_ctrl" else "wired port"
        return result

    def _install(self, entry: list[str], ssid: str, copy: bool) -> dict:
        """Put the PMKSA under the radio's network block of the target ESS (the seed's 'local command')."""
        return pmksa.install(self.extra["wpas_ctrl"], entry, net_id=self.net_ids[ssid], radio_mac=self.radio_mac,
                             copy=copy)

    def _handover(self, target: str, ssid: str, freq: int, timeout: float) -> dict:
        """Move the radio to `target`, timed from wpa_supplicant's "SME: Trying to authenticate" (802.11
        authentication, reassociation, EAP if any, 4-way handshake) to CTRL-EVENT-CONNECTED."""
        with self._wpas() as w:
            tr = w.move(net_id=self.net_ids[ssid], bssid=target, freq=freq, timeout=timeout)
            st = w.status()
        auth = tr.first("SME: Trying to authenticate")
        assert auth is not None  # move() waited for it
        return {"ok": st.get("bssid") == target, "duration_ms": round((tr.connected.mono - auth.mono) * 1000, 1),
                "eap_ran": tr.first("CTRL-EVENT-EAP-STARTED") is not None, "bssid": st.get("bssid"),
                "state": st.get("wpa_state")}

    async def discover(self, ssid: str | None = None) -> list[Candidate]:
        """Candidate PoAs and their authenticators from the information service (Get_Information to the
        serving domain's PoS), for one ESS or all."""
        if not self.is_server:
            raise RuntimeError("no information server configured for this MN")
        await self.sa.ensure(self.is_server)  # SaError is an MihError
        q = T.IQ_BIN_DATA.cls(None, None, (ssid,) if ssid else None, None, None, None)
        try:
            rsp = await self.mihf.request(self.is_server, Message.of("Get_Information.request", iq_bin_data_list=(q,)))
        except (MihPeerDeadError, MihTransactionTimeout):
            self.sa.forget(self.is_server)
            raise
        if rsp.fields.get("status") != "success":
            raise RuntimeError(f"the information server answered {rsp.fields.get('status')}")
        return candidates(rsp.fields.get("ir_bin_data_list"))

    async def _mih_handover(self, target: str, ssid: str, freq: int, timeout: float) -> dict:
        """MN-initiated handover: MN_HO_Commit to the serving PoS, the link action (pinned BSSID, scan,
        reassociation), IP renewal when the target is another subnet (from the information service),
        then MN_HO_Complete to the target's PoS."""
        try:
            cand = next((c for c in await self.discover(ssid) if c.bssid == target), None)
        except (RuntimeError, MihError) as e:
            log.info("no information on %s: %s", target, e)
            cand = None
        with self._wpas() as w:
            old = w.status().get("bssid")
        commit = await self._ask(self.serving_pos, Message.of(
            "MN_HO_Commit.request", link_type="IEEE802_11", target_network_info=Alt("link_addr", Alt("mac", target))))
        if commit not in ("success", None):  # None: no PoS answered; the MN goes anyway (break before make)
            return {"ok": False, "error": f"MN_HO_Commit answered {commit}", "commit": commit}
        out = await asyncio.to_thread(self._handover, target, ssid, freq, timeout)
        out["commit"] = commit
        if not out["ok"]:
            return out
        out["ip"] = await asyncio.to_thread(self._renew_ip, cand) if cand else None
        if cand and cand.pos_ip:
            self.serving_pos = self._pos({"mihf_id": cand.pos_mihf_id, "ip": cand.pos_ip})
        out["complete"] = await self._ask(self.serving_pos, Message.of(
            "MN_HO_Complete.request", link_id=link_tuple("IEEE802_11", self.radio_mac, old),
            new_link_id=link_tuple("IEEE802_11", self.radio_mac, target), ho_result="success"))
        return out

    async def _ask(self, pos: str | None, msg: Message) -> str | None:
        """Send a request to a PoS (MIHF ID); its status, or None when there is no PoS or it does not answer."""
        if not pos:
            return None
        try:
            await self.sa.ensure(pos)
            rsp = await self.mihf.request(pos, msg)
        except (MihPeerDeadError, MihTransactionTimeout) as e:
            log.warning("%s to %s: %s", msg.name, pos, e)
            self.sa.forget(pos)
            return None
        except (MihError, SaError) as e:
            log.warning("%s to %s: %s", msg.name, pos, e)
            return None
        return rsp.fields.get("status")

    def _renew_ip(self, cand: Candidate) -> str | None:
        """Move the radio's address into the target's subnet (same host part) and route through its access
        router, when the information service says the target is another subnet; returns the new address."""
        if not cand.subnet:
            return None
        ifname = self.extra.get("radio_ifname", "wlan0")
        net = ipaddress.IPv4Network(cand.subnet)
        with IPRoute() as ipr:
            idx = ipr.link_lookup(ifname=ifname)[0]
            cur = [ipaddress.IPv4Interface(f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}")
                   for a in ipr.get_addr(index=idx, family=socket.AF_INET)]
            if not cur or any(a.ip in net for a in cur):
                return None
            new = ipaddress.IPv4Interface(f"{net.network_address + (int(cur[0].ip) & int(cur[0].hostmask))}/"
                                          f"{net.prefixlen}")
            for r in ipr.get_routes(family=socket.AF_INET, oif=idx):
                if r.get_attr("RTA_GATEWAY"):
                    ipr.route("del", dst=f"{r.get_attr('RTA_DST') or '0.0.0.0'}/{r['dst_len']}", oif=idx,
                              gateway=r.get_attr("RTA_GATEWAY"))
            for a in cur:
                ipr.addr("del", index=idx, address=str(a.ip), prefixlen=a.network.prefixlen)
            ipr.addr("add", index=idx, address=str(new.ip), prefixlen=new.network.prefixlen)
            if cand.gateway:
                ipr.route("replace", dst="0.0.0.0/0", gateway=cand.gateway, oif=idx)
        log.info("IP renewed on %s: %s -> %s (gateway %s)", ifname, cur[0], new, cand.gateway)
        return str(new)

    async def command(self, req: dict) -> dict | None:
        cmd = req.get("cmd")
        if cmd == "discover":
            try:
                found = await self.discover(req.get("ssid"))
            except (RuntimeError, MihError) as e:
                return {"ok": False, "error": str(e)}
            return {"ok": True, "candidates": [asdict(c) for c in found]}
        if cmd == "preauth" and req.get("mode", "ll_auth") == "ll_auth":
            return await asyncio.to_thread(self._preauth_ll, req["target"], req["ssid"],
                                           float(req.get("timeout", 60)))
        if cmd == "preauth" and req.get("mode") == "eap_over_mih":
            return await self.eap.preauth(req)
        if cmd == "stats":
            return {"ok": True, **dict(self.mihf.stats), "indications": dict(self.sent), "sa": self.sa.stats}
        if cmd == "sa":  # establish the MIH SA with a PoS (the serving one by default); again = rekey
            pos = req.get("pos") or self.serving_pos
            if req.get("pos_ip"):
                self.mihf.add_peer(pos, req["pos_ip"])
            try:
                return await self.sa.establish(pos) if req.get("rekey") else \
                    (await self.sa.ensure(pos)) or {"ok": True, "pos": pos}
            except SaError as e:
                return {"ok": False, "error": str(e)}
        if cmd == "handover":
            return await self._mih_handover(req["target"], req["ssid"], int(req["freq"]),
                                            float(req.get("timeout", 60)))
        return None


ROLE = MnRole
