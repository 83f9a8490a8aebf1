"""MN agent: pre-authenticates with a target AP through the serving link, installs the resulting key
into its own radio's wpa_supplicant (the media-specific key: PMKSA_ADD), and performs the handover.

Mode "ll_auth": the MN's own wpa_supplicant runs RSN pre-authentication (PREAUTH); its EAPOL
frames leave through the serving link and the PoA agents carry them to the target domain in
MIH LL_Auth. Mode "eap_over_mih": see roles/mn_eap.py; the target's authenticator (its domain's
PoS) comes from the information service (`discover`, node_agents/info.py).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import socket
import time
from dataclasses import asdict

from pyroute2 import IPRoute

from node_agents.info import Candidate, candidates
from node_agents.l2 import mac_bytes
from node_agents.link_sap import LinkSap, link_tuple
from node_agents.mih import Message, MihError
from node_agents.mih import mihtypes as T
from node_agents.mih.compound import Alt
from node_agents.roles import Role
from node_agents.roles.mn_eap import preauth_eap_over_mih
from testbed.daemons.ctrl import CtrlSocket, EventMonitor
from testbed.daemons.wpa import parse_kv

log = logging.getLogger("mihsec.agent.mn")


def derive_pmkid(pmk: bytes, aa: str, spa: str) -> bytes:
    """PMKID = HMAC-SHA1-128(PMK, "PMK Name" || AA || SPA) (IEEE 802.11 12.7.1.3)."""
    return hmac.new(pmk, b"PMK Name" + mac_bytes(aa) + mac_bytes(spa), hashlib.sha1).digest()[:16]


class MnRole(Role):
    async def start(self) -> None:
        self.net_ids: dict[str, int] = self.extra.get("net_ids", {})
        self.radio_mac: str = self.extra.get("radio_mac", "")
        self.serving_pos: dict | None = self.extra.get("is_server")  # where link events and commits go
        self.sent: dict[str, int] = {}
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

    def _indicate(self, msg: Message) -> None:
        """Send a link SAP's indication to the serving PoS (in the background: the link may be down)."""
        pos = self.serving_pos
        if not pos:
            return
        name = msg.name.split(".")[0]
        self.sent[name] = self.sent.get(name, 0) + 1

        async def send() -> None:
            try:
                await self.agent.mihf.indicate((pos["ip"], self.cfg.port),
                                               Message.of(msg.name, dst=pos["mihf_id"], **msg.fields))
            except (MihError, OSError) as e:
                log.debug("%s to %s not delivered: %s", msg.name, pos["mihf_id"], e)

        asyncio.ensure_future(send())

    def _ctrl(self, key: str) -> CtrlSocket:
        return CtrlSocket(self.extra[key], f"wpa_supplicant ({key})")

    def _serving_ctrl(self) -> tuple[str, int]:
        """The wpa_supplicant that holds the serving link: the radio when associated, else the wired port."""
        with self._ctrl("wpas_ctrl") as c:
            st = parse_kv(c.request("STATUS"))
        if st.get("wpa_state") == "COMPLETED":
            return "wpas_ctrl", int(st.get("id", 0))
        if self.extra.get("wired_ctrl"):
            return "wired_ctrl", 0
        raise RuntimeError("no serving link: the radio is not associated and there is no wired port")

    def _preauth_ll(self, target: str, ssid: str, timeout: float) -> dict:
        key, net_id = self._serving_ctrl()
        mon = EventMonitor(self.extra[key], "wpa_supplicant monitor")
        try:
            with self._ctrl(key) as c:
                t0 = time.monotonic()
                if c.request(f"PREAUTH {target}").strip() != "OK":
                    return {"ok": False, "error": "PREAUTH refused"}
                ev = mon.wait_event([f"RSN: pre-authentication with {target}"], timeout)
                took = time.monotonic() - t0
                if "completed successfully" not in ev.text:
                    return {"ok": False, "error": ev.text, "duration_ms": round(took * 1000, 1)}
                entry = next((e for e in (l.split() for l in c.request(f"PMKSA_GET {net_id}").splitlines())
                              if e and e[0] == target), None)
        finally:
            mon.close()
        if entry is None:
            return {"ok": False, "error": "pre-authentication completed but no PMKSA cached"}
        result = self._install(entry, ssid, moved=(key != "wpas_ctrl"), serving_net=net_id)
        result["duration_ms"] = round(took * 1000, 1)
        result["window"] = [t0, ev.mono]  # the PoA agents' stamps of this run are those in it (node_agents/hops.py)
        result["via"] = "radio" if key == "wpas_ctrl" else "wired port"
        return result

    def _install(self, entry: list[str], ssid: str, moved: bool, serving_net: int) -> dict:
        """Put the PMKSA under the radio's network block of the target ESS (the seed's 'local command')."""
        bssid, pmkid, pmk = entry[0], entry[1], entry[2]
        if derive_pmkid(bytes.fromhex(pmk), bssid, self.radio_mac).hex() != pmkid:
            return {"ok": False, "error": "PMKID mismatch: the pre-authentication used another station address"}
        target_net = self.net_ids[ssid]
        if moved or target_net != serving_net:
            with self._ctrl("wpas_ctrl") as c:
                reply = c.request(f"PMKSA_ADD {target_net} {bssid} {pmkid} {pmk} {entry[3]} {entry[4]} "
                                  f"{entry[5]} 0").strip()
                if reply != "OK":
                    return {"ok": False, "error": f"PMKSA_ADD answered {reply}"}
        with self._ctrl("wpas_ctrl") as c:
            ok = any(l.split()[:2] == [bssid, pmkid] for l in c.request(f"PMKSA_GET {target_net}").splitlines()
                     if l.strip())
        return {"ok": ok, "pmkid": pmkid, "target_net": target_net}

    def _handover(self, target: str, ssid: str, freq: int, timeout: float) -> dict:
        """Move the radio to `target`, timed from wpa_supplicant's "SME: Trying to authenticate" (802.11
        authentication, reassociation, EAP if any, 4-way handshake) to CTRL-EVENT-CONNECTED."""
        net_id = self.net_ids[ssid]
        mon = EventMonitor(self.extra["wpas_ctrl"], "wpa_supplicant monitor")
        try:
            with self._ctrl("wpas_ctrl") as c:
                associated = parse_kv(c.request("STATUS")).get("wpa_state") == "COMPLETED"
                # Pinned to the target, an associated station reassociates on the next scan results
                # (SELECT_NETWORK of the current network block does nothing while associated); an idle
                # radio needs SELECT_NETWORK. The BSSID stays pinned afterwards: with equal hwsim signal
                # levels an unpinned station may wander off on a later scan.
                c.request(f"SET_NETWORK {net_id} bssid {target}")
                start = mon.mark()
                c.request(f"SCAN freq={freq}" if associated else f"SELECT_NETWORK {net_id}")
                try:
                    auth = mon.wait_event(["SME: Trying to authenticate"], 20)
                except Exception:
                    c.request("REASSOCIATE")
                    auth = mon.wait_event(["SME: Trying to authenticate"], timeout)
                ev = mon.wait_event(["CTRL-EVENT-CONNECTED"], timeout)
                events = mon.since(start)
                st = parse_kv(c.request("STATUS"))
        finally:
            mon.close()
        eap = any(e.text.startswith("CTRL-EVENT-EAP-STARTED") for e in events)
        return {"ok": st.get("bssid") == target, "duration_ms": round((ev.mono - auth.mono) * 1000, 1),
                "eap_ran": eap, "bssid": st.get("bssid"), "state": st.get("wpa_state")}

    async def discover(self, ssid: str | None = None) -> list[Candidate]:
        """Candidate PoAs and their authenticators from the information service (Get_Information to the
        serving domain's PoS), for one ESS or all."""
        server = self.extra.get("is_server")
        if not server:
            raise RuntimeError("no information server configured for this MN")
        q = T.IQ_BIN_DATA.cls(None, None, (ssid,) if ssid else None, None, None, None)
        rsp = await self.agent.mihf.request((server["ip"], self.cfg.port), Message.of(
            "Get_Information.request", dst=server["mihf_id"], iq_bin_data_list=(q,)))
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
        with self._ctrl("wpas_ctrl") as c:
            old = parse_kv(c.request("STATUS")).get("bssid")
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
            self.serving_pos = {"mihf_id": cand.pos_mihf_id, "ip": cand.pos_ip}
        out["complete"] = await self._ask(self.serving_pos, Message.of(
            "MN_HO_Complete.request", link_id=link_tuple("IEEE802_11", self.radio_mac, old),
            new_link_id=link_tuple("IEEE802_11", self.radio_mac, target), ho_result="success"))
        return out

    async def _ask(self, pos: dict | None, msg: Message) -> str | None:
        """Send a request to a PoS; its status, or None when there is no PoS or it does not answer."""
        if not pos:
            return None
        try:
            rsp = await self.agent.mihf.request((pos["ip"], self.cfg.port),
                                                Message.of(msg.name, dst=pos["mihf_id"], **msg.fields))
        except MihError as e:
            log.warning("%s to %s: %s", msg.name, pos["mihf_id"], e)
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
            return await preauth_eap_over_mih(self, req)
        if cmd == "stats":
            return {"ok": True, **dict(self.agent.mihf.stats), "indications": dict(self.sent)}
        if cmd == "handover":
            return await self._mih_handover(req["target"], req["ssid"], int(req["freq"]),
                                            float(req.get("timeout", 60)))
        return None
