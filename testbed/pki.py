"""A throw-away PKI for EAP-TLS: one CA, one AAA server certificate, one client certificate per identity."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Pki:
    dir: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    dh: Path | None = None
    clients: dict[str, tuple[Path, Path]] = field(default_factory=dict)  # identity -> (cert, key)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mihsec testbed"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _issue(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, issuer_key: ec.EllipticCurvePrivateKey,
           *, ca: bool = False, eku: list[x509.ObjectIdentifier] | None = None) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    # Backdated: the VM guest clock can differ from the host's that issued the certificate.
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                      key_encipherment=False, data_encipherment=False,
                                                      key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                      encipher_only=False, decipher_only=False), critical=True)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def generate(directory: Path, server_name: str, identities: list[str]) -> Pki:
    """Write CA, server and client credentials into `directory` (keys 0600); reuse what exists."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_cert_p, ca_key_p = directory / "ca.pem", directory / "ca.key"
    if ca_cert_p.exists() and ca_key_p.exists():
        ca_key = serialization.load_pem_private_key(ca_key_p.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(ca_cert_p.read_bytes())
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _issue("mihsec test CA", ca_key, _name("mihsec test CA"), ca_key, ca=True)
        _write_key(ca_key_p, ca_key)
        ca_cert_p.write_bytes(_pem(ca_cert))

    def leaf(stem: str, cn: str, eku: x509.ObjectIdentifier) -> tuple[Path, Path]:
        cert_p, key_p = directory / f"{stem}.pem", directory / f"{stem}.key"
        if not (cert_p.exists() and key_p.exists()):
            key = ec.generate_private_key(ec.SECP256R1())
            _write_key(key_p, key)
            cert_p.write_bytes(_pem(_issue(cn, key, ca_cert.subject, ca_key, eku=[eku])))
        return cert_p, key_p

    server_cert, server_key = leaf("server", server_name, ExtendedKeyUsageOID.SERVER_AUTH)
    pki = Pki(directory, ca_cert_p, server_cert, server_key)
    for identity in identities:
        stem = "client-" + "".join(c if c.isalnum() else "_" for c in identity)
        pki.clients[identity] = leaf(stem, identity, ExtendedKeyUsageOID.CLIENT_AUTH)
    return pki
