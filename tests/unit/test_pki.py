"""The EAP-TLS PKI: a CA that signed server and client certificates with the right usages; keys 0600."""
from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from testbed.pki import generate


def _load(p: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(p.read_bytes())


def test_chain_and_usages(tmp_path: Path) -> None:
    pki = generate(tmp_path / "pki", "aaa.example", ["sta1@example", "sta2@example"])
    ca, server = _load(pki.ca_cert), _load(pki.server_cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for leaf, eku in [(server, ExtendedKeyUsageOID.SERVER_AUTH)] + [
            (_load(c), ExtendedKeyUsageOID.CLIENT_AUTH) for c, _ in pki.clients.values()]:
        leaf.verify_directly_issued_by(ca)
        assert list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [eku]
        assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert _load(pki.clients["sta2@example"][0]).subject.rfc4514_string().startswith("CN=sta2@example")
    for key in [pki.server_key, tmp_path / "pki" / "ca.key"] + [k for _, k in pki.clients.values()]:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "pki").stat().st_mode) == 0o700


def test_reuses_existing_material(tmp_path: Path) -> None:
    a = generate(tmp_path, "aaa", ["u1"])
    before = a.server_cert.read_bytes()
    b = generate(tmp_path, "aaa", ["u1", "u2"])
    assert b.server_cert.read_bytes() == before
    _load(b.clients["u2"][0]).verify_directly_issued_by(_load(b.ca_cert))
    assert isinstance(_load(b.ca_cert).public_key(), ec.EllipticCurvePublicKey)
