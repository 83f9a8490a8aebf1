"""PMK/PMKID derivation and the protected PoS -> PoA key push (node_agents.keys)."""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os

import pytest

from node_agents.keys import (AKM_8021X, ForgedPush, KeyPush, PushError, PushKeys, PushSender, PushVerifier,
                              ReplayedPush, pmk_from_msk, pmkid, response_tag)

MN, POA = "02:00:00:00:0e:00", "02:00:00:00:0b:00"


def test_pmkid_known_answer() -> None:
    """Published vector (hashcat modes 16800/16801 self-test, src/modules/module_16801.c): passphrase "hashcat!",
    ESSID ed48..3f3a -> PMK 5b13..8a9d; AA 46:04:ba:73:4d:4e, SPA 89:ac:f0:e7:61:f4 -> PMKID 2582..1c61."""
    pmk = hashlib.pbkdf2_hmac("sha1", b"hashcat!", bytes.fromhex("ed487162465a774bfba60eb603a39f3a"), 4096, 32)
    assert pmk.hex() == "5b13d4babb3714ccc62c9f71864bc984efd6a55f237c7a87fc2151e1ca658a9d"
    assert pmkid(pmk, "46:04:ba:73:4d:4e", "89-ac-f0-e7-61-f4").hex() == "2582a8281bf9d4308d6f5731d0e61c61"
    assert pmkid(pmk, bytes.fromhex("4604ba734d4e"), bytes.fromhex("89acf0e761f4")).hex() == \
        "2582a8281bf9d4308d6f5731d0e61c61"
    # AA and SPA are not interchangeable
    assert pmkid(pmk, "89:ac:f0:e7:61:f4", "46:04:ba:73:4d:4e").hex() != "2582a8281bf9d4308d6f5731d0e61c61"


def test_pmk_is_first_half_of_msk() -> None:
    msk = bytes(range(64))
    assert pmk_from_msk(msk) == bytes(range(32))
    with pytest.raises(ValueError):
        pmk_from_msk(bytes(32))


def test_aes_key_wrap_rfc3394_vector() -> None:
    """RFC 3394 4.6 (256-bit key data, 256-bit KEK): the wrap the push relies on."""
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap
    kek = bytes(range(32))
    data = bytes.fromhex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
    assert aes_key_wrap(kek, data).hex().upper() == \
        "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"


@pytest.fixture
def pair() -> tuple[PushSender, PushVerifier, bytes]:
    keys = PushKeys.derive(os.urandom(32))
    return PushSender(keys), PushVerifier({"pos-b@mihsec.test": keys}), os.urandom(32)


def test_push_round_trip(pair: tuple[PushSender, PushVerifier, bytes], caplog: pytest.LogCaptureFixture) -> None:
    sender, verifier, pmk = pair
    caplog.set_level(logging.DEBUG)
    p = sender.push(pmk, MN, POA, lifetime=3600)
    assert p.key_name == pmkid(pmk, POA, MN) and p.akm_suite == AKM_8021X and len(p.wrapped_key) == 40
    assert pmk not in p.wrapped_key and len(p.integrity_tag) == 16
    assert verifier.verify("pos-b@mihsec.test", p, own_poa=POA) == pmk
    p2 = sender.push(pmk, MN, POA)
    assert p2.replay_counter > p.replay_counter
    assert verifier.verify("pos-b@mihsec.test", p2) == pmk
    assert pmk.hex() not in caplog.text and p.key_name.hex() in caplog.text  # PMKIDs only, never keys
    assert sender.keys.kek.hex() not in repr(sender.keys) and repr(sender.keys.kek) not in repr(sender.keys)


def _flip(value: object) -> object:
    if isinstance(value, bytes):
        return bytes([value[0] ^ 1]) + value[1:]
    assert isinstance(value, int)
    return value ^ 1


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(KeyPush)])
def test_tampered_field_is_forged(pair: tuple[PushSender, PushVerifier, bytes], name: str) -> None:
    sender, verifier, pmk = pair
    p = sender.push(pmk, MN, POA)
    bad = dataclasses.replace(p, **{name: _flip(getattr(p, name))})
    with pytest.raises(ForgedPush):
        verifier.verify("pos-b@mihsec.test", bad)
    assert verifier.last == {}  # a forgery advances nothing
    assert verifier.verify("pos-b@mihsec.test", p) == pmk  # the genuine push still passes


def test_replay_rejected(pair: tuple[PushSender, PushVerifier, bytes]) -> None:
    sender, verifier, pmk = pair
    old, new = sender.push(pmk, MN, POA), sender.push(pmk, MN, POA)
    assert verifier.verify("pos-b@mihsec.test", new) == pmk
    with pytest.raises(ReplayedPush):
        verifier.verify("pos-b@mihsec.test", new)  # the same push again
    with pytest.raises(ReplayedPush):
        verifier.verify("pos-b@mihsec.test", old)  # an older one, delivered late


def test_restarted_sender_keeps_counting_up(pair: tuple[PushSender, PushVerifier, bytes]) -> None:
    sender, verifier, pmk = pair
    verifier.verify("pos-b@mihsec.test", sender.push(pmk, MN, POA))
    restarted = PushSender(sender.keys)  # counter state lost: the clock seed keeps it above the old ones
    assert verifier.verify("pos-b@mihsec.test", restarted.push(pmk, MN, POA)) == pmk


def test_wrong_key_unknown_sender_and_other_poa(pair: tuple[PushSender, PushVerifier, bytes]) -> None:
    sender, verifier, pmk = pair
    stranger = PushSender(PushKeys.derive(os.urandom(32)))
    with pytest.raises(ForgedPush):
        verifier.verify("pos-b@mihsec.test", stranger.push(pmk, MN, POA))
    with pytest.raises(ForgedPush):
        verifier.verify("pos-x@mihsec.test", sender.push(pmk, MN, POA))
    with pytest.raises(PushError):
        verifier.verify("pos-b@mihsec.test", sender.push(pmk, MN, POA), own_poa="02:00:00:00:0c:00")


def test_consistent_tag_but_wrong_pmkid_is_forged(pair: tuple[PushSender, PushVerifier, bytes]) -> None:
    """A sender bug (PMKID for another PoA) must not install a key the station will not use."""
    sender, verifier, pmk = pair
    from node_agents import keys as k
    p = sender.push(pmk, MN, POA)
    p = dataclasses.replace(p, key_name=pmkid(pmk, "02:00:00:00:0c:00", MN))
    p = dataclasses.replace(p, integrity_tag=k._tag(sender.keys, p))
    with pytest.raises(ForgedPush, match="PMKID"):
        verifier.verify("pos-b@mihsec.test", p)


def test_response_tag_binds_fields() -> None:
    keys = PushKeys.derive(bytes(32))
    t = response_tag(keys, 0, b"\x01" * 16, 7)
    assert len(t) == 16 and t != response_tag(keys, 1, b"\x01" * 16, 7) != response_tag(keys, 0, b"\x01" * 16, 8)
    with pytest.raises(ValueError):
        PushKeys.derive(bytes(16))
