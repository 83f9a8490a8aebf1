"""FreeRADIUS wrapper against a real daemon on loopback, driven by eapol_test (EAP-TLS, PEAP/MSCHAPv2)."""
from __future__ import annotations

import re
import shutil
import socket
import stat
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from testbed.daemons.freeradius import Decision, FreeRadius
from testbed.errors import DaemonError
from testbed.pki import Pki, generate
from testbed.render import render_to

pytestmark = pytest.mark.skipif(not (shutil.which("freeradius") and shutil.which("eapol_test")),
                                reason="needs freeradius and eapol_test (make setup)")

SECRET = "s3cr'et%{x}$"  # quote and expansion characters must reach FreeRADIUS literally
PASSWORD = "pa'ss\"%{User-Name}\\"
SERVER = "aaa.test"
USERS = [("alice", "TLS", None), ("carol", "TLS", None), ("bob", "PEAP", PASSWORD)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server(conf: Path, pki: Pki, **kw: object) -> FreeRadius:
    rad = FreeRadius("freeradius test", conf, **kw)  # type: ignore[arg-type]
    rad.render([("ap1", "127.0.0.0/8", SECRET)], USERS, pki, "127.0.0.1", _free_port(), _free_port())
    return rad


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return generate(tmp_path_factory.mktemp("pki"), SERVER, ["alice", "carol"])


@pytest.fixture(scope="module")
def rad(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeRadius]:
    server = _server(tmp_path_factory.mktemp("radius") / "conf", pki)
    try:
        server.start(timeout=20)
        yield server
    finally:
        server.stop()


def _eapol(rad: FreeRadius, pki: Pki, tmp: Path, method: str, identity: str, *, password: str | None = None,
           cert_of: str | None = None, mac: str = "02:00:00:00:00:01") -> subprocess.CompletedProcess[str]:
    cert, key = pki.clients[cert_of or identity] if method == "TLS" else (None, None)
    conf = render_to("eapol_test.conf.j2", tmp / f"eapol-{method}-{identity}.conf", method=method, identity=identity,
                     ca_cert=pki.ca_cert, server_name=SERVER, client_cert=cert, client_key=key, password=password)
    argv = ["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(rad.auth_port), "-s", SECRET,
            "-r", "0", "-t", "20", "-M", mac]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def _decision(rad: FreeRadius, mac: str) -> Decision:
    station = mac.replace(":", "-").upper()
    mine = [d for d in rad.accepts() if d.station.upper() == station]
    assert len(mine) == 1, rad.accepts()
    return mine[0]


def test_eap_tls_accept(rad: FreeRadius, pki: Pki, tmp_path: Path) -> None:
    r = _eapol(rad, pki, tmp_path, "TLS", "alice", mac="02:00:00:00:01:01")
    assert r.returncode == 0, r.stdout[-2000:]
    assert "MPPE keys OK: 1" in r.stdout
    assert _decision(rad, "02:00:00:00:01:01") == Decision("Access-Accept", "alice", "127.0.0.1", "02-00-00-00-01-01")
    assert "Access-Accept user=alice client=127.0.0.1 station=02-00-00-00-01-01" in rad.accept_log.read_text()


def test_peap_mschapv2_accept(rad: FreeRadius, pki: Pki, tmp_path: Path) -> None:
    r = _eapol(rad, pki, tmp_path, "PEAP", "bob", password=PASSWORD, mac="02:00:00:00:02:01")
    assert r.returncode == 0, r.stdout[-2000:]
    assert _decision(rad, "02:00:00:00:02:01").accepted


def test_wrong_password_rejected(rad: FreeRadius, pki: Pki, tmp_path: Path) -> None:
    r = _eapol(rad, pki, tmp_path, "PEAP", "bob", password="wrong", mac="02:00:00:00:03:01")
    assert r.returncode != 0
    assert _decision(rad, "02:00:00:00:03:01") == Decision("Access-Reject", "bob", "127.0.0.1", "02-00-00-00-03-01")


@pytest.mark.parametrize("identity, method, cert_of", [
    ("carol", "TLS", "alice"),  # check_cert_cn: the certificate belongs to someone else
    ("bob", "TLS", "alice"),  # bob must use PEAP: the server refuses his NAK to TLS
])
def test_identity_and_method_enforced(rad: FreeRadius, pki: Pki, tmp_path: Path, identity: str, method: str,
                                      cert_of: str) -> None:
    mac = f"02:00:00:00:04:0{1 if identity == 'carol' else 2}"
    assert _eapol(rad, pki, tmp_path, method, identity, cert_of=cert_of, mac=mac).returncode != 0
    assert not _decision(rad, mac).accepted


def _keys(eapol_stdout: str) -> list[str]:
    """The MSK halves eapol_test received as MS-MPPE keys, as hex."""
    found = re.findall(r"MS-MPPE-(?:Send|Recv)-Key \(\w+\) - hexdump\(len=\d+\): ([0-9a-f ]+)", eapol_stdout)
    return [h.strip().replace(" ", "") for h in found]


def test_logs_hold_no_secrets(rad: FreeRadius, pki: Pki, tmp_path: Path) -> None:
    keys = []
    for method, identity, pw, mac in [("TLS", "alice", None, "02:00:00:00:05:01"),
                                      ("PEAP", "bob", PASSWORD, "02:00:00:00:05:02")]:
        r = _eapol(rad, pki, tmp_path, method, identity, password=pw, mac=mac)
        assert r.returncode == 0, r.stdout[-2000:]
        keys += _keys(r.stdout)
    assert len(keys) == 4 and all(len(k) == 64 for k in keys)
    for log in (rad.log, rad.accept_log):
        text = log.read_text()
        squashed = re.sub(r"[^0-9a-f]", "", text.lower())  # catches keys printed with any separators
        assert PASSWORD not in text and SECRET not in text, log
        assert not any(k in squashed for k in keys), f"MSK material in {log}"


def test_secret_files_are_private(rad: FreeRadius) -> None:
    for p in [*rad.conf_dir.iterdir(), rad.log, rad.accept_log]:
        if p.is_file():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert stat.S_IMODE(rad.conf_dir.stat().st_mode) == 0o700
    assert "s3cr" in (rad.conf_dir / "clients.conf").read_text()
    assert "pa\\'ss" in (rad.conf_dir / "inner_users").read_text()


@pytest.mark.parametrize("verbose", [False, True])
@pytest.mark.parametrize("breakage, cause", [
    # radiusd.conf itself: fails before the log section is read (why we run with -l stdout)
    (("radiusd.conf", "$INCLUDE clients.conf", "$INCLUDE nothere.conf"), r'Unable to open file ".*nothere\.conf"'),
    (("users", '"alice"\tEAP-Type := TLS', '"alice"\tNo-Such-Attr := 1'), r'Parse error .* Unknown name "No-Such-Attr"'),
    (("eap.conf", "server.pem", "missing.pem"), r'Unable to check file ".*missing\.pem"'),
])
def test_broken_config_names_cause(pki: Pki, tmp_path: Path, breakage: tuple[str, str, str], cause: str,
                                   verbose: bool) -> None:
    server = _server(tmp_path / "conf", pki, verbose=verbose)
    name, old, new = breakage
    path = server.conf_dir / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    try:
        with pytest.raises(DaemonError) as err:
            server.start(timeout=10)
    finally:
        server.stop()
    assert re.search(cause, str(err.value)), str(err.value)
    assert str(server.log) in str(err.value) and " : Error: " not in str(err.value)


def test_verbose_debug_mode(pki: Pki, tmp_path: Path) -> None:
    """-X logs the MPPE keys: proves the leak check above can see them, and why the log is 0600."""
    server = _server(tmp_path / "conf", pki, verbose=True)
    try:
        server.start(timeout=20)
        assert int(server.pid_file.read_text()) == server.proc.pid  # type: ignore[union-attr]
        r = _eapol(server, pki, tmp_path, "PEAP", "bob", password=PASSWORD)
    finally:
        server.stop()
    assert r.returncode == 0 and server.argv[:2] == ["freeradius", "-X"]
    squashed = re.sub(r"[^0-9a-f]", "", server.log.read_text().lower())
    assert _keys(r.stdout) and all(k in squashed for k in _keys(r.stdout))
    assert stat.S_IMODE(server.log.stat().st_mode) == 0o600
    assert not server.running
