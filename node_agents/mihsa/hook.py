"""MihSecurity: the protect/unprotect hook of one MIHF on the byte path encode -> protect -> fragment /
reassemble -> unprotect -> decode.

outbound(pdu, peer) seals a whole PDU under the SA with its Destination MIHF ID, or lets a CLEAR message
(policy.py) through when no confirmed SA exists. inbound(pdu, peer) opens a protected PDU, checking in
this order: structure (MihDecodeError), policy (Unprotected), SA lookup by (Src, SAID) and Dst
(UnknownSa), SA state (ExpiredSa), replay window (Replayed / Retransmission), AEAD tag (Tampered).
Every refusal is counted in `stats` under its reason and logged once per (peer, reason); later ones
are counted only, so a flood cannot flood the log. At most MAX_TRACKED (peer, reason) pairs are kept:
past that, refusals from new peers are counted under ("other", reason) and not logged, so forged
Source IDs cannot grow memory or the log without bound. IDs are logged with repr() (no log injection).
`peer` (a transport address, or anything hashable) names the sender in logs and counters only: SAs
bind MIHF IDs, not addresses, which change on handover.
Not thread-safe: one event loop owns a hook.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Callable, Hashable

from ..mih.errors import MihDecodeError, MihEncodeError
from ..mih.messages import BY_MID
from .envelope import envelope, open_, parse, seal
from .errors import ExpiredSa, MihSecurityError, Replayed, Retransmission, Tampered, UnknownSa, Unprotected
from .policy import may_be_clear
from .sa import SecurityAssociation

log = logging.getLogger("mihsec.mihsa")
MAX_TRACKED = 1024


def _name(mid: int) -> str:
    spec = BY_MID.get(mid)
    return spec.name if spec else f"MID 0x{mid:04x}"


class MihSecurity:
    def __init__(self, local_id: str, *, enabled: bool = True, clock: Callable[[], float] = time.monotonic,
                 grace: float = 5.0, on_rekey: Callable[[SecurityAssociation], None] | None = None):
        self.local_id, self.enabled, self.clock, self.grace, self.on_rekey = local_id, enabled, clock, grace, on_rekey
        self.sas: dict[tuple[str, int], SecurityAssociation] = {}    # (peer MIHF ID, SAID) -> SA
        self.by_peer: dict[str, list[SecurityAssociation]] = {}      # peer MIHF ID -> SAs, oldest first
        self.stats: Counter[str] = Counter()
        self.drops: Counter[tuple[Hashable, str]] = Counter()

    # ---- SA table ----
    def install(self, sa: SecurityAssociation, confirmed: bool = False) -> None:
        """Add an SA. confirmed=True when the peer is known to hold it already (it sent a valid key
        confirmation after installing); otherwise it becomes confirmed with its first valid PDU."""
        if sa.local_id != self.local_id:
            raise ValueError(f"SA for {sa.local_id}, this hook protects {self.local_id}")
        key = (sa.peer_id, sa.said)
        if key in self.sas:
            raise ValueError(f"SAID 0x{sa.said:08x} already in use with {sa.peer_id}")
        self.sas[key] = sa
        self.by_peer.setdefault(sa.peer_id, []).append(sa)
        log.info("MIH SA 0x%08x with %s installed (%s)", sa.said, sa.peer_id, sa.suite.name)
        if confirmed:
            self._confirmed(sa, self.clock())

    def delete(self, peer_id: str, said: int | None = None) -> int:
        """Delete the SAs with a peer (one SAID, or all); returns how many."""
        gone = [sa for sa in self.by_peer.get(peer_id, []) if said is None or sa.said == said]
        for sa in gone:
            sa.deleted = True
            del self.sas[(peer_id, sa.said)]
            self.by_peer[peer_id].remove(sa)
        if not self.by_peer.get(peer_id, True):
            del self.by_peer[peer_id]
        return len(gone)

    def _confirmed(self, sa: SecurityAssociation, now: float) -> None:
        sa.confirmed = True
        for old in self.by_peer.get(sa.peer_id, []):
            if old is not sa and old.created <= sa.created:
                old.retired_by(sa, now, self.grace)

    def current(self, peer_id: str, now: float, confirmed_only: bool) -> SecurityAssociation | None:
        """The SA to seal with: the newest confirmed live one; else (unless confirmed_only) the newest live."""
        sas = self.by_peer.get(peer_id)
        if sas and (sa := sas[-1]).confirmed and sa.seq < sa.max_packets and sa.dead(now) is None:
            return sa  # the common case
        live = [sa for sa in self.by_peer.get(peer_id, ()) if sa.dead(now) is None and sa.seq < sa.max_packets]
        for sa in reversed(live):
            if sa.confirmed:
                return sa
        return None if confirmed_only or not live else live[-1]

    # ---- the hook ----
    def outbound(self, pdu: bytes, peer: Hashable = None) -> bytes:
        if not self.enabled:
            return pdu
        p = parse(pdu)
        if p.protected:
            raise MihEncodeError(_name(p.mid), "already protected (header bit S set)")
        if p.src != self.local_id:
            raise MihEncodeError(_name(p.mid), f"Source {p.src!r} is not this MIHF ({self.local_id!r})")
        now, clear_ok = self.clock(), may_be_clear(p.mid)
        sa = self.current(p.dst, now, confirmed_only=clear_ok)
        if sa is None:
            if clear_ok:
                self.stats["sent_clear"] += 1
                return pdu
            if self.by_peer.get(p.dst):
                raise self._refuse("tx", ExpiredSa(f"{_name(p.mid)} to {p.dst!r}: every SA with it has ended"),
                                   peer or p.dst)
            raise self._refuse("tx", Unprotected(f"{_name(p.mid)} to {p.dst!r} requires an SA and there is none"),
                               peer or p.dst)
        out = seal(sa, pdu, p, sa.next_seq(now))
        self.stats["sent_protected"] += 1
        self._maybe_rekey(sa, now)
        return out

    def inbound(self, pdu: bytes, peer: Hashable = None) -> bytes:
        if not self.enabled:
            return pdu
        try:
            p = parse(pdu)
            who = peer if peer is not None else p.src
            if not p.protected:
                if may_be_clear(p.mid):
                    self.stats["received_clear"] += 1
                    return pdu
                raise Unprotected(f"{_name(p.mid)} from {p.src!r} arrived unprotected; policy requires an SA")
            e = envelope(pdu, p)
        except MihDecodeError as err:
            self.stats["malformed"] += 1
            self._log_once(peer, "malformed", err)
            raise
        except MihSecurityError as err:
            raise self._refuse("rx", err, who) from None
        now = self.clock()
        sa = self.sas.get((p.src, e.said))
        if sa is None or sa.local_id != p.dst:
            err = UnknownSa(f"{_name(p.mid)}: no SA 0x{e.said:08x} from {p.src!r} to {p.dst!r}")
            raise self._refuse("rx", err, who)
        why = sa.dead(now)
        if why:
            raise self._refuse("rx", ExpiredSa(f"SA 0x{sa.said:08x} with {p.src!r}: {why}"), who)
        copy = False
        try:
            sa.window.check(e.seq)
        except Replayed as err:
            rec = sa.recent.get(e.seq)
            if not (rec and rec[0] == e.tag and now - rec[1] <= sa.limits.dup_window):
                raise self._refuse("rx", err, who) from None
            copy = True  # the same SEQ and tag as an accepted PDU: a retransmission if it authenticates
        try:
            plain = open_(sa, pdu, p, e)
        except Tampered as err:
            sa.forgeries += 1
            raise self._refuse("rx", err, who) from None
        if copy:
            self.stats["retransmissions"] += 1
            raise Retransmission(f"{_name(p.mid)} SEQ {e.seq} from {p.src!r}: retransmitted copy", plain)
        if not sa.confirmed:
            self._confirmed(sa, now)
        sa.accepted(e.seq, e.tag, now)
        self.stats["received_protected"] += 1
        self._maybe_rekey(sa, now)
        return plain

    # ---- counting and logging ----
    def _maybe_rekey(self, sa: SecurityAssociation, now: float) -> None:
        if not sa.rekey_signalled and sa.rekey_due(now):
            sa.rekey_signalled = True
            self.stats["rekeys_due"] += 1
            log.info("MIH SA 0x%08x with %s: rekey due (seq %d, %.0f s old)", sa.said, sa.peer_id, sa.seq,
                     now - sa.created)
            if self.on_rekey:
                self.on_rekey(sa)

    def refuse(self, way: str, err: MihSecurityError, who: Hashable) -> MihSecurityError:
        """Count and log (once per peer and reason) a refusal decided outside the hook; returns err to raise."""
        return self._refuse(way, err, who)

    def _refuse(self, way: str, err: MihSecurityError, who: Hashable) -> MihSecurityError:
        self.stats[f"{way}_{err.reason}"] += 1
        self.stats[f"{way}_dropped"] += 1
        self._log_once(who, f"{way}_{err.reason}", err)
        return err

    def _log_once(self, who: Hashable, reason: str, err: Exception) -> None:
        key = (who, reason)
        if key not in self.drops and len(self.drops) >= MAX_TRACKED:
            self.drops[("other", reason)] += 1
            return
        self.drops[key] += 1
        if self.drops[key] == 1:
            log.warning("MIH PDU %s %r dropped (%s): %s; further ones are counted, not logged",
                        "to" if reason.startswith("tx") else "from", who, reason, err)
