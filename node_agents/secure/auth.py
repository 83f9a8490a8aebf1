"""Service access authentication (802.21a-style, PROVISIONAL message use; docs/mih-security.md): the MIH SA
between an MN's MIHF and a PoS, from EAP carried in MIH Auth messages with the PoS as authenticator and
the AAA server (FreeRADIUS) behind it.

    MN                                              PoS                         AAA
    Capability_Discover.request {sec_cap}  ------->                                       in the clear
                                <------- Capability_Discover.response {sec_cap}
    Auth.request {nonce N_MN, EAP}          ------->  Access-Request  -------->
                   <------- Auth.response {nonce N_PoS, EAP}  <--- Access-Challenge       (rounds)
    ...                                                 <--- Access-Accept (MSK)
                   <------- Auth.response {EAP-Success, SAID, suite, AUTH_R}   PoS installs the SA
    MN derives keys, checks AUTH_R, installs the SA (confirmed)
    Auth.request {AUTH_I}  == sealed under the new SA ==>  PoS checks AUTH_I
                   <====== Auth.response {status}

The EAP peer is the MN's real wpa_supplicant (the second one, driver wired, used for Pro_Auth too),
asked to PREAUTH a pseudo authenticator address derived from the PoS's MIHF ID; the MN agent's EAPOL
relay carries its EAP into the Auth messages. wpa_supplicant exports only MSK[0:32] (its PMKSA's PMK),
so both sides key the SA from that (kdf.pmk_sa_keys). Transcript (key confirmation): the payloads of the
two Capability_Discover messages and of every Auth message up to the MN's last EAP round, re-encoded
canonically; a stripped or altered sec_cap therefore fails AUTH_R at the MN.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field

from node_agents.eapol import ETH_P_PREAUTH, EapolRelay, EapolSession
from node_agents.errors import DaemonError
from node_agents.hostap import Refused, WpaCtrl
from node_agents.keys import pmk_from_msk
from node_agents.mih import Message, MihError, MihfEndpoint
from node_agents.mih.codec import encode_payload
from node_agents.mihsa import (INITIATOR, RESPONDER, MihSecurity, SaKeys, SaLimits, SecurityAssociation,
                               confirm_tag, transcript_hash)
from node_agents.mihsa.kdf import check_confirm, pmk_sa_keys
from node_agents.mihsa.suites import SUITES
from node_agents.radius_relay import RadiusConfig, RadiusEapSession, RadiusError

log = logging.getLogger("mihsec.secure")

MODES = frozenset({"eap_sa", "tls_sa", "proactive", "push_key"})
SUITE_PREFERENCE = (1, 2)  # AES-128-CCM-16 (mandatory), AES-128-GCM-16
EAP_FAILURE_NOID = bytes([4, 0, 0, 4])


class SaError(MihError):
    """Service access authentication failed: no SA was installed (or it was removed again)."""


def pseudo_mac(mihf_id: str) -> str:
    """A locally administered unicast address standing for an MIHF in EAPOL and RADIUS (an MIH Auth carries
    no link-layer address): the EAP peer's PREAUTH target, and the RADIUS Called/Calling-Station-Id."""
    h = hashlib.sha256(mihf_id.encode()).digest()
    return ":".join(f"{b:02x}" for b in bytes([0x02]) + h[:5])


def payload(msg: Message, src: str, dst: str) -> bytes:
    """The canonical TLV payload of a message between src and dst (what the transcript hashes)."""
    return encode_payload(Message.of(msg.name, **{**msg.fields, "src": src, "dst": dst}))[1]


def _sec_cap(msg: Message) -> tuple[frozenset, tuple[int, ...]] | None:
    sc = msg.fields.get("sec_cap")
    return (frozenset(sc[0]), tuple(sc[1])) if sc is not None else None


@dataclass
class SaSupplicant:
    """The MN's side: establish (and re-establish) the SA with a PoS on demand."""
    mihf: MihfEndpoint
    sec: MihSecurity
    peer_port: str  # the agent's end of the EAP peer's veth
    peer_ctrl: str  # the EAP peer's control socket
    lifetime: float = 3600.0
    timeout: float = 60.0
    suites: tuple[int, ...] = SUITE_PREFERENCE
    backoff: float = 10.0  # after a failed attempt with a PoS, ensure() fails at once for this long
    stats: dict[str, int] = field(default_factory=lambda: {"sa_established": 0, "sa_failed": 0})
    # one EAP run at a time through the EAP peer (wpa_supplicant pre-authenticates with one target at a time);
    # Pro_Auth (roles/mn_eap.py) takes the same lock
    peer_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _failed: dict[str, float] = field(default_factory=dict)

    def has_sa(self, pos_id: str) -> bool:
        return self.sec.current(pos_id, self.sec.clock(), confirmed_only=True) is not None

    def forget(self, pos_id: str) -> None:
        """Drop the SAs with a PoS that stopped answering under them (it may have restarted and lost them):
        the next ensure() sets up a new one."""
        if self.sec.enabled and self.sec.delete(pos_id):
            log.info("MIH SA with %s dropped: no answer under it", pos_id)

    async def ensure(self, pos_id: str) -> None:
        """Return once a confirmed SA with the PoS exists (SaError if one cannot be set up)."""
        if not self.sec.enabled:
            return
        lock = self._locks.setdefault(pos_id, asyncio.Lock())
        async with lock:
            if self.has_sa(pos_id):
                return
            if time.monotonic() - self._failed.get(pos_id, -1e9) < self.backoff:  # link events must not
                raise SaError(f"MIH SA with {pos_id}: failed moments ago, not retried yet")  # drive EAP storms
            try:
                await self.establish(pos_id)
            except SaError:
                self._failed[pos_id] = time.monotonic()
                raise

    async def establish(self, pos_id: str) -> dict:
        """One service access authentication with the PoS (also a rekey while an SA is up)."""
        try:
            async with self.peer_lock:
                out = await self._establish(pos_id)
        except (SaError, MihError, DaemonError, asyncio.TimeoutError, TimeoutError) as e:
            self.stats["sa_failed"] += 1
            log.warning("MIH SA with %s not established: %s: %s", pos_id, type(e).__name__, e)
            raise SaError(f"MIH SA with {pos_id}: {e}") from e
        self.stats["sa_established"] += 1
        return out

    async def _establish(self, pos_id: str) -> dict:
        me, t0 = self.mihf.mihf_id, time.monotonic()
        cap = Message.of("Capability_Discover.request", sec_cap=(MODES, self.suites))
        rsp = await self.mihf.request(pos_id, cap)
        theirs = _sec_cap(rsp)
        if theirs is None or "eap_sa" not in theirs[0]:
            raise SaError("the PoS advertises no EAP-based MIH SA in Capability_Discover (no sec_cap)")
        transcript = [payload(cap, me, pos_id), payload(rsp, pos_id, me)]
        n_mn, st = os.urandom(32), {}

        async def handler(sess: EapolSession, eap: bytes) -> bytes | None:
            first = "n_pos" not in st
            msg = Message.of("Auth.request", eap_payload=eap, **({"nonce": n_mn} if first else {}))
            transcript.append(payload(msg, me, pos_id))
            r = await self.mihf.request(pos_id, msg)
            if first:
                if "nonce" not in r.fields:
                    raise SaError("the PoS's first Auth.response carries no nonce")
                st["n_pos"] = r.fields["nonce"]
            if "auth_tag" in r.fields:
                st["final"] = r.fields
            else:
                transcript.append(payload(r, pos_id, me))
            return r.fields.get("eap_payload")

        entry, rounds = await run_eap_peer(self.peer_port, self.peer_ctrl, pseudo_mac(pos_id), handler, self.timeout)
        f = st.get("final")
        if f is None or f.get("status") != "success":
            raise SaError(f"EAP ended without an SA offer (status {f.get('status') if f else None})")
        if f["ciphersuite"] not in self.suites:
            raise SaError(f"the PoS chose ciphersuite {f['ciphersuite']}, which the MN did not offer")
        keys = pmk_sa_keys(bytes.fromhex(entry[2]), n_mn, st["n_pos"], f["ciphersuite"], f["sa_id"], me, pos_id)
        th = transcript_hash(transcript)
        if not check_confirm(keys, RESPONDER, th, f["auth_tag"]):
            raise SaError("AUTH_R does not verify: the capability exchange was altered (downgrade) or the PoS "
                          "does not hold the MSK")
        life = min(self.lifetime, float(f.get("key_lifetime") or self.lifetime))
        sa = SecurityAssociation(keys, me, pos_id, INITIATOR, self.sec.clock(), SaLimits(lifetime=life))
        self.sec.install(sa, confirmed=True)
        try:
            r = await self.mihf.request(pos_id, Message.of("Auth.request", auth_tag=confirm_tag(keys, INITIATOR, th)))
        except MihError:
            self.sec.delete(pos_id, sa.said)
            raise
        if r.fields.get("status") != "success":
            self.sec.delete(pos_id, sa.said)
            raise SaError(f"the PoS refused the key confirmation ({r.fields.get('status')})")
        took = round((time.monotonic() - t0) * 1000, 1)
        log.info("MIH SA 0x%08x with %s established in %.0f ms (%d EAP rounds)", sa.said, pos_id, took, rounds)
        return {"ok": True, "said": sa.said, "suite": sa.suite.name, "duration_ms": took, "eap_rounds": rounds}


async def run_eap_peer(peer_port: str, peer_ctrl: str, target: str, handler, timeout: float) -> tuple[list[str], int]:
    """Ask the EAP peer to PREAUTH `target`; `handler` carries each EAP-Response. Its PMKSA entry for the target
    (PMKSA_GET fields: BSSID, PMKID, PMK, ...) and the number of rounds; SaError when EAP fails."""
    done, rounds, outcome = asyncio.Event(), [0], {}

    async def counted(sess: EapolSession, eap: bytes) -> bytes | None:
        rounds[0] += 1
        return await handler(sess, eap)

    def on_done(sess: EapolSession) -> None:
        outcome["error"] = sess.error
        done.set()

    relay = EapolRelay(peer_port, counted, ethertypes=(ETH_P_PREAUTH,), targets=[target], on_done=on_done)
    relay.start()
    peer = WpaCtrl(peer_ctrl, "wpa_supplicant (EAP peer)")
    try:
        peer.open()
        try:
            ev = await asyncio.to_thread(peer.preauth, target, timeout)
        except Refused:
            raise SaError("PREAUTH refused by the EAP peer") from None
        await asyncio.wait_for(done.wait(), 5)
        if "completed successfully" not in ev.text:
            err = outcome.get("error")
            raise SaError(f"EAP failed: {err!r}" if err else f"EAP failed: {ev.text}")
        entry = next((e for e in peer.pmksa_get(0) if e and e[0] == target), None)
    finally:
        peer.close()
        relay.close()
    if entry is None:
        raise SaError("EAP succeeded but the peer cached no key")
    return entry, rounds[0]


@dataclass
class _Run:
    transcript: list[bytes]
    offered: tuple[int, ...]
    n_mn: bytes = b""
    n_pos: bytes = b""
    radius: RadiusEapSession | None = None
    sa: SecurityAssociation | None = None
    keys: SaKeys | None = field(default=None, repr=False)


class SaAuthenticator:
    """The PoS's side: answer capability discovery, relay Auth EAP to the AAA server, install and confirm SAs."""

    def __init__(self, mihf: MihfEndpoint, sec: MihSecurity, radius: RadiusConfig | None, lifetime: float = 3600.0,
                 suites: tuple[int, ...] = SUITE_PREFERENCE):
        self.mihf, self.sec, self.radius, self.lifetime, self.suites = mihf, sec, radius, lifetime, suites
        self.runs: dict[str, _Run] = {}
        self.stats = {"sa_established": 0, "sa_refused": 0, "auth_rounds": 0}
        # test-only: act out an on-path attacker on the capability exchange. "strip_sec_cap": the MN gets a
        # response without sec_cap; "alter_offer": the MN's offer arrives with its suite list cut to (2,)
        self.fault: str | None = None

    def capability(self, req: Message, events: frozenset[str]) -> Message:
        """Capability_Discover.response; with security on it advertises sec_cap, and the run's transcript starts."""
        fields: dict = {"status": "success", "event_list": events, "transport_list": frozenset({"UDP"})}
        if self.sec.enabled and self.fault != "strip_sec_cap":
            fields["sec_cap"] = (MODES, self.suites)
        rsp = Message.of("Capability_Discover.response", dst=req.src, **fields)
        if self.fault == "alter_offer" and "sec_cap" in req.fields:
            req = Message.of(req.name, **{**req.fields, "sec_cap": (req.fields["sec_cap"][0], (2,))})
        theirs = _sec_cap(req)
        if self.sec.enabled and theirs is not None:
            old = self.runs.pop(req.src, None)
            if old is not None and old.sa is not None and not old.sa.confirmed:  # the MN never confirmed it
                self.sec.delete(req.src, old.sa.said)
            me = self.mihf.mihf_id
            self.runs[req.src] = _Run([payload(req, req.src, me), payload(rsp, me, req.src)], theirs[1])
        return rsp

    def _answer(self, to: str, status: str, **fields) -> Message:
        return Message.of("Auth.response", dst=to, status=status, **fields)

    async def auth(self, req: Message) -> Message:
        mn, f = req.src, req.fields
        run = self.runs.get(mn)
        if "auth_tag" in f and "eap_payload" not in f:
            return self._confirm(mn, run, f["auth_tag"])
        eap = f.get("eap_payload") or b""
        if "nonce" in f:  # a new run (also a rekey)
            if run is None or run.radius is not None or run.sa is not None:
                self.stats["sa_refused"] += 1
                log.warning("Auth from %s without a fresh Capability_Discover: refused", mn)
                return self._answer(mn, "rejected", eap_payload=_failure(eap))
            run.n_mn, run.n_pos = f["nonce"], os.urandom(32)
            if self.radius is None:
                del self.runs[mn]
                return self._answer(mn, "rejected", eap_payload=_failure(eap))
            run.radius = RadiusEapSession(self.radius, pseudo_mac(mn), called_station=pseudo_mac(self.mihf.mihf_id))
        elif run is None or run.radius is None:
            return self._answer(mn, "rejected", eap_payload=_failure(eap))
        first = "nonce" in f
        me = self.mihf.mihf_id
        run.transcript.append(payload(req, mn, me))
        self.stats["auth_rounds"] += 1
        try:
            reply = await run.radius.relay(eap)
        except (RadiusError, ValueError) as e:
            log.warning("Auth from %s: AAA exchange failed: %s", mn, e)
            self.runs.pop(mn, None)
            return self._answer(mn, "unspecified_failure", eap_payload=_failure(eap))
        extra = {"nonce": run.n_pos} if first else {}
        if reply.accepted is None:
            rsp = self._answer(mn, "success", eap_payload=reply.eap, **extra)
            run.transcript.append(payload(rsp, me, mn))
            return rsp
        if not reply.accepted:
            self.runs.pop(mn, None)
            self.stats["sa_refused"] += 1
            return self._answer(mn, "rejected", eap_payload=reply.eap, **extra)
        suite_id = next((s for s in run.offered if s in self.suites and s in SUITES), None)
        if suite_id is None:
            self.runs.pop(mn, None)
            self.stats["sa_refused"] += 1
            return self._answer(mn, "rejected", eap_payload=_failure(eap), **extra)
        said = self._said(mn)
        assert reply.msk is not None
        keys = pmk_sa_keys(pmk_from_msk(reply.msk), run.n_mn, run.n_pos, suite_id, said, mn, me)
        life = min(self.lifetime, float(reply.session_timeout or self.lifetime))
        run.sa = SecurityAssociation(keys, me, mn, RESPONDER, self.sec.clock(), SaLimits(lifetime=life))
        self.sec.install(run.sa)  # unconfirmed: the MN's first sealed PDU confirms it
        run.radius = None
        tag = confirm_tag(keys, RESPONDER, transcript_hash(run.transcript))
        run.keys = keys
        return self._answer(mn, "success", eap_payload=reply.eap, sa_id=said, ciphersuite=suite_id, auth_tag=tag,
                            key_lifetime=int(life), **extra)

    def _confirm(self, mn: str, run: _Run | None, tag: bytes) -> Message:
        if run is None or run.sa is None:
            return self._answer(mn, "rejected")
        del self.runs[mn]
        if run.keys is None or not check_confirm(run.keys, INITIATOR, transcript_hash(run.transcript), tag):
            self.sec.delete(mn, run.sa.said)
            self.stats["sa_refused"] += 1
            log.warning("MIH SA 0x%08x with %s: AUTH_I does not verify, SA deleted", run.sa.said, mn)
            return self._answer(mn, "rejected")
        self.stats["sa_established"] += 1
        log.info("MIH SA 0x%08x with %s established", run.sa.said, mn)
        return self._answer(mn, "success")

    def _said(self, mn: str) -> int:
        used = {sa.said for sa in self.sec.by_peer.get(mn, ())}
        while True:
            said = int.from_bytes(os.urandom(4), "big")
            if said and said not in used:
                return said


def _failure(eap: bytes) -> bytes:
    return bytes([4, eap[1] if len(eap) > 1 else 0, 0, 4])
