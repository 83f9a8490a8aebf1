"""The ERP build of wpa_supplicant: when setup rebuilds, how a failed build names what is missing, the .config."""
from __future__ import annotations

import json
from pathlib import Path

from testbed import wpabuild
from testbed.wpabuild import build_key, configure, missing_dependency, prefix, rebuild_reason

V = "2:2.10-12+deb12u3"
ERP = {"CONFIG_ERP": "y"}


def _stamp(version: str = V, options: dict[str, str] = ERP) -> str:
    return json.dumps({**build_key(version, options), "built": "2026-12-02T15:10:15+0000", "seconds": 100})


def test_a_fitting_build_is_reused() -> None:
    assert rebuild_reason(_stamp(), True, V, ERP) is None


def test_nothing_built_yet() -> None:
    assert rebuild_reason(None, False, V, ERP) == "not built yet"


def test_a_new_debian_version_rebuilds() -> None:
    why = rebuild_reason(_stamp("2:2.10-12+deb12u2"), True, V, ERP)
    assert why is not None and "deb12u2" in why and V in why


def test_a_changed_option_set_rebuilds() -> None:
    why = rebuild_reason(_stamp(), True, V, {**ERP, "CONFIG_TESTING_OPTIONS": "y"})
    assert why is not None and "CONFIG_TESTING_OPTIONS" in why


def test_a_missing_program_or_broken_record_rebuilds() -> None:
    assert rebuild_reason(_stamp(), False, V, ERP) == "a program is missing or not executable"
    assert rebuild_reason("{not json", True, V, ERP) == "its build record is unreadable"


def test_prefix_differs_per_version_and_option_set_only() -> None:
    root = Path("/opt/x")
    a = prefix(V, ERP, root)
    assert a.parent == root and a.name.startswith("2_2.10-12+deb12u3-")
    assert prefix(V, dict(ERP), root) == a  # same key, same place
    assert prefix(V, {**ERP, "CONFIG_X": "y"}, root) != a
    assert prefix("2:2.10-13", ERP, root) != a


def test_missing_dependency_names_the_package() -> None:
    out = "../src/drivers/driver_nl80211.c:17:10: fatal error: netlink/genl/genl.h: No such file or directory"
    assert missing_dependency(out) == "netlink/genl/genl.h (Debian package libnl-genl-3-dev)"
    assert missing_dependency("/usr/bin/ld: cannot find -lpcsclite: No such file") == \
        "-lpcsclite (Debian package libpcsclite-dev)"
    assert missing_dependency("x.c:1:10: fatal error: openssl/ssl.h: No such file or directory") == \
        "openssl/ssl.h (Debian package libssl-dev)"
    assert missing_dependency("make: cc: No such file or directory\nsh: 1: cc: not found") == "cc"
    assert missing_dependency("x.c:1:10: fatal error: foo/bar.h: No such file or directory") == "foo/bar.h"
    assert missing_dependency("x.c:3: error: expected ';'") is None


def test_configure_adds_the_options_to_debians_config() -> None:
    debian = "CONFIG_DRIVER_NL80211=y\n#CONFIG_ERP=y\nCONFIG_FILS=y\n"
    out = configure(debian, ERP)
    lines = out.splitlines()
    assert lines[0] == "CONFIG_DRIVER_NL80211=y" and "CONFIG_FILS=y" in lines
    assert lines.count("CONFIG_ERP=y") == 1 and "#CONFIG_ERP=y" not in lines


def test_options_are_debians_plus_erp_only() -> None:
    assert wpabuild.OPTIONS == {"CONFIG_ERP": "y"}
