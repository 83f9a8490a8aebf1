"""ERP and FILS in topology files, plans, rendered configs and the scheme modules (no daemons)."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from testbed import erp, topology
from testbed.campaign.schemes import available
from testbed.campaign.schemes._erp import ErpScheme
from testbed.daemons.erserver import ErServer
from testbed.errors import TopologyError
from testbed.pki import generate
from testbed.plan import make_plan
from testbed.render import render_text

GOOD = (Path(__file__).parents[2] / "topologies" / "measure-erp.yaml").read_text()


def _load(tmp_path: Path, text: str) -> topology.Topology:
    p = tmp_path / "t.yaml"
    p.write_text(text)
    return topology.load(p)


def test_measure_erp_plans_an_er_server_and_erp_stations(tmp_path: Path) -> None:
    plan = make_plan(topology.load("measure-erp"))
    aaa = plan.aaa[0]
    assert erp.server_kind(plan, aaa) == "hostapd-erp" and erp.erp_domain(plan, aaa) == "mihsec.test"
    sta = plan.station("sta1")
    assert erp.needs_erp(sta)
    ap = render_text("hostapd.conf.j2", ap=plan.aps[0], driver="nl80211", ctrl_dir="/c", verbose=False,
                     radius_port=1812, radius_secret="s", extra_lines=[], country=None)
    for line in ("wpa_key_mgmt=WPA-EAP FILS-SHA256", "erp_domain=mihsec.test", "erp_send_reauth_start=1",
                 "fils_realm=mihsec.test", "fils_dh_group=19", "disable_pmksa_caching=1"):
        assert line in ap.splitlines(), line
    pki = generate(tmp_path / "pki", "aaa", [])
    conf = render_text("wpa_supplicant.conf.j2", sta=sta, ctrl_dir="/c", pki=pki, client_cert="c", client_key="k",
                       extra_lines=[])
    assert "\terp=1" in conf.splitlines() and "\teap=TLS" in conf.splitlines()


def test_other_topologies_render_no_erp() -> None:
    plan = make_plan(topology.load("measure-same-ds"))
    assert erp.server_kind(plan, plan.aaa[0]) == "freeradius"
    assert erp.supplicant_exe(plan.station("sta1")) == "wpa_supplicant"
    ap = render_text("hostapd.conf.j2", ap=plan.aps[0], driver="nl80211", ctrl_dir="/c", verbose=False,
                     radius_port=1812, radius_secret="s", extra_lines=[], country=None)
    assert "FILS" not in ap and "erp_" not in ap


@pytest.mark.parametrize("old,new,expect", [
    ("server: hostapd-erp", "server: freeradius",
     r"security\.corp-erp\.erp_domain: ERP needs an ER server: AAA node 'aaa' runs freeradius"),
    ("identity: sta1@mihsec.test", "identity: sta1@other.test",
     r"nodes\.sta1\.wireless\.0\.identity: ERP takes its realm from the identity: 'sta1@other\.test' must end "
     r"in @mihsec\.test"),
    ("    erp_domain: mihsec.test\n", "",
     r"nodes\.aaa\.server: a hostapd-erp server needs a security profile with erp_domain"),
    ("server: hostapd-erp", "server: radiator", r"nodes\.aaa\.server: Input should be 'freeradius' or 'hostapd-erp'"),
])
def test_erp_topology_errors(tmp_path: Path, old: str, new: str, expect: str) -> None:
    assert old in GOOD
    with pytest.raises(TopologyError, match=expect):
        _load(tmp_path, GOOD.replace(old, new, 1))


def test_er_server_config_files(tmp_path: Path) -> None:
    pki = generate(tmp_path / "pki", "aaa.erp.test", ["a@erp.test"])
    srv = ErServer("hostapd-erp aaa", tmp_path / "as", tmp_path / "as.log", netns=None, local_dir=tmp_path)
    files = srv.render([("ap1", "10.0.0.1/32", "sec-ret")], ["a@erp.test"], pki, "erp.test", auth_port=18128)
    conf = (tmp_path / "as" / "hostapd-as.conf").read_text().splitlines()
    for line in ("driver=none", "eap_server=1", "eap_server_erp=1", "erp_domain=erp.test",
                 "radius_server_auth_port=18128", "tls_flags=[DISABLE-TLSv1.3]"):
        assert line in conf, line
    assert "10.0.0.1/32 sec-ret" in (tmp_path / "as" / "clients").read_text().splitlines()
    assert '"a@erp.test" TLS' in (tmp_path / "as" / "eap_user").read_text().splitlines()
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    with pytest.raises(ValueError, match="not of the ERP realm @erp.test"):
        srv.render([("ap1", "10.0.0.1/32", "s")], ["b@other.test"], pki, "erp.test")
    with pytest.raises(ValueError, match="without white space"):
        srv.render([("ap1", "10.0.0.1/32", "a b")], ["a@erp.test"], pki, "erp.test")


def test_erp_schemes_share_one_network_of_their_own() -> None:
    schemes = available()
    ours = [schemes[n] for n in ("erp", "fils_sk", "fils_sk_pfs")]
    assert all(isinstance(s, ErpScheme) and s.topology == "measure-erp" for s in ours)
    assert len({s.network_key() for s in ours}) == 1
    assert schemes["full_eap_tls"].network_key() != ours[0].network_key()
    erp_, fils, pfs = ours
    assert (erp_.key_mgmt, fils.key_mgmt, pfs.key_mgmt) == ("WPA-EAP", "FILS-SHA256", "FILS-SHA256")
    assert (fils.fils_dh_group, pfs.fils_dh_group) == (0, 19)
    assert (fils.auth_alg, pfs.auth_alg) == (4, 5)
    assert erp_.expect_4way is True and fils.expect_4way is False and fils.expect_eap is False
