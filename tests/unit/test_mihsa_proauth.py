"""Proactive-authentication keys (node_agents.mihsa.proauth): channel binding to the target authenticator,
deletion on Pro_Auth_Termination, lifetimes cut to the parent's."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from node_agents.keys import pmkid
from node_agents.mihsa import NoProactiveKey, ProactiveKeys, bound_key

MN, X, Y = "mn1@mihsec.test", "pos-b@mihsec.test", "pos-c@mihsec.test"
STA, AA_X, AA_Y = "02:00:00:00:01:00", "02:00:00:00:0b:01", "02:00:00:00:0c:01"
ROOT = bytes(range(64))


class Clock:
    t = 100.0

    def __call__(self) -> float:
        return self.t


def test_bound_key_formula() -> None:
    info = (len(MN).to_bytes(2, "big") + MN.encode() + len(X).to_bytes(2, "big") + X.encode() +
            bytes.fromhex(AA_X.replace(":", "")) + bytes.fromhex(STA.replace(":", "")))
    want = HKDF(hashes.SHA256(), 32, salt=b"mihsec proactive v1", info=info).derive(ROOT)
    assert bound_key(ROOT, MN, X, AA_X, STA) == want


def test_key_for_x_is_useless_at_y() -> None:
    """What X holds is not what the MN expects at Y: another PMK, another PMKID, so Y's 4-way handshake fails;
    and a rogue AP replaying X's key under its own BSSID fails the same way."""
    k_x = bound_key(ROOT, MN, X, AA_X, STA)
    k_y = bound_key(ROOT, MN, Y, AA_Y, STA)
    assert k_x != k_y
    assert pmkid(k_x, AA_Y, STA) != pmkid(k_y, AA_Y, STA)      # X's key presented at Y: PMKID mismatch
    assert bound_key(ROOT, MN, X, AA_Y, STA) != k_x            # X's identity, Y's BSSID: another key
    assert bound_key(ROOT, MN, Y, AA_X, STA) != k_x            # Y claiming to be at X's BSSID: another key
    assert bound_key(ROOT, "mn2@mihsec.test", X, AA_X, STA) != k_x
    with pytest.raises(ValueError):
        bound_key(bytes(16), MN, X, AA_X, STA)


def test_store_scopes_keys_per_authenticator() -> None:
    clock = Clock()
    keys = ProactiveKeys(clock)
    name = keys.add(MN, X, ROOT, AA_X, STA, lifetime=60, parent_expires=clock.t + 3600)
    key, got = keys.get(MN, X)
    assert got == name == pmkid(key, AA_X, STA) and key == bound_key(ROOT, MN, X, AA_X, STA)
    with pytest.raises(NoProactiveKey):
        keys.get(MN, Y)                                          # no key of X is handed to Y


def test_termination_deletes_keys() -> None:
    clock = Clock()
    keys = ProactiveKeys(clock)
    for auth, aa in ((X, AA_X), (Y, AA_Y)):
        keys.add(MN, auth, ROOT, aa, STA, 60, clock.t + 3600)
    keys.add("mn2@mihsec.test", X, ROOT, AA_X, "02:00:00:00:02:00", 60, clock.t + 3600)
    entry = keys._keys[(MN, X)]
    assert keys.terminate(MN, X) == 1 and entry.key == bytearray(32)   # wiped, not only dropped
    with pytest.raises(NoProactiveKey):
        keys.get(MN, X)
    assert keys.get(MN, Y)
    assert keys.terminate(MN) == 1 and len(keys) == 1           # everywhere; the other MN's key stays
    assert keys.terminate(MN) == 0


def test_lifetime_enforced_and_cut_to_parent() -> None:
    clock = Clock()
    keys = ProactiveKeys(clock)
    keys.add(MN, X, ROOT, AA_X, STA, lifetime=600, parent_expires=clock.t + 30)   # parent ends first
    keys.add(MN, Y, ROOT, AA_Y, STA, lifetime=10, parent_expires=clock.t + 3600)
    clock.t += 10
    with pytest.raises(NoProactiveKey):
        keys.get(MN, Y)
    assert keys.get(MN, X)
    clock.t += 20
    assert keys.expire() == 1 and len(keys) == 0
    with pytest.raises(ValueError):
        keys.add(MN, X, ROOT, AA_X, STA, lifetime=60, parent_expires=clock.t)      # dead parent
    with pytest.raises(ValueError):
        keys.add(MN, X, ROOT, AA_X, STA, lifetime=0, parent_expires=clock.t + 60)


def test_readding_replaces_and_wipes_the_old_key() -> None:
    clock = Clock()
    keys = ProactiveKeys(clock)
    keys.add(MN, X, ROOT, AA_X, STA, 60, clock.t + 3600)
    old = keys._keys[(MN, X)]
    keys.add(MN, X, bytes(64), AA_X, STA, 60, clock.t + 3600)
    assert old.key == bytearray(32) and keys.get(MN, X)[0] == bound_key(bytes(64), MN, X, AA_X, STA)
    live = keys._keys[(MN, X)]
    assert repr(bytes(live.key)) not in repr(live) and bytes(live.key).hex() not in repr(live)
