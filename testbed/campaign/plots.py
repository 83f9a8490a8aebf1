"""PNG plots of a campaign: stacked phases per scheme, CDF of the interruption, interruption vs AAA RTT."""
from __future__ import annotations

from pathlib import Path

from testbed.campaign.record import HandoverRecord
from testbed.campaign.stats import describe

STACK = [("trigger", "trigger"), ("auth_assoc", "auth + (re)assoc"), ("eap", "EAP"), ("key", "4-way handshake"),
         ("other", "other (waits between phases)"), ("first_data", "first data packet")]
STACK_COLORS = ["#bbbbbb", "#4c72b0", "#dd8452", "#55a868", "#eeeeee", "#8172b3"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _measured(records: list[HandoverRecord]) -> list[HandoverRecord]:
    return [r for r in records if r.status == "measured" and not r.warmup]


def _order(records: list[HandoverRecord], schemes: list[str] | None) -> list[str]:
    seen = {r.scheme for r in records}
    ordered = [s for s in (schemes or []) if s in seen]
    return ordered + sorted(seen - set(ordered))


def _colors(names: list[str]) -> dict[str, object]:
    plt = _plt()
    cmap = plt.get_cmap("tab10")
    return {n: cmap(i % 10) for i, n in enumerate(names)}


def _values(records, key):
    return sorted({r.params.get(key) for r in records if key in r.params})


def _trial_stack(r: HandoverRecord) -> dict[str, float]:
    """The stacked segments of one handover; they add up to command -> first data packet."""
    ev = {k: (r.phases_events.get(k) or 0.0) for k in ("trigger", "auth_assoc", "eap", "key", "first_data")}
    ev["other"] = max(0.0, (r.total_ms or 0.0) - sum(ev[k] for k in ("trigger", "auth_assoc", "eap", "key")))
    return ev


def phases_plot(records: list[HandoverRecord], out: Path, schemes: list[str] | None = None) -> Path | None:
    rs = [r for r in _measured(records) if r.to_first_data_ms() is not None]
    if not rs:
        return None
    plt = _plt()
    rtts, losses = _values(rs, "aaa_rtt_ms"), _values(rs, "serving_loss")
    points = [(a, l) for l in losses for a in rtts]
    names = _order(rs, schemes)
    ncol = min(len(points), 3)
    nrow = (len(points) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(max(8.0, 1.0 + 0.9 * len(names) * ncol), 4.4 * nrow), squeeze=False,
                             sharey=True)
    for ax, (rtt, loss) in zip(axes.flat, points):
        cell = [r for r in rs if r.params.get("aaa_rtt_ms") == rtt and r.params.get("serving_loss") == loss]
        xs = [n for n in names if any(r.scheme == n for r in cell)]
        bottoms = [0.0] * len(xs)
        for (key, label), color in zip(STACK, STACK_COLORS):
            heights = []
            for n in xs:
                vals = [_trial_stack(r)[key] for r in cell if r.scheme == n]
                heights.append(sum(vals) / len(vals))
            heights = [max(0.0, h) for h in heights]  # first data may precede the daemon's CONNECTED line
            ax.bar(range(len(xs)), heights, bottom=bottoms, color=color, edgecolor="#555555", linewidth=0.4,
                   label=label)
            bottoms = [b + h for b, h in zip(bottoms, heights)]
        lo, hi = [], []
        for n, top in zip(xs, bottoms):
            d = describe([r.to_first_data_ms() for r in cell if r.scheme == n])
            lo.append(max(0.0, top - d["p5"]))
            hi.append(max(0.0, d["p95"] - top))
        ax.errorbar(range(len(xs)), bottoms, yerr=[lo, hi], fmt="none", ecolor="black", capsize=4, linewidth=1)
        ax.set_xticks(range(len(xs)))
        ax.set_xticklabels(xs, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"AAA RTT +{rtt:g} ms" + (f", serving loss {loss:g} %" if len(losses) > 1 or loss else ""),
                     fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes.flat[len(points):]:
        ax.axis("off")
    axes[0][0].set_ylabel("ms from the handover command (mean per phase)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(STACK), fontsize=8, frameon=False)
    fig.suptitle("Handover phases on the daemon clock: stacked means from the handover command to the first data "
                 "packet; whiskers p5-p95", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    path = out / "phases.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cdf_plot(records: list[HandoverRecord], out: Path, schemes: list[str] | None = None) -> Path | None:
    rs = [r for r in _measured(records) if r.interruption_ms is not None]
    if not rs:
        return None
    plt = _plt()
    names = _order(rs, schemes)
    colors = _colors(names)
    rtts = _values(rs, "aaa_rtt_ms")
    loss0 = _values(rs, "serving_loss")[0]
    ncol = min(len(rtts), 3)
    nrow = (len(rtts) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.0 * ncol, 3.8 * nrow), squeeze=False, sharex=True, sharey=True)
    for ax, rtt in zip(axes.flat, rtts):
        for n in names:
            xs = sorted(r.interruption_ms for r in rs if r.scheme == n and r.params.get("aaa_rtt_ms") == rtt
                        and r.params.get("serving_loss") == loss0)
            if xs:
                ys = [(i + 1) / len(xs) for i in range(len(xs))]
                ax.step([0.0] + xs, [0.0] + ys, where="post", color=colors[n], label=f"{n} (n={len(xs)})")
        ax.set_title(f"AAA RTT +{rtt:g} ms", fontsize=10)
        ax.set_xlabel("data-plane interruption (ms), longest gap of the UDP probe")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in axes.flat[len(rtts):]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("fraction of handovers")
    fig.suptitle("CDF of the data-plane interruption", fontsize=11)
    fig.tight_layout()
    path = out / "interruption_cdf.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def rtt_plot(records: list[HandoverRecord], out: Path, schemes: list[str] | None = None) -> Path | None:
    rs = _measured(records)
    if not rs:
        return None
    plt = _plt()
    names = _order(rs, schemes)
    colors = _colors(names)
    rtts = _values(rs, "aaa_rtt_ms")
    loss0 = _values(rs, "serving_loss")[0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    dodge = (max(rtts) - min(rtts) or 10) * 0.012  # side by side, so whiskers do not hide each other
    for ax, attr, title in ((axes[0], "interruption_ms", "data-plane interruption (ms)"),
                            (axes[1], "total_ms", "handover time (ms)")):
        for i, n in enumerate(names):
            xs, med, lo, hi = [], [], [], []
            for rtt in rtts:
                d = describe([getattr(r, attr) for r in rs if r.scheme == n and r.params.get("aaa_rtt_ms") == rtt
                              and r.params.get("serving_loss") == loss0])
                if d["n"]:
                    xs.append(rtt + (i - (len(names) - 1) / 2) * dodge)
                    med.append(d["median"])
                    lo.append(d["median"] - d["p5"])
                    hi.append(d["p95"] - d["median"])
            if xs:
                ax.errorbar(xs, med, yerr=[lo, hi], color=colors[n], marker="o", capsize=3, label=n, linewidth=1.5)
        ax.set_xlabel("RTT added between the APs and the AAA server (ms)")
        ax.set_ylabel(f"median {title}")
        ax.set_xticks(rtts)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Data-plane interruption (UDP probe) and handover time (command -> CTRL-EVENT-CONNECTED) vs "
                 "AAA RTT: medians, whiskers p5-p95", fontsize=10)
    fig.tight_layout()
    path = out / "interruption_vs_rtt.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def make_all(records: list[HandoverRecord], out: Path, schemes: list[str] | None = None) -> list[Path]:
    return [p for p in (phases_plot(records, out, schemes), cdf_plot(records, out, schemes),
                        rtt_plot(records, out, schemes)) if p is not None]
