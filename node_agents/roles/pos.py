"""PoS agent (a domain's point of service / target authenticator): relays proactive-authentication EAP
(MIH Pro_Auth) to the AAA server over RADIUS and, on Access-Accept, pushes the PMK to the target PoA
agent (Push_Key, AES key wrap + HMAC, replay counter). The MN gets EAP-Success only once the PoA has
confirmed the install, so an MN never holds a key its target does not. It is also the domain's
information server (Get_Information: networks, PoAs and their authenticators, see node_agents/info.py)."""
from __future__ import annotations

import logging
import time

from node_agents.info import networks_ie
from node_agents.keys import AKM_8021X, PushKeys, PushSender, pmk_from_msk, response_tag
from node_agents.mih import Incoming, Message, MihError, MihPeerDeadError, MihTransactionTimeout
from node_agents.mih.compound import Alt
from node_agents.radius_relay import RadiusConfig, RadiusEapSession, RadiusError
from node_agents.roles.base import EVENTS, Role
from node_agents.secure import SaAuthenticator

log = logging.getLogger("mihsec.agent.pos")


LINK_EVENTS = {"Link_Up.indication", "Link_Down.indication", "Link_Going_Down.indication",
               "Link_Detected.indication"}


def _poa(link_tuple) -> str:
    return link_tuple.poa_addr.value if link_tuple.poa_addr else "-"


def _failure(eap_req: bytes) -> bytes:
    ident = eap_req[1] if len(eap_req) > 1 else 0
    return bytes([4, ident, 0, 4])  # EAP-Failure


class PosRole(Role):
    async def start(self) -> None:
        x = self.extra
        self.radius = RadiusConfig(server=x["aaa_ip"], secret=x["radius_secret"].encode(), nas_identifier=x["nas_id"],
                                   nas_ip=x.get("own_ip") or "0.0.0.0") if x.get("aaa_ip") else None
        self.senders = {poa: PushSender(PushKeys.derive(bytes.fromhex(k))) for poa, k in x.get("push_keys", {}).items()}
        for poa_id, ip in x.get("poa_ips", {}).items():
            self.mihf.add_peer(poa_id, ip)
        # BSSID -> PoA MIHF ID, for the PoAs of this domain
        self.poa_by_bssid = {p["bssid"]: p["mihf_id"] for net in x.get("is_db", []) for p in net["poas"]
                             if p.get("mihf_id") in self.senders}
        self.sessions: dict[tuple[str, str], RadiusEapSession] = {}
        self.hops: dict[tuple[str, str], list[dict]] = {}  # (MN, PoA) -> stamps of its last conversation
        self.auth = SaAuthenticator(self.mihf, self.sec, self.radius)  # service access authentication (MIH SAs)
        self.stats = {"sa": self.auth.stats, "pro_auth": 0, "accepts": 0, "rejects": 0, "pushes": 0,
                      "push_failures": 0, "info": 0,
                      "ho_commit": 0, "ho_complete": 0, "events": {}}

    async def on_mih(self, inc: Incoming) -> Message | None | bool:
        name = inc.msg.name
        if name == "Capability_Discover.request":
            return self.auth.capability(inc.msg, EVENTS)
        if name == "Auth.request":
            return await self.auth.auth(inc.msg)
        if name == "Get_Information.request":
            return self._information(inc.msg)
        if name in LINK_EVENTS:  # the MNs' link SAPs report to their point of service
            event = name.split(".")[0]
            self.stats["events"][event] = self.stats["events"].get(event, 0) + 1
            log.info("%s from %s", name, inc.msg.src)
            return None
        if name == "MN_HO_Commit.request":
            return self._commit(inc.msg)
        if name == "MN_HO_Complete.request":
            self.stats["ho_complete"] += 1
            f = inc.msg.fields
            log.info("MN_HO_Complete from %s: %s -> %s, %s", inc.msg.src, _poa(f["link_id"]), _poa(f["new_link_id"]),
                     f["ho_result"])
            return Message.of("MN_HO_Complete.response", dst=inc.msg.src, status="success")
        if inc.msg.name != "Pro_Auth.request":
            return False
        self.stats["pro_auth"] += 1
        f = inc.msg.fields
        mn_mac, poa_mac, eap = f["mn_link_addr"].value, f["poa"].value, f["eap_payload"]
        key = (mn_mac, poa_mac)
        log.debug("Pro_Auth from %s (%s) for %s: EAP code %d, %d octets", inc.msg.src, mn_mac, poa_mac,
                  eap[0] if eap else -1, len(eap))
        rec = {"id": eap[1] if len(eap) > 1 else -1, "pos_rx": inc.state.seen}  # see node_agents/hops.py

        def answer(status: str, eap_out: bytes, key_name: bytes | None = None) -> Message:
            rec["pos_tx"] = time.monotonic()
            extra = {"key_name": key_name} if key_name else {}
            return Message.of("Pro_Auth.response", dst=inc.msg.src, status=status, eap_payload=eap_out,
                              mn_mihf_id=f.get("mn_mihf_id", inc.msg.src), poa=f["poa"], **extra)

        if self.sec.enabled and f.get("mn_mihf_id", inc.msg.src) != inc.msg.src:  # bound to the SA's identity
            log.warning("Pro_Auth from %s names another MN (%s): refused", inc.msg.src, f.get("mn_mihf_id"))
            return answer("rejected", _failure(eap))
        if self.radius is None or poa_mac not in self.poa_by_bssid:
            log.warning("Pro_Auth for %s: not an authenticator of this domain", poa_mac)
            return answer("rejected", _failure(eap))
        if eap[:1] == b"\x02" and len(eap) > 4 and eap[4] == 1:  # a new Response/Identity: a new conversation
            old = self.sessions.pop(key, None)
            if old:
                old.close()
            self.hops.pop(key, None)
            if len(self.hops) > 64:  # stamps of conversations nobody asked for
                self.hops.pop(next(iter(self.hops)))
        self.hops.setdefault(key, []).append(rec)
        sess = self.sessions.get(key)
        if sess is None:
            sess = self.sessions[key] = RadiusEapSession(self.radius, mn_mac, called_station=poa_mac)
        try:
            reply = await sess.relay(eap)
            rec["aaa_tx"], rec["aaa_rx"] = sess.sent_at, sess.reply_at
        except RadiusError as e:
            log.warning("AAA server unreachable for %s: %s", mn_mac, e)
            self.sessions.pop(key, None)
            return answer("unspecified_failure", _failure(eap))
        if reply.accepted is None:
            return answer("success", reply.eap)
        self.sessions.pop(key, None)
        sess.close()
        if not reply.accepted:
            self.stats["rejects"] += 1
            return answer("rejected", reply.eap)
        self.stats["accepts"] += 1
        rec["push_tx"] = time.monotonic()
        key_name = await self._push(reply.msk, mn_mac, poa_mac)
        rec["push_rx"] = time.monotonic()
        if key_name is None:
            return answer("unspecified_failure", _failure(eap))  # never let the MN install a key the PoA lacks
        return answer("success", reply.eap, key_name)  # the PoA's PMKID: the MN checks it against its own

    def _commit(self, req: Message) -> Message:
        """An MN commits to a handover: permitted when the target is a PoA the information service knows."""
        tgt = req.fields["target_network_info"]
        known = {p["bssid"] for net in self.extra.get("is_db", []) for p in net["poas"]}
        ok = tgt.tag == "link_addr" and tgt.value.value in known
        self.stats["ho_commit"] += 1
        log.info("MN_HO_Commit from %s to %s: %s", req.src, tgt.value.value if tgt.tag == "link_addr" else tgt.value,
                 "permitted" if ok else "unknown target")
        return Message.of("MN_HO_Commit.response", dst=req.src, status="success" if ok else "rejected",
                          link_type=req.fields["link_type"], target_network_info=tgt)

    def _information(self, req: Message) -> Message:
        """The information service: the networks asked for (IQ_BIN_DATA network IDs), or all of them."""
        only = {n for q in req.fields.get("iq_bin_data_list", ()) for n in (q.netwk_inc or ())}
        self.stats["info"] += 1
        data = networks_ie(self.extra.get("is_db", []), only or None)
        log.info("Get_Information from %s: %d network(s)", req.src, len(data[0].value))
        return Message.of("Get_Information.response", dst=req.src, status="success", ir_bin_data_list=(data,))

    async def _push(self, msk: bytes, mn: str, poa: str) -> bytes | None:
        """The PMKID the PoA confirmed it installed, or None."""
        poa_id = self.poa_by_bssid[poa]
        if self.extra.get("fault") == "wrong_mn":  # fault injection: bind the key to another station
            mn = "02:00:00:00:ee:ee"
        p = self.senders[poa_id].push(pmk_from_msk(msk), mn, poa, akm_suite=AKM_8021X)
        msg = Message.of("Push_Key.request", dst=poa_id, mn_link_addr=Alt("mac", mn), poa=Alt("mac", poa),
                         key_name=p.key_name, wrapped_key=p.wrapped_key, key_lifetime=p.key_lifetime,
                         akm_suite=p.akm_suite, replay_counter=p.replay_counter, integrity_tag=p.integrity_tag)
        try:
            await self.net.ensure(poa_id)
            rsp = await self.mihf.request(poa_id, msg)
        except MihError as e:
            log.warning("key push to %s failed: %s", poa_id, e)
            if isinstance(e, (MihPeerDeadError, MihTransactionTimeout)):
                self.net.forget(poa_id)  # it may have restarted without our SA
            self.stats["push_failures"] += 1
            return None
        keys = self.senders[poa_id].keys
        ok = rsp.fields.get("status") == "success" and rsp.fields.get("key_name") == p.key_name and \
            rsp.fields.get("integrity_tag") == response_tag(keys, 0, p.key_name, p.replay_counter)
        self.stats["pushes" if ok else "push_failures"] += 1
        if not ok:
            log.warning("key push to %s not confirmed (status %s)", poa_id, rsp.fields.get("status"))
        return p.key_name if ok else None

    async def command(self, req: dict) -> dict | None:
        if req.get("cmd") == "stats":
            return {"ok": True, **self.stats}
        if req.get("cmd") == "hops":  # per-hop stamps of the last conversation of an MN (node_agents/hops.py)
            return {"ok": True, "records": {f"{mn} {poa}": recs for (mn, poa), recs in self.hops.items()
                                            if mn == req.get("mn")}}
        if req.get("cmd") == "fault":  # fault injection for tests: {"fault": "wrong_mn"} or {"fault": null}
            self.extra["fault"] = req.get("fault")
            self.auth.fault = req.get("fault")  # "strip_sec_cap" / "alter_offer": a downgrade attempt
            return {"ok": True}
        return None


ROLE = PosRole
