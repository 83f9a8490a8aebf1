"""MIH SAs between network entities (PoS <-> PoA for Push_Key, PoA <-> PoA for LL_Auth) from a per-run key.

A STAND-IN for 802.21a's TLS mode: the plan draws one random key per pair of network entities that signal
(testbed/plan.py, written 0600 into both agents' configs). The SA itself is set up afresh each time one
side needs it (and after either side restarted), with fresh nonces, so no two SAs share keys or nonces:

    initiator                                   responder
    Auth.request {nonce N_I}           ------>  picks SAID, N_R; derives; installs (unconfirmed)
             <------ Auth.response {nonce N_R, sa_id, ciphersuite, AUTH_R}
    derives, checks AUTH_R, installs (confirmed)
    Auth.request {AUTH_I}  == sealed ==>        checks AUTH_I
             <====== Auth.response {status}

Keys: kdf.tls_sa_keys with an "exporter" = HKDF(salt = N_I || N_R, IKM = per-run key), expanded with the
exporter label and context; transcript = the canonical payload of the first Auth.request. What this
loses against real TLS: no certificate authentication of the peer and no forward secrecy; the key is as
good as the files it lives in. A TLS handshake carried in MIH is not built (Python's ssl has no exporter).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from node_agents.mih import Message, MihError, MihfEndpoint
from node_agents.mihsa import (INITIATOR, RESPONDER, MihSecurity, SaKeys, SaLimits, SecurityAssociation,
                               confirm_tag, tls_sa_keys, transcript_hash)
from node_agents.mihsa.kdf import check_confirm
from node_agents.secure.auth import SaError, payload

log = logging.getLogger("mihsec.secure")
SUITE = 1  # AES-128-CCM-16, the mandatory suite
LIFETIME = 24 * 3600.0


def network_keys(secret: bytes, n_i: bytes, n_r: bytes, said: int, initiator: str, responder: str) -> SaKeys:
    if len(secret) < 32:
        raise ValueError(f"per-run SA key has {len(secret)} octets, needs 32")
    if len(n_i) != 32 or len(n_r) != 32 or n_i == n_r:
        raise ValueError("two distinct 32-octet nonces are needed")
    prk = hmac.new(n_i + n_r, secret, hashlib.sha256).digest()

    def exporter(label: str, ctx: bytes, length: int) -> bytes:
        return HKDFExpand(hashes.SHA256(), length, label.encode() + b"\x00" + ctx).derive(prk)

    return tls_sa_keys(exporter, SUITE, said, initiator, responder)


class NetworkSas:
    """The per-run-key SAs of one agent with its network peers: ensure() before sending, handle() Auth."""

    def __init__(self, mihf: MihfEndpoint, sec: MihSecurity, keys: dict[str, str]):
        self.mihf, self.sec = mihf, sec
        self.keys = {peer: bytes.fromhex(k) for peer, k in keys.items()}
        self.pending: dict[str, tuple[SaKeys, bytes, SecurityAssociation]] = {}  # responder: peer -> run
        self._locks: dict[str, asyncio.Lock] = {}
        self.stats = {"established": 0, "refused": 0}

    def knows(self, peer: str) -> bool:
        return peer in self.keys

    def forget(self, peer: str) -> None:
        if self.sec.enabled and self.sec.delete(peer):
            log.info("MIH SA with %s dropped: no answer under it", peer)

    async def ensure(self, peer: str) -> None:
        if not self.sec.enabled or peer not in self.keys:
            return
        async with self._locks.setdefault(peer, asyncio.Lock()):
            if self.sec.current(peer, self.sec.clock(), confirmed_only=True) is None:
                await self._initiate(peer)

    async def _initiate(self, peer: str) -> None:
        me, n_i = self.mihf.mihf_id, os.urandom(32)
        req = Message.of("Auth.request", nonce=n_i)
        try:
            r = (await self.mihf.request(peer, req)).fields
            if r.get("status") != "success" or not all(k in r for k in ("nonce", "sa_id", "auth_tag")):
                raise SaError(f"{peer} refused the SA (status {r.get('status')})")
            keys = network_keys(self.keys[peer], n_i, r["nonce"], r["sa_id"], me, peer)
            th = transcript_hash([payload(req, me, peer)])
            if not check_confirm(keys, RESPONDER, th, r["auth_tag"]):
                raise SaError(f"AUTH_R from {peer} does not verify: it does not hold this run's key")
            sa = SecurityAssociation(keys, me, peer, INITIATOR, self.sec.clock(), SaLimits(lifetime=LIFETIME))
            self.sec.install(sa, confirmed=True)
            c = await self.mihf.request(peer, Message.of("Auth.request", auth_tag=confirm_tag(keys, INITIATOR, th)))
            if c.fields.get("status") != "success":
                self.sec.delete(peer, sa.said)
                raise SaError(f"{peer} refused the key confirmation")
        except (MihError, ValueError) as e:
            self.stats["refused"] += 1
            log.warning("MIH SA with %s not established: %s", peer, e)
            raise SaError(f"MIH SA with {peer}: {e}") from e
        self.stats["established"] += 1
        log.info("MIH SA 0x%08x with %s established (per-run key)", sa.said, peer)

    def handle(self, req: Message) -> Message:
        """The responder's side of both Auth.request steps from a network peer."""
        peer, f, me = req.src, req.fields, self.mihf.mihf_id
        if "nonce" in f:
            old = self.pending.pop(peer, None)
            if old is not None and not old[2].confirmed:
                self.sec.delete(peer, old[2].said)
            used = {sa.said for sa in self.sec.by_peer.get(peer, ())}
            said = next(s for s in iter(lambda: int.from_bytes(os.urandom(4), "big"), None) if s and s not in used)
            n_r = os.urandom(32)
            try:
                keys = network_keys(self.keys[peer], f["nonce"], n_r, said, peer, me)
            except ValueError as e:
                log.warning("MIH SA request from %s refused: %s", peer, e)
                return Message.of("Auth.response", dst=peer, status="rejected")
            th = transcript_hash([payload(req, peer, me)])
            sa = SecurityAssociation(keys, me, peer, RESPONDER, self.sec.clock(), SaLimits(lifetime=LIFETIME))
            self.sec.install(sa)
            self.pending[peer] = (keys, th, sa)
            return Message.of("Auth.response", dst=peer, status="success", nonce=n_r, sa_id=said,
                              ciphersuite=SUITE, auth_tag=confirm_tag(keys, RESPONDER, th))
        run = self.pending.pop(peer, None)
        if run is None or "auth_tag" not in f or not check_confirm(run[0], INITIATOR, run[1], f["auth_tag"]):
            if run is not None:
                self.sec.delete(peer, run[2].said)
            self.stats["refused"] += 1
            return Message.of("Auth.response", dst=peer, status="rejected")
        self.stats["established"] += 1
        log.info("MIH SA 0x%08x with %s established (per-run key)", run[2].said, peer)
        return Message.of("Auth.response", dst=peer, status="success")
