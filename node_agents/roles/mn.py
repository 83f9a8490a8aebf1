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
import logging
import time
from dataclasses import asdict

from node_agents.info import Candidate, candidates
from node_agents.l2 import mac_bytes
from node_agents.mih import Message, MihError
from node_agents.mih import mihtypes as T
from node_agents.roles import Role
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
            from node_agents.roles.mn_eap import preauth_eap_over_mih
            return await preauth_eap_over_mih(self, req)
        if cmd == "stats":
            return {"ok": True, **dict(self.agent.mihf.stats)}
        if cmd == "handover":
            return await asyncio.to_thread(self._handover, req["target"], req["ssid"], int(req["freq"]),
                                           float(req.get("timeout", 60)))
        return None
