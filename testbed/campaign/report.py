"""summary.json, plots, report.md and the summary table of a campaign, from its records alone.

Everything here reads the results directory only, so it also runs on the host after a VM run, or
again later (`mihsec campaign RESULTS_DIR`).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from rich.console import Console
from rich.table import Table

from testbed.campaign import plots, preauth, stats
from testbed.campaign.phases import DISAGREE_ABS_MS, DISAGREE_REL
from testbed.campaign.record import CSV, RECORDS, HandoverRecord, load_records


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _f(v: float | None, digits: int = 0) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _mpp(d: dict, digits: int = 0) -> str:
    """median [p5-p95]"""
    if not d or not d.get("n"):
        return "-"
    if d["n"] == 1:
        return _f(d["median"], digits)
    return f"{_f(d['median'], digits)} [{_f(d['p5'], digits)}-{_f(d['p95'], digits)}]"


def _params(p: dict) -> tuple[str, str]:
    return f"{p.get('aaa_rtt_ms', 0):g}", f"{p.get('serving_loss', 0):g}"


def _scheme_order(meta: dict, summary: dict) -> list[str]:
    names = list(meta.get("campaign", {}).get("schemes", []))
    return names + sorted({c["scheme"] for c in summary["cells"]} - set(names))


def _sorted_cells(summary: dict, order: list[str]) -> list[dict]:
    return sorted(summary["cells"], key=lambda c: (order.index(c["scheme"]) if c["scheme"] in order else 99,
                                                   c["params"].get("serving_loss", 0), c["params"].get("aaa_rtt_ms", 0)))


def _slope(pts: list[tuple[float, float]]) -> float | None:
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return None if den == 0 else sum((x - mx) * (y - my) for x, y in pts) / den


def _capture_drops(results: Path) -> dict[str, str]:
    out = {}
    for log in sorted(results.glob("net-*/logs/tcpdump.log")):
        text = log.read_text(errors="replace")
        got = re.search(r"(\d+) packets captured", text)
        lost = re.search(r"(\d+) packets dropped by kernel", text)
        if got and lost:
            out[log.parent.parent.name] = f"{got.group(1)} frames captured, {lost.group(1)} dropped by the kernel"
    return out


def finalize(results: Path, console: Console | None = None) -> dict:
    records = load_records(results)
    meta, env, run = _read(results / "campaign.json"), _read(results / "environment.json"), _read(results / "run.json")
    summary = stats.summarise(records)
    summary["campaign"] = meta.get("campaign", {}).get("name", results.name)
    summary["interrupted"] = run.get("interrupted", not run)
    summary["wall_s"] = run.get("wall_s")
    (results / "summary.json").write_text(json.dumps(summary, indent=1))
    order = _scheme_order(meta, summary)
    pngs = plots.make_all(records, results, order)
    write_report(results, summary, records, meta, env, run, pngs)
    print_table(summary, order, results, console)
    return summary


def print_table(summary: dict, order: list[str], results: Path, console: Console | None = None) -> None:
    console = console or Console(width=max(Console().width, 120))
    t = Table(title=f"campaign {summary['campaign']}: medians [p5-p95], ms")
    for col in ("scheme", "AAA RTT", "loss %", "n", "handover", "interruption", "lost", "EAP frames", "pre-auth",
                "clock >5%"):
        t.add_column(col, justify="left" if col == "scheme" else "right")
    for c in _sorted_cells(summary, order):
        rtt, loss = _params(c["params"])
        dis = sum(c["disagreements"].values())
        t.add_row(c["scheme"], rtt, loss, f"{c['n']}" + (f" ({c['failed']} failed)" if c["failed"] else ""),
                  _mpp(c["handover_ms"]), _mpp(c["interruption_ms"]), _f(c["lost_packets"]["median"]),
                  _f(c["eap_frames"]["median"]), _mpp(c.get("prep_ms", {})), str(dis))
    console.print(t)
    for name, why in summary["unsupported"].items():
        console.print(f"{name}: unsupported: {why}")
    state = "INTERRUPTED, partial results" if summary["interrupted"] else "complete"
    wall = f", {summary['wall_s'] / 60:.1f} min" if summary.get("wall_s") else ""
    console.print(f"{summary['measured']} handovers measured, {summary['failed']} failed ({state}{wall})")
    console.print(f"results: {results}  (report.md, {CSV}, summary.json, *.png)")


def write_report(results: Path, summary: dict, records: list[HandoverRecord], meta: dict, env: dict, run: dict,
                 pngs: list[Path]) -> Path:
    c = meta.get("campaign", {})
    order = _scheme_order(meta, summary)
    cells = _sorted_cells(summary, order)
    from testbed.campaign.schemes import available

    known = available()
    L: list[str] = []
    started = env.get("started")
    when = dt.datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M") if started else "?"
    L.append(f"# Handover campaign `{summary['campaign']}`")
    L.append("")
    if c.get("description"):
        L += [c["description"].strip(), ""]
    status = "**interrupted: partial results**" if summary["interrupted"] else "complete"
    wall = f"{run['wall_s'] / 60:.1f} min wall time" if run.get("wall_s") else "wall time unknown"
    L.append(f"{summary['measured']} handovers measured, {summary['failed']} failed; {status}; {wall}; "
             f"run {when} (clock of the machine that ran the radios).")
    L.append("")
    L.append("## Result")
    L.append("")
    L.append("Medians with [p5-p95] in ms; *n* measured handovers per cell (warm-ups excluded); mean ± 95 % CI "
             "and CV of the interruption.")
    L.append("")
    L.append("| scheme | AAA RTT +ms | serving loss % | n | handover (command → connected) | interruption | "
             "interruption mean ± CI95 | CV | lost pkts | EAP frames | plaintext frames | failed |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for x in cells:
        rtt, loss = _params(x["params"])
        i = x["interruption_ms"]
        ci = f"{_f(i['mean'])} ± {_f(i['ci95'])}" if i.get("ci95") is not None else _f(i.get("mean"))
        clear = x.get("cleartext_data", {})
        L.append(f"| {x['scheme']} | {rtt} | {loss} | {x['n']} | {_mpp(x['handover_ms'])} | {_mpp(i)} | {ci} | "
                 f"{_f(i.get('cv'), 2)} | {_f(x['lost_packets']['median'])} | {_f(x['eap_frames']['median'])} | "
                 f"{_f(clear.get('max'))} | {x['failed']} |")
    for name, why in summary["unsupported"].items():
        L.append(f"| {name} | | | 0 | unsupported | | | | | | | |")
    L.append("")
    for name, why in summary["unsupported"].items():
        L.append(f"- **{name} is unsupported here**: {why}. Nothing was measured under its name.")
    L.append("")
    L.append("*EAP frames*: on the air between the station and the target during the handover (median). *Plaintext "
             "frames*: the most unencrypted non-EAPOL data frames to or from the station seen on the air in one "
             "handover of the cell (0 is right).")
    leaks = [x for x in cells if (x.get("cleartext_data", {}).get("max") or 0) > 0]
    if leaks:
        L.append("")
        L.append("**Plaintext on the air**: in " + ", ".join(f"{x['scheme']} (+{_params(x['params'])[0]} ms)" for x in
                 leaks) + " some data frames to the station (probe packets) were sent unencrypted by an AP; "
                 "`cleartext_data` in handovers.csv says which handovers, `t_cmd` finds them in the pcap.")
    errs = [(x["scheme"], e) for x in cells for e in x["errors"]]
    if errs:
        L.append("")
        L.append("Failed handovers (kept in handovers.csv with status=failed, left out of the statistics):")
        L.append("")
        for s, e in sorted(set(errs))[:15]:
            L.append(f"- {s}: {e}")
    L.append("")
    rtts = sorted({x["params"].get("aaa_rtt_ms", 0) for x in cells})
    loss0 = min((x["params"].get("serving_loss", 0) for x in cells), default=0)
    if len(rtts) > 1:
        L.append("### Median interruption (ms) by added AAA RTT")
        L.append("")
        L.append("| scheme | " + " | ".join(f"+{r:g} ms" for r in rtts) + " | growth per +100 ms |")
        L.append("|---|" + "---:|" * (len(rtts) + 1))
        for name in order:
            row = {x["params"].get("aaa_rtt_ms", 0): x for x in cells
                   if x["scheme"] == name and x["params"].get("serving_loss", 0) == loss0}
            if not row:
                continue
            vals = [row[r]["interruption_ms"]["median"] if r in row else None for r in rtts]
            pts = [(r, v) for r, v in zip(rtts, vals) if v is not None]
            slope = _slope(pts)
            L.append(f"| {name} | " + " | ".join(_f(v) for v in vals) + f" | {'-' if slope is None else f'{slope * 100:+.0f}'} |")
        L.append("")
        L.append("*Growth*: least-squares slope of the medians, ms per +100 ms of AAA RTT (a full EAP pays the RTT "
                 "once per round trip to the AAA server; cached keys, pre-authentication and FT should stay flat).")
        L.append("")
    L += preauth.report_lines(summary.get("preauth", []))
    L.append("## Phases on two clocks")
    L.append("")
    L.append("Median ms per phase, daemon clock (wpa_supplicant `-t` log) / packet clock (hwsim0 capture); "
             f"*clock >5 %*: handovers in which a phase's two clocks differ by more than {DISAGREE_REL:.0%} "
             f"(and more than {DISAGREE_ABS_MS:g} ms), by phase.")
    L.append("")
    L.append("| scheme | AAA RTT | trigger | auth + assoc | EAP | 4-way | first data | prep (untimed) | clock >5 % |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for x in cells:
        rtt, _ = _params(x["params"])
        ev, pc = x["phases_events"], x["phases_pcap"]
        both = lambda p: f"{_f(ev[p]['median'], 1)} / {_f(pc[p]['median'], 1)}"  # noqa: E731
        dis = ", ".join(f"{k} {v}/{x['n']}" for k, v in sorted(x["disagreements"].items())) or "none"
        L.append(f"| {x['scheme']} | {rtt} | {_f(ev['trigger']['median'], 1)} | {both('auth_assoc')} | {both('eap')} | "
                 f"{both('key')} | {both('first_data')} | {_f(x['prep_ms']['median'])} | {dis} |")
    L.append("")
    for p in pngs:
        L.append(f"![{p.stem}]({p.name})")
        L.append("")
    L.append("## Method")
    L.append("")
    L.append(f"- Topology `{c.get('topology', '?')}`: two APs (channels 1 and 6, one SSID) on one DS bridge, "
             "FreeRADIUS and a correspondent host behind it; real `mac80211_hwsim` radios, hostapd, "
             "wpa_supplicant and FreeRADIUS in network namespaces.")
    if any(k.startswith("net-measure-two-domain") for k in meta.get("networks", {})):
        L.append("- MIH pre-authentication schemes run on topology `measure-two-domain`: two WLAN domains (SSIDs "
                 "mihsec-a and mihsec-b, separate DS bridges joined by IP routers, a PoS each), so 802.11 "
                 "pre-authentication cannot reach the target; the MN agent finds the target's PoS through the "
                 "information service and pre-authenticates through the serving AP. The station keeps its "
                 "domain-a address (no IP mobility here); the correspondent has a leg in each domain and sends "
                 "the probe through both, as a mobility anchor bicasting during a handover would, so the "
                 "interruption is the link-layer handover alone. Its handover command is a pinned BSSID plus a "
                 "scan of the target's channel (`scan` phase): ROAM cannot move a station whose network block "
                 "spans two ESSs. Every trial starts at the domain-a AP.")
    sweep = c.get("sweep", {})
    L.append(f"- {meta.get('trials', c.get('trials'))} trials per scheme and parameter point, "
             f"{c.get('warmup', 0)} warm-up handover(s) per scheme first; order {c.get('order')} (seed "
             f"{c.get('seed')}); AAA RTT + {', '.join(f'{v:g}' for v in sweep.get('aaa_rtt_ms', []))} ms; serving "
             f"loss {', '.join(f'{v:g}' for v in sweep.get('serving_loss', []))} %. "
             "Schemes needing the same network share one, interleaved; networks: "
             + "; ".join(f"`{k}` ({', '.join(v)})" for k, v in meta.get("networks", {}).items()) + ".")
    L.append("- Each trial: the station is associated with one AP (reconnected with full EAP and all caches "
             "flushed only when its AKM changes or its state is unknown); the scheme prepares (untimed: cache "
             "flushes, pre-authentication, key pushes); the target's channel is scanned beforehand, so no scan "
             "is inside the handover (`scan` phase empty); the UDP probe runs; the harness sends the handover "
             "command; the handover ends at CTRL-EVENT-CONNECTED.")
    L.append("- Phases. Daemon clock: *trigger* = command → `SME: Trying to authenticate`; *auth + assoc* → "
             "`Associated with`; *EAP* = CTRL-EVENT-EAP-STARTED → -SUCCESS; *4-way* = EAP success (or "
             "association) → `WPA: Key negotiation completed`; *first data* = CTRL-EVENT-CONNECTED → first probe "
             "packet received after the association (kernel receive timestamp; negative when data got through "
             "before the daemon logged the connection). Packet clock: first Authentication (or FT Action) frame → "
             "(Re)Association Response; first EAP frame → EAP-Success; EAP-Success (or association response) → "
             "EAPOL-Key message 4; message 4 (or association response) → first protected data frame to the "
             "station. The daemon logs the start of authentication before the station has tuned to the target's "
             "channel, so *auth + assoc* is systematically longer on the daemon clock.")
    L.append(f"- Data plane: UDP from the correspondent to the station at {c.get('probe', {}).get('rate', 200):g} "
             "packets/s, sequence-numbered and time-stamped; interruption = longest gap between consecutive "
             "arrivals; lost = sent − received.")
    L.append("- AAA RTT: tc netem delay on the egress of the AAA server's link (its replies leave late by the "
             "added RTT), from before the scheme's preparation to the end of the handover. Serving loss: netem loss "
             "on the data path (qdisc) of the serving AP's and the station's radio interfaces; management frames and "
             "EAPOL frames sent over nl80211's control port bypass it.")
    if c.get("forget_station", True):
        L.append("- After each handover the AP the station left drops it at once (hostapd `DEAUTHENTICATE <sta> "
                 "tx=0`, nothing on the air), as its inactivity check would later: mac80211 roams without "
                 "deauthenticating, and hostapd ignores RSN pre-authentication from a station it still lists as "
                 "associated.")
    for name in order:
        if name in known:
            L.append(f"- **{name}**: {known[name].description}.")
    L.append(f"- Daemon log level while measuring: {c.get('daemon_log', 'info')} (debug logging slows hostapd "
             "down enough under TCG that stations retransmit (re)association requests).")
    L.append("")
    L.append("## Environment")
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    L.append(f"| runtime | {env.get('runtime', '?')} |")
    L.append(f"| kernel | {env.get('kernel', '?')} |")
    L.append(f"| CPU | {env.get('cpu', '?')} x {env.get('cpus', '?')} |")
    L.append(f"| Debian | {env.get('debian', '?')} |")
    for k, v in env.get("packages", {}).items():
        L.append(f"| {k} | {v} |")
    L.append(f"| Python | {env.get('python', '?')} |")
    L.append("")
    if "TCG" in str(env.get("runtime", "")):
        L.append("Under TCG (software CPU emulation) every daemon runs several times slower than on hardware and "
                 "the host's other load shows up as noise: absolute durations are not those of real equipment; "
                 "differences and ratios between schemes measured interleaved in one run are what carries over.")
        L.append("")
    drops = _capture_drops(results)
    incomplete = [r for r in records if r.capture.startswith("incomplete")]
    if incomplete:
        L.append(f"Capture incomplete for {len(incomplete)} handover(s): their packet-clock phases and frame counts "
                 "are left empty (daemon clock and probe figures stand): "
                 + "; ".join(f"{r.scheme} trial {r.trial}: {r.capture.removeprefix('incomplete: ')}"
                             for r in incomplete[:5]) + ("; ..." if len(incomplete) > 5 else "") + ".")
        L.append("")
    if drops:
        L.append("Capture: " + "; ".join(f"`{k}` {v}" for k, v in drops.items()) + " (tcpdump's own count; a frame "
                 "missing from the capture leaves that phase empty on the packet clock).")
        L.append("")
    L.append("## Files")
    L.append("")
    L.append(f"`{CSV}` (one row per handover, both clocks), `{RECORDS}` (the same, lossless), `summary.json`, "
             "the plots, `campaign.json` (the campaign as run), `environment.json`, and per network "
             "`net-*/hwsim0.pcap` (every frame on the medium; opens in Wireshark) and `net-*/logs/`; `t_cmd` "
             "in the CSV locates each handover in them.")
    path = results / "report.md"
    path.write_text("\n".join(L) + "\n")
    return path
