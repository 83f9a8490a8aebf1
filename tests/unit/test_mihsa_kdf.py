"""MIH SA key schedule (node_agents.mihsa.kdf): published vectors for the primitives, and the provisional
schedule recomputed independently with `cryptography`'s HKDF from the formula in the module docstring."""
from __future__ import annotations

import hashlib
import hmac
import logging
import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from node_agents.keys import PushSender, PushVerifier
from node_agents.mihsa import kdf
from node_agents.mihsa.kdf import (check_confirm, confirm_tag, eap_sa_keys, hkdf_extract, push_keys, tls_sa_keys,
                                   transcript_hash)

MN, POS = "mn1@mihsec.test", "pos-a@mihsec.test"
MSK = bytes(range(64))
N_I, N_R = bytes([0xA5]) * 32, bytes([0x5A]) * 32


def test_hkdf_sha256_rfc5869_case1() -> None:
    """RFC 5869 A.1: the extract and expand the schedule is built on."""
    ikm, salt, info = bytes([0x0B]) * 22, bytes(range(13)), bytes(range(0xF0, 0xFA))
    prk = hkdf_extract(salt, ikm)
    assert prk.hex() == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    assert HKDFExpand(hashes.SHA256(), 42, info).derive(prk).hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")


def test_aes_ccm_rfc3610_packet_vector_1() -> None:
    """RFC 3610 8, packet vector #1 (8-octet tag; the suite uses the same AES-CCM with a 16-octet tag)."""
    key = bytes(range(0xC0, 0xD0))
    nonce = bytes.fromhex("00000003020100A0A1A2A3A4A5")
    packet = bytes(range(0x1F))
    out = AESCCM(key, 8).encrypt(nonce, packet[8:], packet[:8])
    assert out.hex().upper() == "588C979A61C663D2F066D0C2C0F989806D5F6B61DAC38417E8D12CFDF926E0"


def test_aes_gcm_mcgrew_viega_test_case_3() -> None:
    """The GCM specification's test case 3 (AES-128, 96-bit IV, no AAD)."""
    key = bytes.fromhex("feffe9928665731c6d6a8f9467308308")
    iv = bytes.fromhex("cafebabefacedbaddecaf888")
    p = bytes.fromhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255")
    out = AESGCM(key).encrypt(iv, p, None)
    assert out.hex() == ("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                         "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
                         "4d5c2af327cd64a62cf35abd2ba6fab4")


def _ctx(suite: int, said: int, i: str, r: str) -> bytes:
    return bytes([suite]) + said.to_bytes(4, "big") + len(i).to_bytes(2, "big") + i.encode() + \
        len(r).to_bytes(2, "big") + r.encode()


def _independent(salt: bytes, ikm: bytes, name: bytes, ctx: bytes, n: int) -> bytes:
    """One key per the docstring, with cryptography's one-shot HKDF (extract and expand in one)."""
    return HKDF(hashes.SHA256(), n, salt=salt, info=b"mihsec MIH-SA v1 " + name + b"\x00" + ctx).derive(ikm)


@pytest.mark.parametrize("suite", [1, 2])
def test_eap_sa_keys_match_formula(suite: int) -> None:
    k = eap_sa_keys(MSK, N_I, N_R, suite, 0x01020304, MN, POS)
    ctx = _ctx(suite, 0x01020304, MN, POS)
    assert k.miik == _independent(N_I + N_R, MSK, b"MIIK", ctx, 32)
    assert k.miek_ir == _independent(N_I + N_R, MSK, b"MIEK-IR", ctx, 16)
    assert k.miek_ri == _independent(N_I + N_R, MSK, b"MIEK-RI", ctx, 16)
    assert k.ms_root == _independent(N_I + N_R, MSK, b"MS-ROOT", ctx, 64)
    assert len({k.miik[:16], k.miek_ir, k.miek_ri, k.ms_root[:16]}) == 4


def test_eap_sa_keys_pinned_vector() -> None:
    """Pinned output of the provisional schedule (recomputed above from the formula): any change to the
    schedule breaks interoperability with peers built from docs/mih-security.md and must show up here."""
    k = eap_sa_keys(MSK, N_I, N_R, 1, 0x01020304, MN, POS)
    assert k.miek_ir.hex() == _independent(N_I + N_R, MSK, b"MIEK-IR", _ctx(1, 0x01020304, MN, POS), 16).hex()
    assert k.miek_ir.hex() == "c46dc36013613d29acbeef03ac5da888"


@pytest.mark.parametrize("change", ["msk", "n_i", "n_r", "suite", "said", "swap_ids", "other_mn"])
def test_every_input_changes_every_key(change: str) -> None:
    args = dict(msk=MSK, n_i=N_I, n_r=N_R, suite_id=1, said=7, initiator_id=MN, responder_id=POS)
    base = eap_sa_keys(**args)
    if change == "msk":
        args["msk"] = bytes([1]) + MSK[1:]
    elif change == "n_i":
        args["n_i"] = bytes(31) + b"\x01"
    elif change == "n_r":
        args["n_r"] = bytes(31) + b"\x01"
    elif change == "suite":
        args["suite_id"] = 2
    elif change == "said":
        args["said"] = 8
    elif change == "swap_ids":
        args["initiator_id"], args["responder_id"] = POS, MN
    else:
        args["initiator_id"] = "mn2@mihsec.test"
    other = eap_sa_keys(**args)
    for name in ("miik", "miek_ir", "miek_ri", "ms_root"):
        assert getattr(base, name) != getattr(other, name), name


@pytest.mark.parametrize("bad, match", [
    (dict(msk=bytes(32)), "MSK"), (dict(n_i=bytes(16)), "nonces"), (dict(n_r=N_I), "equal"),
    (dict(suite_id=9), "ciphersuite"), (dict(said=0), "SAID"), (dict(said=1 << 32), "SAID"),
    (dict(responder_id=MN), "distinct"), (dict(initiator_id=""), "distinct")])
def test_bad_inputs_named(bad: dict, match: str) -> None:
    args = dict(msk=MSK, n_i=N_I, n_r=N_R, suite_id=1, said=7, initiator_id=MN, responder_id=POS) | bad
    with pytest.raises(ValueError, match=match):
        eap_sa_keys(**args)


def test_tls_exporter_variant() -> None:
    """Both ends of a TLS-mode SA call their exporter with the same label and context and get the same keys;
    the keys follow the formula from the exporter output."""
    secret = bytes(range(48))  # stands in for the TLS exporter master secret both ends share
    calls = []

    def exporter(label: str, context: bytes, n: int) -> bytes:
        calls.append((label, context, n))
        return hmac.new(secret, label.encode() + context, hashlib.sha256).digest()[:n]

    a = tls_sa_keys(exporter, 2, 99, "pos-a@mihsec.test", "ap-a@mihsec.test")
    b = tls_sa_keys(exporter, 2, 99, "pos-a@mihsec.test", "ap-a@mihsec.test")
    ctx = _ctx(2, 99, "pos-a@mihsec.test", "ap-a@mihsec.test")
    assert calls[0] == ("EXPORTER-mihsec-MIH-SA-v1", ctx, 32) == calls[1]
    prk = exporter("EXPORTER-mihsec-MIH-SA-v1", ctx, 32)
    assert a == b and a.miek_ir == HKDFExpand(hashes.SHA256(), 16, b"mihsec MIH-SA v1 MIEK-IR\x00" + ctx).derive(prk)
    assert tls_sa_keys(exporter, 2, 99, "pos-a@mihsec.test", "ap-b@mihsec.test").miik != a.miik
    with pytest.raises(ValueError, match="exporter"):
        tls_sa_keys(lambda *a: bytes(16), 1, 1, "a", "b")


def test_push_keys_from_tls_sa_replace_the_static_key() -> None:
    """A PoS-PoA SA yields the Push_Key keys: the PoA of the same SA verifies, one of another SA does not."""
    ex = lambda label, ctx, n: hashlib.sha256(b"shared" + ctx).digest()[:n]  # noqa: E731
    sa = tls_sa_keys(ex, 1, 5, "pos-a@mihsec.test", "ap-a@mihsec.test")
    other = tls_sa_keys(ex, 1, 6, "pos-a@mihsec.test", "ap-a@mihsec.test")
    push = PushSender(push_keys(sa)).push(bytes(32), "02:00:00:00:01:00", "02:00:00:00:0a:01")
    assert PushVerifier({"pos": push_keys(sa)}).verify("pos", push) == bytes(32)
    with pytest.raises(Exception, match="integrity"):
        PushVerifier({"pos": push_keys(other)}).verify("pos", push)


def test_key_confirmation_detects_rollback() -> None:
    """AUTH covers the transcript: a stripped capability or a changed suite offer fails the check."""
    k = eap_sa_keys(MSK, N_I, N_R, 1, 7, MN, POS)
    offer, stripped = b"cap: eap_sa tls_sa; suites 1 2", b"cap: ; suites 1"
    t = transcript_hash([offer, b"auth-1", b"auth-2"])
    assert t == hashlib.sha256(struct.pack("!I", len(offer)) + offer + struct.pack("!I", 6) + b"auth-1" +
                               struct.pack("!I", 6) + b"auth-2").digest()
    tag = confirm_tag(k, 2, t)
    assert tag == hmac.new(k.miik, b"mihsec MIH-SA AUTH\x02" + t, hashlib.sha256).digest()[:16]
    assert check_confirm(k, 2, t, tag)
    assert not check_confirm(k, 2, transcript_hash([stripped, b"auth-1", b"auth-2"]), tag)
    assert not check_confirm(k, 1, t, tag)  # a reflected tag is the other direction's
    assert transcript_hash([b"ab", b"c"]) != transcript_hash([b"a", b"bc"])


def test_keys_never_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    k = eap_sa_keys(MSK, N_I, N_R, 1, 7, MN, POS)
    for secret in (k.miik, k.miek_ir, k.miek_ri, k.ms_root):
        assert secret.hex() not in repr(k) and repr(secret) not in repr(k)
    assert kdf.NONCE_LEN == 32
