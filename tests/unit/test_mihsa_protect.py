"""Protected MIH PDUs (node_agents.mihsa envelope, SA and hook): layout, every refusal by type, replay
window, limits and rekey, policy table, counters and log-once."""
from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from node_agents.mih import Message, decode, encode
from node_agents.mih.codepoints import ACTIONS, HEADER_BITS, TLVS
from node_agents.mih.errors import MihDecodeError, MihEncodeError
from node_agents.mih.samples import MN, POS, POS2, corpus, link_up, wifi, STA, AP1
from node_agents.mihsa import (CLEAR, INITIATOR, POLICY, RESPONDER, ExpiredSa, MihSecurity, MihSecurityError,
                               Replayed, Retransmission, SaLimits, SecurityAssociation, Tampered, UnknownSa,
                               Unprotected, eap_sa_keys, may_be_clear)
from node_agents.mihsa.fuzz import fuzz

MSK = bytes(range(64))


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _pair(clock: Clock, suite: int = 1, said: int = 0x11223344, limits: SaLimits = SaLimits(), msk: bytes = MSK,
          n: int = 1) -> tuple[MihSecurity, MihSecurity]:
    mn, pos = MihSecurity(MN, clock=clock, grace=5.0), MihSecurity(POS, clock=clock, grace=5.0)
    _install(mn, pos, clock, suite, said, limits, msk, n)
    return mn, pos


def _install(mn: MihSecurity, pos: MihSecurity, clock: Clock, suite: int = 1, said: int = 0x11223344,
             limits: SaLimits = SaLimits(), msk: bytes = MSK, n: int = 1) -> None:
    k = eap_sa_keys(msk, bytes([n]) * 32, bytes([n + 1]) * 32, suite, said, MN, POS)
    pos.install(SecurityAssociation(k, POS, MN, RESPONDER, clock(), limits))           # before its AUTH goes out
    mn.install(SecurityAssociation(k, MN, POS, INITIATOR, clock(), limits), confirmed=True)  # after checking it


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_layout_decrypts_independently(clock: Clock) -> None:
    """The envelope as docs/mih-security.md draws it, opened with AESCCM directly."""
    mn, _ = _pair(clock)
    pdu = encode(link_up(tid=0x123))
    out = mn.outbound(pdu)
    ids_end = 8 + 2 + pdu[9] + 2 + pdu[11 + pdu[9]]
    assert out[:4] == pdu[:4] and out[4] == pdu[4] | 0x40 and out[5] == pdu[5]
    assert HEADER_BITS["S"].value == 0x40 and int.from_bytes(out[6:8], "big") == len(out) - 8
    assert out[8:ids_end] == pdu[8:ids_end]                  # Src, Dst in the clear
    assert out[ids_end] == TLVS["protected_payload"].value == 174
    body = out[ids_end + 2:]
    assert out[ids_end + 1] == len(body)
    assert body[:4] == bytes.fromhex("11223344") and body[4:12] == (1).to_bytes(8, "big")
    k = eap_sa_keys(MSK, bytes([1]) * 32, bytes([2]) * 32, 1, 0x11223344, MN, POS)
    aad = bytes([out[0] & 0xFE, out[1] & 1, out[2], out[3], out[4], out[5]]) + out[8:ids_end] + body[:12]
    nonce = b"\x01" + body[:12]                              # direction 1 (initiator) | SAID | SEQ
    assert AESCCM(k.miek_ir, 16).decrypt(nonce, body[12:], aad) == pdu[ids_end:]
    assert mn.outbound(pdu)[ids_end + 2 + 4:ids_end + 2 + 12] == (2).to_bytes(8, "big")


@pytest.mark.parametrize("suite", [1, 2])
def test_round_trip_every_sample_both_directions(clock: Clock, suite: int) -> None:
    mn, pos = _pair(clock, suite)
    for m in corpus() + [Message.of("Link_Up.indication", src=MN, dst=POS, link_id=wifi(STA, AP1))]:
        if {m.src, m.dst} != {MN, POS}:
            continue
        tx, rx = (mn, pos) if m.src == MN else (pos, mn)
        sealed = tx.outbound(encode(m))
        assert sealed[4] & 0x40 and encode(m)[8 + 3:] not in sealed   # payload no longer in the clear
        assert decode(rx.inbound(sealed)) == m
    assert pos.stats["received_protected"] > 3 and mn.stats["received_protected"] >= 3


def test_every_single_bit_flip_is_refused(clock: Clock) -> None:
    mn, pos = _pair(clock)
    good = mn.outbound(encode(link_up()))
    seen = set()
    for i in range(len(good)):
        for bit in (0, 6, 7):
            bad = bytearray(good)
            bad[i] ^= 1 << bit
            with pytest.raises((MihSecurityError, MihDecodeError)) as e:
                pos.inbound(bytes(bad))
            seen.add(type(e.value).__name__)
    assert {"Tampered", "UnknownSa", "Unprotected", "MihDecodeError"} <= seen
    assert pos.sas[(MN, 0x11223344)].window.top == 0             # no forgery moved the window
    assert decode(pos.inbound(good)) == link_up()                # the genuine PDU still passes


def test_unprotected_when_required(clock: Clock) -> None:
    mn, pos = _pair(clock)
    with pytest.raises(Unprotected, match="Link_Up.indication"):
        pos.inbound(encode(link_up()))
    cap = encode(Message.of("Capability_Discover.request", src=MN, dst=POS))
    assert pos.inbound(cap) == cap                               # discovery may come in the clear
    lone = MihSecurity("mn9@mihsec.test", clock=clock)
    with pytest.raises(Unprotected, match="requires an SA"):
        lone.outbound(encode(Message.of("Link_Up.indication", src="mn9@mihsec.test", dst=POS,
                                        link_id=wifi(STA))))
    auth = encode(Message.of("Auth.request", src="mn9@mihsec.test", dst=POS, eap_payload=b"\x02\x01\x00\x04"))
    assert lone.outbound(auth) == auth                           # Auth goes out before any SA exists
    assert pos.stats["rx_unprotected"] == 1 and lone.stats["tx_unprotected"] == 1


def test_clear_messages_use_only_a_confirmed_sa(clock: Clock) -> None:
    """The PoS installs the new SA before sending its AUTH: that Auth must not be sealed under an SA the MN
    cannot have yet; once the MN uses the SA, Auth travels protected too."""
    mn, pos = _pair(clock)
    auth = encode(Message.of("Auth.response", src=POS, dst=MN, status="success", sa_id=0x11223344))
    assert pos.outbound(auth) == auth
    pos.inbound(mn.outbound(encode(link_up())))
    assert pos.outbound(auth) != auth and decode(mn.inbound(pos.outbound(auth))).fields["sa_id"] == 0x11223344


def test_replay_window(clock: Clock) -> None:
    mn, pos = _pair(clock)
    pdus = [mn.outbound(encode(link_up(tid=i))) for i in range(1, 101)]
    pos.inbound(pdus[99])                                        # SEQ 100 first
    for i in (98, 40, 37):                                      # out of order, inside the window
        assert decode(pos.inbound(pdus[i])).tid == i + 1
    with pytest.raises(Replayed, match="left of the replay window"):
        pos.inbound(pdus[35])                                    # SEQ 36 <= 100 - 64
    clock.t += 16                                                # past dup_window
    with pytest.raises(Replayed, match="already accepted") as e:
        pos.inbound(pdus[99])
    assert not isinstance(e.value, Retransmission)
    assert pos.stats["rx_replayed"] == 2


def test_exact_retransmission_is_reported_with_its_plaintext(clock: Clock) -> None:
    """A lost ACK makes the endpoint resend the same sealed bytes: recognised (not a drop), not re-delivered."""
    mn, pos = _pair(clock)
    sealed = mn.outbound(encode(link_up(tid=5)))
    first = pos.inbound(sealed)
    with pytest.raises(Retransmission) as e:
        pos.inbound(sealed)
    assert e.value.plain == first and pos.stats["retransmissions"] == 1 and pos.stats["rx_replayed"] == 0
    forged = bytearray(sealed)
    forged[-1] ^= 1                                              # same SEQ, other tag: a replay, not a copy
    with pytest.raises(Replayed) as e2:
        pos.inbound(bytes(forged))
    assert not isinstance(e2.value, Retransmission)


def test_unknown_sa_and_reflection(clock: Clock) -> None:
    mn, pos = _pair(clock)
    sealed = mn.outbound(encode(link_up()))
    with pytest.raises(UnknownSa):
        mn.inbound(sealed)                                       # reflected back to its sender
    stranger = MihSecurity(POS2, clock=clock)
    with pytest.raises(UnknownSa):
        stranger.inbound(sealed)
    assert pos.delete(MN) == 1
    with pytest.raises(UnknownSa):
        pos.inbound(sealed)
    _install(mn, pos, clock, said=0x55, msk=bytes(64))           # SAID 0x55, other keys
    other = mn.outbound(encode(link_up()))
    assert decode(pos.inbound(other)) == link_up()


def test_wrong_key_same_said_is_tampered(clock: Clock) -> None:
    mn, _ = _pair(clock)
    _, pos = _pair(clock, msk=bytes(64))
    with pytest.raises(Tampered):
        pos.inbound(mn.outbound(encode(link_up())))


def test_lifetime_expiry_and_rekey_signal(clock: Clock) -> None:
    due = []
    mn, pos = _pair(clock, limits=SaLimits(lifetime=100, rekey_fraction=0.5))
    mn.on_rekey = due.append
    mn.outbound(encode(link_up()))
    clock.t += 60
    sealed = mn.outbound(encode(link_up()))
    mn.outbound(encode(link_up()))
    assert [sa.said for sa in due] == [0x11223344]               # signalled once
    clock.t += 41
    with pytest.raises(ExpiredSa):
        pos.inbound(sealed)
    with pytest.raises(ExpiredSa, match="every SA"):
        mn.outbound(encode(link_up()))
    cap = encode(Message.of("Capability_Discover.request", src=MN, dst=POS))
    assert mn.outbound(cap) == cap                               # so a new Auth can still run


def test_packet_limit_and_forgery_limit(clock: Clock) -> None:
    mn, pos = _pair(clock, limits=SaLimits(max_packets=8, max_forgeries=3, rekey_fraction=0.5))
    sealed = [mn.outbound(encode(link_up())) for _ in range(8)]
    assert mn.stats["rekeys_due"] == 1
    with pytest.raises(ExpiredSa):
        mn.outbound(encode(link_up()))
    for _ in range(3):
        bad = bytearray(sealed[0])
        bad[-3] ^= 0x10
        with pytest.raises(Tampered):
            pos.inbound(bytes(bad))
    with pytest.raises(ExpiredSa, match="integrity limit"):
        pos.inbound(sealed[0])                                   # too many forgeries: the key is done


def test_rekey_switches_over_and_retires_the_old_sa(clock: Clock) -> None:
    mn, pos = _pair(clock)
    old = mn.outbound(encode(link_up()))
    late_old = mn.outbound(encode(link_up()))
    pos.inbound(old)
    _install(mn, pos, clock, said=0x99, n=7)                     # new Auth run: PoS unconfirmed, MN confirmed
    new = mn.outbound(encode(link_up()))
    assert new[8:].find(bytes.fromhex("00000099")) > 0           # MN switched to the new SA at once
    before = pos.outbound(encode(Message.of("Link_Actions.request", src=POS, dst=MN, link_actions_list=())))
    assert before[8:].find(bytes.fromhex("11223344")) > 0        # PoS: old SA until the MN is seen on the new
    assert decode(pos.inbound(new)) == link_up()                 # the PoS now knows the MN holds it
    assert decode(pos.inbound(late_old)) == link_up()            # in flight under the old SA: still fine
    clock.t += 6                                                  # past the grace period
    with pytest.raises(ExpiredSa):
        pos.inbound(old)                                         # the old SA is gone for good
    rsp = pos.outbound(encode(Message.of("Link_Actions.request", src=POS, dst=MN, link_actions_list=())))
    assert rsp[8:].find(bytes.fromhex("00000099")) > 0


def test_outbound_refuses_foreign_or_sealed_input(clock: Clock) -> None:
    mn, _ = _pair(clock)
    with pytest.raises(MihEncodeError, match="not this MIHF"):
        mn.outbound(encode(Message.of("Link_Up.indication", src=POS, dst=MN, link_id=wifi(STA))))
    with pytest.raises(MihEncodeError, match="already protected"):
        mn.outbound(mn.outbound(encode(link_up())))
    with pytest.raises(MihEncodeError, match="65535"):
        mn.outbound(encode(Message.of("LL_Auth.request", src=MN, dst=POS, link_id=wifi(STA),
                                      ll_info=bytes(65460))))
    with pytest.raises(MihDecodeError):
        mn.outbound(b"\x10\x00")


def test_disabled_hook_passes_everything(clock: Clock) -> None:
    off = MihSecurity(POS, enabled=False, clock=clock)
    pdu = encode(link_up())
    assert off.inbound(pdu) == pdu and off.outbound(pdu) == pdu


def test_counters_and_log_once(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mihsec.mihsa")
    mn, pos = _pair(clock)
    sealed = bytearray(mn.outbound(encode(link_up())))
    sealed[-1] ^= 1
    for _ in range(5):
        with pytest.raises(Tampered):
            pos.inbound(bytes(sealed), ("10.0.0.9", 4551))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "rx_tampered" in warnings[0].getMessage()
    assert pos.stats["rx_tampered"] == 5 == pos.drops[(("10.0.0.9", 4551), "rx_tampered")]
    for secret in (MSK.hex(), eap_sa_keys(MSK, bytes([1]) * 32, bytes([2]) * 32, 1, 0x11223344, MN, POS).miek_ir.hex()):
        assert secret not in caplog.text


def test_forged_source_ids_cannot_grow_the_drop_table(clock: Clock) -> None:
    _, pos = _pair(clock)
    for i in range(1100):
        with pytest.raises(Unprotected):
            pos.inbound(encode(Message.of("Link_Up.indication", src=f"x{i}@evil", dst=POS, link_id=wifi(STA))))
    assert len(pos.drops) == 1025 and pos.drops[("other", "rx_unprotected")] == 1100 - 1024


def test_policy_table() -> None:
    assert set(POLICY) == set(ACTIONS)
    assert {a for a, r in POLICY.items() if r == CLEAR} == {"Capability_Discover", "Auth"}
    assert may_be_clear(link_up().spec.mid) is False and may_be_clear(0xFFFF) is False
    assert may_be_clear(Message.of("Auth.indication", src=MN, dst=POS).spec.mid)


def test_fuzz_protected_decoder(capsys: pytest.CaptureFixture) -> None:
    """A modest run here; `mihsec mihsa fuzz --count 1000000` is the long one."""
    res = fuzz(30_000, seed=5)
    with capsys.disabled():
        print(f"\nprotected-decoder fuzz: {res.total} inputs: {dict(sorted(res.outcomes.items()))}")
    assert res.crashes == [] and res.total == 30_000
    kinds = {o.split(": ")[1] for o in res.outcomes}
    assert {"accepted", "Tampered", "UnknownSa", "Unprotected", "MihDecodeError"} <= kinds


def test_docs_policy_table_matches() -> None:
    """docs/mih-security.md's policy table names exactly the CLEAR actions of policy.py as clear."""
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[2] / "docs" / "mih-security.md").read_text()
    section = doc.split("## Policy table")[1].split("\n## ")[0]
    rows = [r.split("|")[1:3] for r in section.splitlines() if r.startswith("| ") and "---" not in r][1:]
    clear = {a.strip() for names, rule in rows if rule.strip() == "clear" for a in names.split(",")}
    assert clear == {a for a, r in POLICY.items() if r == CLEAR}


def test_copy_with_the_accepted_tag_but_other_bytes_is_tampered(clock: Clock) -> None:
    """Same SEQ and tag as an accepted PDU, ciphertext changed: not a retransmission, a forgery."""
    mn, pos = _pair(clock)
    sealed = mn.outbound(encode(link_up(tid=5)))
    pos.inbound(sealed)
    bad = bytearray(sealed)
    bad[-20] ^= 1                                                # inside the ciphertext, tag kept
    with pytest.raises(Tampered):
        pos.inbound(bytes(bad))
    assert pos.stats["retransmissions"] == 0 and pos.sas[(MN, 0x11223344)].forgeries == 1
