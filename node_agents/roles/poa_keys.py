"""PoA side of Push_Key: verify, unwrap, install into hostapd (PMKSA_ADD) and confirm."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from node_agents.keys import KeyPush, PushError, PushKeys, PushVerifier, response_tag
from node_agents.mih import Incoming, Message
from testbed.daemons.ctrl import CtrlSocket

if TYPE_CHECKING:
    from node_agents.roles.poa import PoaRole

log = logging.getLogger("mihsec.agent.poa")


def _verifier(role: "PoaRole") -> PushVerifier:
    if not hasattr(role, "verifier"):
        role.verifier = PushVerifier({pos: PushKeys.derive(bytes.fromhex(k))
                                      for pos, k in role.extra.get("push_keys", {}).items()})
    return role.verifier


def _install(ctrl: str, sta: str, pmkid: str, pmk: str, lifetime: int) -> str:
    with CtrlSocket(ctrl, "hostapd") as c:
        return c.request(f"PMKSA_ADD {sta} {pmkid} {pmk} {lifetime} 1").strip()


async def handle_push_key(role: "PoaRole", inc: Incoming) -> Message:
    f = inc.msg.fields
    push = KeyPush(bytes.fromhex(f["mn_link_addr"].value.replace(":", "")),
                   bytes.fromhex(f["poa"].value.replace(":", "")), f["key_name"], f["wrapped_key"],
                   f.get("key_lifetime", 43200), f.get("akm_suite", 0x000FAC01), f["replay_counter"],
                   f["integrity_tag"])
    verifier = _verifier(role)
    status, code = "success", 0
    try:
        pmk = verifier.verify(inc.msg.src, push, own_poa=role.bssid)
        reply = await asyncio.to_thread(_install, role.extra["hostapd_ctrl"], f["mn_link_addr"].value,
                                        push.key_name.hex(), pmk.hex(), push.key_lifetime)
        if reply != "OK":
            status, code = "unspecified_failure", 1
            log.warning("hostapd refused PMKSA_ADD for %s: %s", f["mn_link_addr"].value, reply)
        else:
            log.info("installed PMKSA for %s (PMKID %s) from %s", f["mn_link_addr"].value, push.key_name.hex(),
                     inc.msg.src)
        role.stats["keys_installed"] = role.stats.get("keys_installed", 0) + int(code == 0)
    except PushError as e:
        log.warning("refused key push from %s: %s: %s", inc.msg.src, type(e).__name__, e)
        role.stats["pushes_refused"] = role.stats.get("pushes_refused", 0) + 1
        status, code = "rejected", 2
    keys = verifier.senders.get(inc.msg.src)
    tag = response_tag(keys, code, push.key_name, push.replay_counter) if keys else b""
    return Message.of("Push_Key.response", dst=inc.msg.src, status=status, key_name=push.key_name,
                      replay_counter=push.replay_counter, integrity_tag=tag)
