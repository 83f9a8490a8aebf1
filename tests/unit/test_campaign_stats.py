"""Statistics, summary, plots and report on synthetic records (no radios)."""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from testbed.campaign import report, stats
from testbed.campaign.record import PHASES, HandoverRecord, csv_columns, csv_row
from testbed.campaign.record import PARAMS, Writers, load_records


def test_describe_known_values() -> None:
    d = stats.describe([10, 20, 30, 40, 50])
    assert (d["n"], d["median"], d["mean"], d["min"], d["max"]) == (5, 30, 30, 10, 50)
    assert d["p5"] == pytest.approx(12.0) and d["p95"] == pytest.approx(48.0)  # linear interpolation
    sd = math.sqrt(250)
    assert d["sd"] == pytest.approx(sd, abs=1e-3)
    assert d["ci95"] == pytest.approx(2.776 * sd / math.sqrt(5), abs=1e-3)  # Student t, 4 df
    assert d["cv"] == pytest.approx(sd / 30, abs=1e-3)
    one = stats.describe([7.0, None])
    assert (one["n"], one["median"], one["sd"], one["ci95"]) == (1, 7.0, None, None)
    assert stats.describe([])["median"] is None
    assert stats.t95(100) == pytest.approx(1.984, abs=0.003)


def rec(scheme: str, trial: int, rtt: float, total: float, **kw) -> HandoverRecord:
    ev = {p: None for p in PHASES}
    ev.update(trigger=2.0, auth_assoc=40.0, key=20.0 if "ft" not in scheme else None, first_data=5.0,
              eap=total - 70.0 if scheme.startswith("full") else None)
    r = HandoverRecord("synthetic", scheme, trial, {"aaa_rtt_ms": rtt, "serving_loss": 0.0}, "ap1", "ap2",
                       phases_events=ev, phases_pcap=dict(ev), total_ms=total, interruption_ms=total + 10,
                       lost_packets=int(total / 5), eap_on_air=11 if scheme.startswith("full") else 0, t_cmd=1.0)
    for k, v in kw.items():
        setattr(r, k, v)
    return r


def synthetic() -> list[HandoverRecord]:
    rnd = random.Random(4)
    out = []
    for rtt in (0, 100):
        for i in range(1, 7):
            out.append(rec("full_eap_tls", i, rtt, 300 + 5 * rtt + rnd.uniform(-20, 20)))
            out.append(rec("pmksa_cache", i, rtt, 110 + rnd.uniform(-10, 10)))
            out.append(rec("ft_eap_air", i, rtt, 90 + rnd.uniform(-10, 10)))
    out.append(rec("full_eap_tls", 0, 0, 5000, warmup=True))
    out.append(rec("pmksa_cache", 7, 0, 99999, status="failed", ok=False, error="ROAM answered 'FAIL'"))
    out.append(HandoverRecord("synthetic", "erp", 0, {}, "", "", ok=False, status="unsupported",
                              error="no ERP peer"))
    return out


def test_summary_groups_and_excludes() -> None:
    s = stats.summarise(synthetic())
    full0 = stats.cell(s, "full_eap_tls", aaa_rtt_ms=0)
    assert full0["n"] == 6 and full0["handover_ms"]["max"] < 400, "the warm-up (5000 ms) is left out"
    pm0 = stats.cell(s, "pmksa_cache", aaa_rtt_ms=0)
    assert (pm0["n"], pm0["failed"], pm0["errors"]) == (6, 1, ["ROAM answered 'FAIL'"])
    assert s["unsupported"] == {"erp": "no ERP peer"}
    assert (s["measured"], s["failed"]) == (36, 1)
    assert stats.cell(s, "full_eap_tls", aaa_rtt_ms=100)["handover_ms"]["median"] > 700
    assert full0["phases_events"]["eap"]["n"] == 6 and pm0["phases_events"]["eap"]["n"] == 0
    json.dumps(s)  # serialisable as summary.json


def test_finalize_writes_csv_summary_plots_report(tmp_path: Path) -> None:
    w = Writers(tmp_path).open()
    for r in synthetic():
        w.write(r)
    w.close()
    (tmp_path / "records.jsonl").open("a").write('{"campaign": "cut sho')  # a line cut by a kill
    assert len(load_records(tmp_path)) == len(synthetic())
    (tmp_path / "campaign.json").write_text(json.dumps({"campaign": {"name": "synthetic", "schemes": [
        "full_eap_tls", "pmksa_cache", "ft_eap_air", "erp"], "topology": "measure-same-ds", "trials": 6,
        "sweep": {"aaa_rtt_ms": [0, 100], "serving_loss": [0]}}, "networks": {"net-base": ["full_eap_tls"]}}))
    (tmp_path / "environment.json").write_text(json.dumps({"kernel": "6.1.0-test", "runtime": "VM (TCG)",
                                                           "packages": {"hostapd": "2:2.10-12"}, "started": 0}))
    (tmp_path / "run.json").write_text(json.dumps({"interrupted": False, "wall_s": 600}))
    summary = report.finalize(tmp_path)
    assert summary["measured"] == 36
    for name in ("summary.json", "report.md", "handovers.csv", "phases.png", "interruption_cdf.png",
                 "interruption_vs_rtt.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (tmp_path / "report.md").read_text()
    for words in ("| full_eap_tls | 100 | 0 | 6 |", "erp is unsupported here", "no ERP peer", "6.1.0-test",
                  "hostapd | 2:2.10-12", "Under TCG", "![phases](phases.png)", "ROAM answered 'FAIL'"):
        assert words in md, words
    rows = (tmp_path / "handovers.csv").read_text().splitlines()
    assert rows[0].split(",") == csv_columns(PARAMS) and len(rows) == 1 + len(synthetic())


def test_csv_row_flattens_params_and_phases() -> None:
    r = rec("full_eap_tls", 1, 50, 500.0, disagreements=["eap: 1 vs 2 ms"], key_msgs=[1, 2, 3, 4])
    row = csv_row(r, PARAMS)
    assert (row["aaa_rtt_ms"], row["ev_eap_ms"], row["pcap_scan_ms"], row["key_msgs"], row["disagreements"]) == (
        50, 430.0, "", "1 2 3 4", "eap: 1 vs 2 ms")
    assert r.to_first_data_ms() == 505.0
