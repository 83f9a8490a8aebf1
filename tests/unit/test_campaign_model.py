"""Campaign files: validation errors with file:line, the shipped campaigns, the schedule."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from testbed.campaign import model
from testbed.campaign.schemes import available

GOOD = """\
name: t
topology: measure-same-ds
schemes: [full_eap_tls, pmksa_cache]
trials: 3
sweep:
  aaa_rtt_ms: [0, 50]
"""


def load_text(tmp_path: Path, text: str) -> model.Campaign:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return model.load(p)[0]


@pytest.mark.parametrize("text, where, words", [
    (GOOD.replace("pmksa_cache", "pmksa_cash"), ":3: schemes:", ["unknown scheme(s) 'pmksa_cash'", "pmksa_cache"]),
    (GOOD.replace("trials: 3", "trials: 0"), ":4: trials:", ["greater than or equal to 1"]),
    (GOOD.replace("[0, 50]", "[0, -5]"), ":6: sweep.aaa_rtt_ms:", ["between 0 and 5000"]),
    (GOOD.replace("[0, 50]", "[0, 0]"), ":6: sweep.aaa_rtt_ms:", ["must not repeat"]),
    (GOOD + "  serving_loss: [100]\n", ":7: sweep.serving_loss:", ["[0, 100)"]),
    (GOOD + "trails: 5\n", ":7: trails:", ["Extra inputs are not permitted"]),
    (GOOD + "order: random\n", ":7: order:", ["interleaved", "sequential"]),
    (GOOD.replace("name: t", "name: a b"), ":1: name:", ["pattern"]),
])
def test_errors_name_file_line_field(tmp_path: Path, text: str, where: str, words: list[str]) -> None:
    with pytest.raises(model.CampaignError) as e:
        load_text(tmp_path, text)
    msg = str(e.value)
    assert msg.startswith(str(tmp_path / "c.yaml") + where), msg
    for w in words:
        assert w in msg


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(model.CampaignError, match=r"c.yaml:3: not valid YAML"):
        load_text(tmp_path, "name: t\nschemes: [a, b\n")
    with pytest.raises(model.CampaignError, match="must be a YAML mapping"):
        load_text(tmp_path, "- 1\n")
    with pytest.raises(model.CampaignError, match="no shipped campaign of that name"):
        model.load("no-such-campaign")


def test_shipped_campaigns_are_valid() -> None:
    quick, _ = model.load("quick")
    full, path = model.load("reproduce")
    assert set(full.schemes) == set(available()), "reproduce runs every scheme"
    assert full.trials >= 20 and {0, 100} <= set(full.sweep.aaa_rtt_ms)
    assert {"full_eap_tls", "pmksa_cache", "rsn_preauth", "ft_eap_air"} <= set(quick.schemes)
    assert model.topology_path(full, path) == "measure-same-ds"


def test_schedule_is_complete_seeded_and_interleaved(tmp_path: Path) -> None:
    c = load_text(tmp_path, GOOD)
    s = model.schedule(c)
    assert len(s) == 2 * 2 * 3
    assert Counter((x.scheme, x.params["aaa_rtt_ms"]) for x in s) == {
        (a, r): 3 for a in ("full_eap_tls", "pmksa_cache") for r in (0, 50)}
    assert s == model.schedule(c), "the same seed gives the same order"
    assert [x.scheme for x in s] != sorted(x.scheme for x in s), "interleaved, not blocked"
    other = model.schedule(c.model_copy(update={"seed": 2}))
    assert other != s and sorted(map(repr, other)) == sorted(map(repr, s))
    seq = model.schedule(c.model_copy(update={"order": "sequential"}))
    assert [x.scheme for x in seq] == ["full_eap_tls"] * 6 + ["pmksa_cache"] * 6
    assert len(model.schedule(c, trials=1)) == 4


def test_every_scheme_is_one_module_with_a_network_key() -> None:
    schemes = available()
    assert {"full_eap_tls", "full_peap", "pmksa_cache", "okc", "rsn_preauth", "ft_eap_air", "ft_eap_ds",
            "erp", "mih_eap", "mih_ll_auth"} <= set(schemes)
    for name, s in schemes.items():
        assert s.name == name and s.title and s.description
    keys = {s.network_key() for s in schemes.values()}
    # TLS with FT/OKC on offer, the same with RSN pre-auth advertised, PEAP, and both MIH modes on their
    # own two-domain topology with the agents, and ERP/FILS on measure-erp (hostapd as ER server)
    assert len(keys) == 5
    assert schemes["mih_eap"].network_key() == schemes["mih_ll_auth"].network_key()
    assert ("topology", "measure-two-domain") in schemes["mih_eap"].network_key()


def test_cli_registers_campaign() -> None:
    from testbed.cli import build_parser

    args = build_parser().parse_args(["campaign", "quick", "--trials", "2", "--runtime", "native"])
    assert (args.file, args.trials, args.runtime) == ("quick", 2, "native")
