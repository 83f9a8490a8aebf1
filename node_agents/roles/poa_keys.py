"""PoA side of Push_Key: verify, unwrap, install into hostapd (PMKSA_ADD) and confirm."""
from __future__ import annotations

import asyncio
import logging

from node_agents.errors import DaemonError
from node_agents.hostap import HostapdCtrl
from node_agents.keys import KeyPush, PushError, PushKeys, PushVerifier, response_tag
from node_agents.mih import Incoming, Message

log = logging.getLogger("mihsec.agent.poa")


class KeyPushHandler:
    """Owns the PoA's push verifier (keys shared with each PoS of its domain), its counters and the path to
    its hostapd's control socket."""

    def __init__(self, push_keys: dict[str, str], hostapd_ctrl: str | None, bssid: str):
        self.verifier = PushVerifier({pos: PushKeys.derive(bytes.fromhex(k)) for pos, k in push_keys.items()})
        self.hostapd_ctrl, self.bssid = hostapd_ctrl, bssid
        self.stats = {"keys_installed": 0, "pushes_refused": 0}

    def _install(self, sta: str, pmkid: str, pmk: str, lifetime: int) -> str | None:
        """None when hostapd took the PMKSA, else its answer."""
        if not self.hostapd_ctrl:
            return "no hostapd"
        try:
            with HostapdCtrl(self.hostapd_ctrl, "hostapd") as h:
                h.pmksa_add(sta=sta, pmkid=pmkid, pmk=pmk, expiration=lifetime)
        except DaemonError as e:
            return e.problem
        return None

    async def handle(self, inc: Incoming) -> Message:
        f = inc.msg.fields
        push = KeyPush(bytes.fromhex(f["mn_link_addr"].value.replace(":", "")),
                       bytes.fromhex(f["poa"].value.replace(":", "")), f["key_name"], f["wrapped_key"],
                       f.get("key_lifetime", 43200), f.get("akm_suite", 0x000FAC01), f["replay_counter"],
                       f["integrity_tag"])
        status, code = "success", 0
        try:
            pmk = self.verifier.verify(inc.msg.src, push, own_poa=self.bssid)
            refused = await asyncio.to_thread(self._install, f["mn_link_addr"].value, push.key_name.hex(), pmk.hex(),
                                              push.key_lifetime)
            if refused:
                status, code = "unspecified_failure", 1
                log.warning("hostapd refused PMKSA_ADD for %s: %s", f["mn_link_addr"].value, refused)
            else:
                log.info("installed PMKSA for %s (PMKID %s) from %s", f["mn_link_addr"].value, push.key_name.hex(),
                         inc.msg.src)
                self.stats["keys_installed"] += 1
        except PushError as e:
            log.warning("refused key push from %s: %s: %s", inc.msg.src, type(e).__name__, e)
            self.stats["pushes_refused"] += 1
            status, code = "rejected", 2
        keys = self.verifier.senders.get(inc.msg.src)
        tag = response_tag(keys, code, push.key_name, push.replay_counter) if keys else b""
        return Message.of("Push_Key.response", dst=inc.msg.src, status=status, key_name=push.key_name,
                          replay_counter=push.replay_counter, integrity_tag=tag)
